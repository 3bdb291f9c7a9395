//! Child processes: server binaries as plain processes (Streamable HTTP, Lambda) whose output is
//! read line by line, their paths, free ports and unique resource names.

use std::{
    path::PathBuf,
    process::Stdio,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

/// A name no other test (or earlier run) uses: tests run in parallel and re-run cleanly.
/// Lower case, `{prefix}-{pid}-{n}-{random}`: valid as a bucket, table, function or log group name.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::random();
    format!("{prefix}-{}-{n}-{r:08x}", std::process::id()).to_ascii_lowercase()
}

/// Path of a server binary: `AWS_MCP_BIN_DIR` (or the bench's `BENCH_BIN_DIR`) when set, else the
/// target directory this test, demo or bench was built in (`target/<profile>/`).
pub fn server_bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("AWS_MCP_BIN_DIR")
        .or_else(|| std::env::var_os("BENCH_BIN_DIR"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("current exe");
            // Tests live in target/<profile>/deps/, binaries (demo, bench) in target/<profile>/.
            let mut dir = exe.parent().expect("target dir").to_path_buf();
            if dir.ends_with("deps") {
                dir.pop();
            }
            dir
        });
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the servers first (`cargo build --workspace --bins`; `cargo test --workspace` does it)",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1, bound and released at once. Another process could take it in
/// between: prefer binding port 0 yourself where the program allows it (servers do: `--bind 127.0.0.1:0`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A child process whose stdout and stderr are read line by line, so a test can wait for a log
/// line (lines are echoed to the test's stderr when `E2E_SERVER_LOGS` is set). Killed on drop.
pub struct Proc {
    pub name: String,
    pub child: tokio::process::Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Proc {
    /// Spawn `cmd` (stdin closed, stdout and stderr captured, `kill_on_drop`).
    pub fn spawn(name: &str, mut cmd: tokio::process::Command) -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        let echo = std::env::var_os("E2E_SERVER_LOGS").is_some();
        fn forward<R: AsyncRead + Unpin + Send + 'static>(
            name: String,
            out: R,
            tx: tokio::sync::mpsc::UnboundedSender<String>,
            echo: bool,
        ) {
            tokio::spawn(async move {
                let mut out = BufReader::new(out).lines();
                // Keep draining after the test stopped listening, so the child never blocks on a full pipe.
                while let Ok(Some(line)) = out.next_line().await {
                    if echo {
                        eprintln!("[{name}] {line}");
                    }
                    let _ = tx.send(line);
                }
            });
        }
        forward(name.to_owned(), child.stdout.take().expect("stdout"), tx.clone(), echo);
        forward(name.to_owned(), child.stderr.take().expect("stderr"), tx, echo);
        Self {
            name: name.to_owned(),
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait up to `timeout` for an output line that satisfies `pred` and return it. Panics, showing
    /// the output so far, on timeout or when the process closes its output (exits) first.
    pub async fn wait_for_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Ok(None) => {
                    let status = self.child.wait().await;
                    panic!(
                        "{} exited ({status:?}) before the expected line; its output:\n{}",
                        self.name,
                        self.output()
                    )
                }
                Err(_) => panic!(
                    "{} did not print the expected line within {timeout:?}; its output so far:\n{}",
                    self.name,
                    self.output()
                ),
            }
        }
    }

    /// The output lines read so far (by [`Proc::wait_for_line`] or [`Proc::drain`]).
    pub fn output(&self) -> String {
        self.seen.join("\n")
    }

    /// Read whatever output is already buffered, without waiting; the lines read so far.
    pub fn drain(&mut self) -> String {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.output()
    }

    /// Panic (with its output) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            let output = self.drain();
            panic!("{} exited ({status}); its output:\n{output}", self.name);
        }
    }

    /// Kill the process and reap it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// Start server `bin` as a plain child process (not an MCP stdio session), pointed at the
/// emulators of its services (see [`crate::emulators::SERVERS`]), with `RUST_LOG=info` so its
/// start-up lines can be waited for.
pub fn spawn_server(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Proc {
    let services = crate::emulators::services_of(bin);
    crate::emulators::require(services);
    let mut cmd = tokio::process::Command::new(server_bin(bin));
    crate::emulators::clear_aws_env(&mut cmd);
    cmd.args(args)
        .envs(crate::emulators::aws_env(
            &crate::emulators::emulator_endpoints(services),
            crate::emulators::NOWHERE,
        ))
        .env(
            "RUST_LOG",
            "info,rmcp=warn,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn",
        )
        .env("RUST_BACKTRACE", "0");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Proc::spawn(bin, cmd)
}

/// A server started with `--transport http --bind 127.0.0.1:0`.
pub struct HttpServer {
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The MCP endpoint, `http://127.0.0.1:PORT/mcp`, as the server logged it.
    pub url: String,
}

impl HttpServer {
    /// Start `bin` over Streamable HTTP on a port of its choosing and wait (up to 60 s) for its
    /// `listening on http://ADDR/mcp` log line.
    pub async fn start(bin: &str, args: &[&str], extra_env: &[(&str, &str)]) -> Self {
        let mut all = vec!["--transport", "http", "--bind", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut proc = spawn_server(bin, &all, extra_env);
        let line = proc
            .wait_for_line(Duration::from_secs(60), |l| l.contains("listening on http://"))
            .await;
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("cannot parse the address from {line:?}"))
            .to_owned();
        let base = url
            .strip_suffix("/mcp")
            .unwrap_or_else(|| panic!("MCP endpoint {url} does not end in /mcp"))
            .to_owned();
        Self { proc, base, url }
    }
}
