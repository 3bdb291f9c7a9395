//! cargo-lambda's Lambda runtime emulator, to run a server binary as a Lambda function.

use std::{path::PathBuf, time::Duration};

use crate::proc::{Proc, free_port, spawn_server};

/// The emulator venv's `bin` directory (`localstack/install.sh` puts cargo-lambda there).
pub fn emulator_venv_bin() -> PathBuf {
    let home = std::env::var_os("AWS_MCP_EMULATOR_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".cache/aws-mcp-emulators")
        });
    home.join("venv/bin")
}

/// A `PATH` under which `cargo lambda` resolves: the emulator venv first, then the inherited
/// `PATH`. Panics with installation instructions when `cargo-lambda` is in neither.
pub fn cargo_lambda_path() -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::iter::once(emulator_venv_bin())
        .chain(std::env::split_paths(&inherited))
        .collect();
    if !dirs.iter().any(|d| d.join("cargo-lambda").is_file()) {
        panic!(
            "cargo-lambda was not found (looked in {} and on PATH). The Lambda transport tests run the server \
             under cargo-lambda's Lambda runtime emulator: install it with `localstack/install.sh --with-cargo-lambda` \
             (pip-installs cargo-lambda into the emulator venv), or put a `cargo-lambda` binary on PATH.",
            emulator_venv_bin().display()
        );
    }
    std::env::join_paths(dirs).expect("PATH")
}

/// cargo-lambda's Lambda emulator, `cargo lambda watch --only-lambda-apis`, on a free loopback
/// port: it serves the runtime API (`/.rt`), function URLs (`/lambda-url/<name>/...`) and the
/// Invoke API, and starts no function itself: [`LambdaEmulator::start_function`] runs our binary.
pub struct LambdaEmulator {
    pub proc: Proc,
    pub port: u16,
}

impl LambdaEmulator {
    /// Name the emulator gives a function it did not start (`--only-lambda-apis`).
    pub const FUNCTION: &'static str = "_";

    /// Start the emulator and wait (up to 60 s) until it accepts connections. Retries on a new
    /// port if the chosen one was taken meanwhile.
    pub async fn start() -> Self {
        let path = cargo_lambda_path();
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_owned();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port();
            let mut cmd = tokio::process::Command::new("cargo");
            cmd.current_dir(&workspace)
                .env("PATH", &path)
                .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
                .args(["--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()]);
            let mut proc = Proc::spawn("cargo lambda watch", cmd);
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            let ready = loop {
                if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                    break true;
                }
                if let Ok(Some(_)) = proc.child.try_wait() {
                    break false;
                }
                if tokio::time::Instant::now() > deadline {
                    proc.kill().await;
                    panic!(
                        "`cargo lambda watch` did not listen on 127.0.0.1:{port} within 60 s; its output:\n{}",
                        proc.drain()
                    );
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            if ready {
                return Self { proc, port };
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            let output = proc.drain();
            assert!(
                attempt < 3,
                "`cargo lambda watch` exited at start-up; its output:\n{output}"
            );
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the function (the scheme is required: without it the
    /// runtime client panics on the `/.rt` path).
    pub fn runtime_api(&self) -> String {
        format!("{}/.rt", self.base())
    }

    /// The function URL of our function, with `path` appended (e.g. `/mcp`).
    pub fn function_url(&self, path: &str) -> String {
        format!("{}/lambda-url/{}{path}", self.base(), Self::FUNCTION)
    }

    /// The Lambda Invoke API endpoint for our function (POST an event, get the handler's result).
    pub fn invoke_url(&self) -> String {
        format!("{}/2015-03-31/functions/{}/invocations", self.base(), Self::FUNCTION)
    }

    /// Run server `bin` (the ordinary debug binary) as the emulator's function: the Lambda
    /// environment makes it serve Lambda events instead of stdio.
    pub fn start_function(&self, bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Proc {
        let runtime_api = self.runtime_api();
        let mut env: Vec<(&str, &str)> = vec![
            ("AWS_LAMBDA_RUNTIME_API", &runtime_api),
            ("AWS_LAMBDA_FUNCTION_NAME", Self::FUNCTION),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ];
        env.extend_from_slice(extra_env);
        spawn_server(bin, args, &env)
    }
}
