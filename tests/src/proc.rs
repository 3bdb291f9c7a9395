//! Child processes: server binaries as plain processes (Streamable HTTP, Lambda) whose output is
//! read line by line and passes the secret scan ([`crate::scan`]), their paths, free ports and
//! unique resource names; and [`StderrScan`], how an MCP session's stderr reaches the scan.

use std::{
    io::{BufRead, Read, Seek, Write},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use crate::scan::{self, Watch};

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
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the servers first (`cargo build --workspace --bins`; `cargo test --workspace` does it)",
        path.display()
    );
    path
}

/// Where the workspace's binaries are: `AWS_MCP_BIN_DIR` (or `BENCH_BIN_DIR`), else
/// `target/<profile>/` of this test, demo or bench.
pub fn bin_dir() -> PathBuf {
    std::env::var_os("AWS_MCP_BIN_DIR")
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
        })
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
    watch: Option<Watch>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(w) = &self.watch {
            w.report();
            w.raise();
        }
    }
}

impl Proc {
    /// Spawn `cmd` (stdin closed, stdout and stderr captured, `kill_on_drop`).
    pub fn spawn(name: &str, cmd: tokio::process::Command) -> Self {
        Self::spawn_watched(name, cmd, None)
    }

    /// [`Proc::spawn`], every output line passing `watch` (a server's secret scan): a hit panics
    /// when the test next waits for a line or drops the process.
    pub fn spawn_watched(name: &str, mut cmd: tokio::process::Command, watch: Option<Watch>) -> Self {
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
            watch: Option<Watch>,
        ) {
            tokio::spawn(async move {
                let mut out = BufReader::new(out).lines();
                // Keep draining after the test stopped listening, so the child never blocks on a full pipe.
                while let Ok(Some(line)) = out.next_line().await {
                    if let Some(w) = &watch {
                        w.log_line(&line);
                    }
                    if echo {
                        eprintln!("[{name}] {line}");
                    }
                    let _ = tx.send(line);
                }
            });
        }
        let (out, err) = (
            child.stdout.take().expect("stdout"),
            child.stderr.take().expect("stderr"),
        );
        forward(name.to_owned(), out, tx.clone(), echo, watch.clone());
        forward(name.to_owned(), err, tx, echo, watch.clone());
        Self {
            name: name.to_owned(),
            child,
            lines,
            seen: Vec::new(),
            watch,
        }
    }

    /// The secret-scan hits so far, taken (they no longer fail the test).
    pub fn take_scan_hits(&self) -> Vec<scan::Hit> {
        self.watch.as_ref().map(Watch::take_hits).unwrap_or_default()
    }

    fn raise(&self) {
        if let Some(w) = &self.watch {
            w.raise();
        }
    }

    /// Wait up to `timeout` for an output line that satisfies `pred` and return it. Panics, showing
    /// the output so far, on timeout or when the process closes its output (exits) first.
    pub async fn wait_for_line(&mut self, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.raise();
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
        self.raise();
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
    let mut endpoints = crate::emulators::emulator_endpoints(services);
    scan::tap_sts(&mut endpoints);
    let mut env = crate::emulators::aws_env(&endpoints, crate::emulators::NOWHERE);
    env.extend([
        // Distinctive, so the scan can tell it anywhere (the emulators accept any key).
        (
            "AWS_SECRET_ACCESS_KEY".to_owned(),
            scan::RIG_SECRET_ACCESS_KEY.to_owned(),
        ),
        (
            "RUST_LOG".to_owned(),
            "info,rmcp=warn,aws_config=warn,aws_smithy_runtime=warn,aws_runtime=warn".to_owned(),
        ),
        ("RUST_BACKTRACE".to_owned(), "0".to_owned()),
    ]);
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let watch = Watch::new(bin, &args, &env);
    let mut cmd = tokio::process::Command::new(server_bin(bin));
    crate::emulators::clear_aws_env(&mut cmd);
    cmd.args(&args).envs(env);
    Proc::spawn_watched(bin, cmd, Some(watch))
}

/// How an MCP session's stderr reaches the secret scan: a pipe read line by line on a thread of
/// its own (so the rest can be read while a test's runtime is shutting down), or the log file the
/// test asked for, tailed. Echoed to the test's stderr when `E2E_SERVER_LOGS` is set.
pub(crate) enum StderrScan {
    None,
    Pipe(Mutex<Option<std::sync::mpsc::Receiver<()>>>),
    Tail(Mutex<Tail>),
}

pub(crate) struct Tail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    watch: Watch,
}

impl Tail {
    /// Scan the complete lines written since the last call (and the rest when `all`).
    fn read(&mut self, all: bool) {
        let Ok(mut f) = std::fs::File::open(&self.path) else {
            return;
        };
        if f.seek(std::io::SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut new = Vec::new();
        if let Ok(n) = f.read_to_end(&mut new) {
            self.offset += n as u64;
        }
        self.partial.extend(new);
        while let Some(at) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=at).collect();
            self.watch.log_line(String::from_utf8_lossy(&line).trim_end());
        }
        if all && !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.watch.log_line(&String::from_utf8_lossy(&line));
        }
    }
}

impl StderrScan {
    pub(crate) fn none() -> Self {
        Self::None
    }

    /// Scan the log file at `path` (the server writes it directly, so tests read it as before).
    pub(crate) fn tail(path: &Path, watch: &Watch) -> Self {
        Self::Tail(Mutex::new(Tail {
            path: path.to_owned(),
            offset: 0,
            partial: Vec::new(),
            watch: watch.clone(),
        }))
    }

    /// Give `cmd` a stderr pipe whose lines go to `watch`.
    pub(crate) fn pipe(cmd: &mut tokio::process::Command, bin: &str, watch: &Watch) -> Self {
        let (reader, writer) = std::io::pipe().expect("a pipe for the server's stderr");
        cmd.stderr(writer);
        let echo = std::env::var_os("E2E_SERVER_LOGS").is_some();
        let (done, wait) = std::sync::mpsc::channel();
        let (bin, watch) = (bin.to_owned(), watch.clone());
        let reading = std::thread::Builder::new()
            .name(format!("{bin} stderr"))
            .spawn(move || {
                let mut reader = std::io::BufReader::new(reader);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match reader.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line);
                            let text = text.trim_end();
                            watch.log_line(text);
                            if echo {
                                let _ = writeln!(std::io::stderr(), "[{bin}] {text}");
                            }
                        }
                    }
                }
                let _ = done.send(());
            });
        match reading {
            Ok(_) => Self::Pipe(Mutex::new(Some(wait))),
            Err(e) => panic!("cannot start a thread to read the server's stderr: {e}"),
        }
    }

    /// Scan what the log file gained (a pipe is scanned as it is read).
    pub(crate) fn poll(&self) {
        if let Self::Tail(t) = self {
            t.lock().unwrap_or_else(|p| p.into_inner()).read(false);
        }
    }

    /// The process is gone: scan the rest (waiting up to 2 s for the pipe's end).
    pub(crate) fn finish(&self) {
        match self {
            Self::None => {}
            Self::Pipe(wait) => {
                if let Some(rx) = wait.lock().unwrap_or_else(|p| p.into_inner()).take() {
                    let _ = rx.recv_timeout(Duration::from_secs(2));
                }
            }
            Self::Tail(t) => t.lock().unwrap_or_else(|p| p.into_inner()).read(true),
        }
    }
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
