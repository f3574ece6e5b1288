//! Runs the real `tollgate` binary: commands in a scratch directory, and
//! `tollgate serve` on a free port, found from its JSON "listening" log line.

pub mod cut;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use tollgate_testkit::TempDir;
pub use tollgate_testkit::browser::{send, sign_in_and_approve};

/// `tollgate` run in `dir`, with no TOLLGATE_* variable inherited from the caller.
pub fn tollgate(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("TOLLGATE_") {
            cmd.env_remove(name);
        }
    }
    cmd
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tollgate")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The client secret `createapplication` printed (once), after asserting it succeeded.
pub fn generated_secret(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: ").map(str::to_owned))
        .expect("a generated secret")
}

/// Asserts a command failed with exactly one line on stderr, and returns it.
pub fn one_line_failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got {:?}: {}",
        out.status,
        stdout(out)
    );
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected on stderr, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_owned()
}

/// A loopback port free now, for a server whose issuer must name its port before it starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub struct Server {
    child: Child,
    pub base: String,
    pub logs: Arc<Mutex<Vec<String>>>,
}

/// A `tollgate serve` spawned, and where it will say its address.
type Starting = (Server, Receiver<String>);

impl Server {
    /// Starts `tollgate serve` in `dir` on a free loopback port.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::listening(Server::spawn(dir, env))
    }

    /// Starts `n` servers on one configuration at the same moment (all spawned
    /// before any is waited for), as nodes of a cluster starting together.
    pub fn start_together(n: usize, dir: &Path, env: &[(&str, &str)]) -> Vec<Server> {
        let starting: Vec<Starting> = (0..n).map(|_| Server::spawn(dir, env)).collect();
        starting.into_iter().map(Server::listening).collect()
    }

    fn spawn(dir: &Path, env: &[(&str, &str)]) -> Starting {
        let mut cmd = tollgate(dir);
        cmd.args(["serve", "--log-format", "json"])
            .env("TOLLGATE_BIND", "127.0.0.1:0")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn tollgate serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = listening_address(&line) {
                    let _ = tx.send(address);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let server = Server {
            child,
            base: String::new(),
            logs,
        };
        (server, rx)
    }

    /// Waits for the "listening" line (a server that never says it is killed).
    fn listening((mut server, address): Starting) -> Server {
        match address.recv_timeout(Duration::from_secs(60)) {
            Ok(address) => server.base = format!("http://{address}"),
            Err(_) => panic!("tollgate serve did not start: {}", server.log_text()),
        }
        server
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (TERM, INT) and waits for the process to end.
    pub fn stop_with(&mut self, signal: &str) -> ExitStatus {
        self.signal(signal);
        self.exit_within(Duration::from_secs(30))
            .unwrap_or_else(|| panic!("tollgate did not stop after SIG{signal}"))
    }

    /// Sends a signal by name (TERM, INT).
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// How the process ended, if it does within `limit`.
    pub fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server process's peak resident memory (`VmHWM`), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listening_address(line: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(line).ok()?;
    (event["message"] == "listening").then(|| event["address"].as_str().map(str::to_owned))?
}
