//! Function binaries as child processes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::RuntimeApi;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("function binary {0} not found; build it first (`cargo build --bins`, which `make test` does)")]
    MissingBinary(PathBuf),
    #[error("could not start {path}: {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
}

/// The workspace root (this crate lives at `tools/lambda-harness`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("."))
}

/// Where cargo put the binary `name` for `profile` (`debug`, `release`, ...), honouring
/// `CARGO_TARGET_DIR`.
pub fn binary_path(name: &str, profile: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace_root().join("target"), PathBuf::from);
    target.join(profile).join(name)
}

/// A function binary running against a [`RuntimeApi`]. Killed when dropped.
pub struct FunctionProcess {
    child: Child,
    pub started: Instant,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl FunctionProcess {
    /// Starts `binary` with the Lambda environment a real runtime provides, plus `env`.
    ///
    /// # Errors
    /// A missing binary or a spawn failure.
    pub fn spawn<'a>(
        binary: &Path,
        api: &RuntimeApi,
        env: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Result<Self, ProcessError> {
        if !binary.is_file() {
            return Err(ProcessError::MissingBinary(binary.to_owned()));
        }
        let name = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| ProcessError::Spawn {
            path: binary.to_owned(),
            source,
        })?;
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            collect_lines(out, stdout.clone());
        }
        if let Some(err) = child.stderr.take() {
            collect_lines(err, stderr.clone());
        }
        Ok(FunctionProcess {
            child,
            started,
            stdout,
            stderr,
        })
    }

    /// The OS process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Lines written to stdout so far (EMF metric lines).
    pub fn stdout_lines(&self) -> Vec<String> {
        self.stdout.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Lines written to stderr so far (logs).
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Whether the process has exited, and with which status.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the process and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn collect_lines<R: tokio::io::AsyncRead + Unpin + Send + 'static>(reader: R, sink: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut s) = sink.lock() {
                s.push(line);
            }
        }
    });
}

/// Peak resident set size of a running process, from `/proc/<pid>/status` (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
