//! The local AWS emulator: moto in server mode, one process per [`Emulator`].
//!
//! Each test gets its own emulator on a free loopback port, so tests run in parallel without
//! sharing state, and the process is killed when the value is dropped, even when the test fails.
//! moto starts in well under a second. [`Emulator::reset`] wipes its state in place
//! (`POST /moto-api/reset`) for drivers that reuse one emulator across runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::workspace_root;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("moto_server not found at {0}; run `make tools` (or set MOTO_SERVER)")]
    NotInstalled(PathBuf),
    #[error("could not start moto_server: {0}")]
    Spawn(std::io::Error),
    #[error("moto_server did not become ready on {0} within {1:?}")]
    NotReady(SocketAddr, Duration),
    #[error("emulator request failed: {0}")]
    Http(String),
}

/// A running moto server on `127.0.0.1`.
pub struct Emulator {
    child: Option<Child>,
    addr: SocketAddr,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Credentials and region the emulator accepts; never real ones.
pub const FAKE_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
];

impl Emulator {
    /// The moto_server executable: `$MOTO_SERVER`, else the project's `.venv`.
    pub fn executable() -> PathBuf {
        std::env::var_os("MOTO_SERVER").map_or_else(|| workspace_root().join(".venv/bin/moto_server"), PathBuf::from)
    }

    /// Starts moto_server on a free loopback port and waits until it answers.
    ///
    /// # Errors
    /// Not installed, not startable, or not ready within 30 s.
    pub async fn start() -> Result<Self, EmulatorError> {
        let exe = Self::executable();
        if !exe.is_file() {
            return Err(EmulatorError::NotInstalled(exe));
        }
        // A port that was free a moment ago; a clash is retried with another.
        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port().map_err(EmulatorError::Spawn)?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let child = Command::new(&exe)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(EmulatorError::Spawn)?;
            let mut emulator = Emulator {
                child: Some(child),
                addr,
            };
            match emulator.wait_ready(Duration::from_secs(30)).await {
                Ok(()) => return Ok(emulator),
                Err(e) => {
                    if let Some(mut c) = emulator.child.take() {
                        let _ = c.kill().await;
                    }
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or(EmulatorError::Http("could not start".into())))
    }

    /// Uses an emulator that is already running (not stopped on drop).
    pub fn attach(addr: SocketAddr) -> Self {
        Emulator { child: None, addr }
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<(), EmulatorError> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(EmulatorError::Http(format!("moto_server exited: {status}")));
            }
            if let Ok((status, _)) = self.request("GET", "/moto-api/").await
                && status < 500
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(EmulatorError::NotReady(self.addr, timeout))
    }

    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The environment a process needs to reach this emulator with the standard SDK settings.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env: Vec<(&'static str, String)> = FAKE_ENV.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        env.push(("AWS_ENDPOINT_URL", self.endpoint()));
        env
    }

    /// Wipes all emulated state.
    ///
    /// # Errors
    /// The request failing or answering with an error status.
    pub async fn reset(&self) -> Result<(), EmulatorError> {
        let (status, body) = self.request("POST", "/moto-api/reset").await?;
        if status == 200 {
            Ok(())
        } else {
            Err(EmulatorError::Http(format!("reset answered {status}: {body}")))
        }
    }

    /// A minimal HTTP/1.1 request to the emulator's own API.
    async fn request(&self, method: &str, path: &str) -> Result<(u16, String), EmulatorError> {
        let io = |e: std::io::Error| EmulatorError::Http(e.to_string());
        let mut stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(self.addr))
            .await
            .map_err(|_| EmulatorError::Http("connect timed out".into()))?
            .map_err(io)?;
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        );
        stream.write_all(req.as_bytes()).await.map_err(io)?;
        let mut buf = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
            .await
            .map_err(|_| EmulatorError::Http("response timed out".into()))?
            .map_err(io)?;
        let text = String::from_utf8_lossy(&buf);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| EmulatorError::Http("malformed response".into()))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
