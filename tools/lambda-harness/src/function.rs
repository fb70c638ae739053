//! A function binary and its own Runtime API, started together.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{FunctionProcess, Invocation, InvokeError, ProcessError, RuntimeApi, binary_path};

#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    #[error("could not start the runtime API: {0}")]
    Io(#[from] std::io::Error),
    #[error("the function exited during init ({status}); its log:\n{log}")]
    ExitedDuringInit { status: String, log: String },
}

/// A real function binary behind its own local Runtime API. Both stop when this is dropped.
pub struct LocalFunction {
    pub api: RuntimeApi,
    pub process: FunctionProcess,
    /// From spawning the process to its first `/next` poll: the init phase.
    pub init: Duration,
}

impl LocalFunction {
    /// Starts `binary` and waits until it polls for its first event.
    ///
    /// # Errors
    /// The binary is missing, failed to start, reported an init error, or never polled.
    pub async fn start<'a>(
        binary: &Path,
        env: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Result<Self, FunctionError> {
        let api = RuntimeApi::start().await?;
        let mut process = FunctionProcess::spawn(binary, &api, env)?;
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            match api.wait_ready(Duration::from_millis(5)).await {
                Ok(ready) => {
                    let init = ready.saturating_duration_since(process.started);
                    return Ok(LocalFunction { api, process, init });
                }
                Err(InvokeError::Timeout(_)) if Instant::now() < until => {}
                Err(e) => return Err(e.into()),
            }
            if let Some(status) = process.exit_status() {
                // Give the log readers a moment to drain the pipes.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let log = process.stderr_lines().join("\n");
                return Err(FunctionError::ExitedDuringInit {
                    status: status.to_string(),
                    log,
                });
            }
        }
    }

    /// Invokes the function and waits for its outcome.
    ///
    /// # Errors
    /// A timeout, an init error, or the server going away.
    pub async fn invoke(&self, payload: impl Into<Bytes>, timeout: Duration) -> Result<Invocation, InvokeError> {
        self.api.invoke(payload, timeout).await
    }

    /// Invokes with a JSON payload.
    ///
    /// # Errors
    /// As [`LocalFunction::invoke`].
    pub async fn invoke_json(&self, payload: &serde_json::Value, timeout: Duration) -> Result<Invocation, InvokeError> {
        self.invoke(serde_json::to_vec(payload).unwrap_or_default(), timeout)
            .await
    }

    /// Time since the process was spawned.
    pub fn age(&self) -> Duration {
        Instant::now().saturating_duration_since(self.process.started)
    }
}

/// The binary `name` built alongside the running executable (same profile), falling back to the
/// debug build. Test executables live in `target/<profile>/deps`, one level further down.
pub fn sibling_binary(name: &str) -> PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        for candidate in [dir.join(name), dir.join("..").join(name)] {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    binary_path(name, "debug")
}
