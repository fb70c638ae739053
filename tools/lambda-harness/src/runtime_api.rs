//! A local Lambda Runtime API server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function posted a response.
    Response(Bytes),
    /// The function posted an error (`errorType`, `errorMessage`).
    Error { error_type: String, error_message: String },
}

/// One finished invocation.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    /// From handing the event out on `/next` to receiving the outcome.
    pub handler_time: Duration,
    /// From `invoke` being called to receiving the outcome.
    pub round_trip: Duration,
}

impl Invocation {
    /// The response body, or a panic message naming the error (for tests).
    pub fn response(&self) -> Result<&Bytes, String> {
        match &self.outcome {
            Outcome::Response(b) => Ok(b),
            Outcome::Error {
                error_type,
                error_message,
            } => Err(format!("{error_type}: {error_message}")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("the function did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the runtime API was shut down")]
    Closed,
    #[error("the function reported an init error: {0}")]
    InitError(String),
}

struct Pending {
    request_id: String,
    payload: Bytes,
    deadline_ms: u64,
}

struct Waiting {
    handed_out: Option<Instant>,
    reply: oneshot::Sender<(Outcome, Option<Instant>)>,
}

struct State {
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    waiting: Mutex<HashMap<String, Waiting>>,
    first_poll: Mutex<Option<Instant>>,
    init_error: Mutex<Option<String>>,
}

/// A Lambda Runtime API on `127.0.0.1:<ephemeral port>`. The server stops when this is dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
    queue_tx: mpsc::UnboundedSender<Pending>,
    server: JoinHandle<()>,
    next_id: AtomicU64,
    created: Instant,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Binds `127.0.0.1:0` and starts serving.
    ///
    /// # Errors
    /// The bind error.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            waiting: Mutex::new(HashMap::new()),
            first_poll: Mutex::new(None),
            init_error: Mutex::new(None),
        });
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = server_state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| route(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RuntimeApi {
            addr,
            state,
            queue_tx,
            server,
            next_id: AtomicU64::new(1),
            created: Instant::now(),
        })
    }

    /// `host:port`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first polled `/next` (its init is over), measured from `since`.
    pub fn init_duration_since(&self, since: Instant) -> Option<Duration> {
        self.state
            .first_poll
            .lock()
            .ok()?
            .map(|t| t.saturating_duration_since(since))
    }

    /// Waits until the function polls `/next` for the first time.
    ///
    /// # Errors
    /// [`InvokeError::InitError`] when the function reported one, or a timeout.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<Instant, InvokeError> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(e) = self.state.init_error.lock().map_err(|_| InvokeError::Closed)?.clone() {
                return Err(InvokeError::InitError(e));
            }
            if let Some(t) = *self.state.first_poll.lock().map_err(|_| InvokeError::Closed)? {
                return Ok(t);
            }
            if Instant::now() > until {
                return Err(InvokeError::Timeout(timeout));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The init error the function reported, if any.
    pub fn init_error(&self) -> Option<String> {
        self.state.init_error.lock().ok()?.clone()
    }

    /// Invokes the function with `payload` and waits for its outcome.
    ///
    /// # Errors
    /// A timeout, an init error, or the server going away.
    pub async fn invoke(&self, payload: impl Into<Bytes>, timeout: Duration) -> Result<Invocation, InvokeError> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("00000000-0000-4000-8000-{n:012}");
        let (reply, rx) = oneshot::channel();
        let started = Instant::now();
        self.state.waiting.lock().map_err(|_| InvokeError::Closed)?.insert(
            request_id.clone(),
            Waiting {
                handed_out: None,
                reply,
            },
        );
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let deadline_ms = now_ms + timeout.as_millis() as u64;
        self.queue_tx
            .send(Pending {
                request_id: request_id.clone(),
                payload: payload.into(),
                deadline_ms,
            })
            .map_err(|_| InvokeError::Closed)?;
        let result = tokio::select! {
            r = rx => r.map_err(|_| InvokeError::Closed),
            () = tokio::time::sleep(timeout) => Err(InvokeError::Timeout(timeout)),
            e = self.init_failure() => Err(e),
        };
        let (outcome, handed_out) = match result {
            Ok(v) => v,
            Err(e) => {
                if let Ok(mut w) = self.state.waiting.lock() {
                    w.remove(&request_id);
                }
                return Err(e);
            }
        };
        let done = Instant::now();
        Ok(Invocation {
            request_id,
            outcome,
            handler_time: handed_out.map_or(Duration::ZERO, |h| done.saturating_duration_since(h)),
            round_trip: done.saturating_duration_since(started),
        })
    }

    async fn init_failure(&self) -> InvokeError {
        loop {
            if let Some(e) = self.init_error() {
                return InvokeError::InitError(e);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Time since the server started.
    pub fn uptime(&self) -> Duration {
        self.created.elapsed()
    }
}

type Body = Full<Bytes>;

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let response = match (method, segments.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => next(&state).await,
        (Method::POST, ["2018-06-01", "runtime", "invocation", id, kind @ ("response" | "error")]) => {
            let id = (*id).to_owned();
            let is_error = *kind == "error";
            let header_type = req
                .headers()
                .get("Lambda-Runtime-Function-Error-Type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            let outcome = if is_error {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                Outcome::Error {
                    error_type: v["errorType"]
                        .as_str()
                        .map(str::to_owned)
                        .or(header_type)
                        .unwrap_or_default(),
                    error_message: v["errorMessage"].as_str().unwrap_or_default().to_owned(),
                }
            } else {
                Outcome::Response(body)
            };
            let waiting = state.waiting.lock().ok().and_then(|mut w| w.remove(&id));
            match waiting {
                Some(w) => {
                    let _ = w.reply.send((outcome, w.handed_out));
                    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
                }
                None => reply(StatusCode::BAD_REQUEST, r#"{"errorMessage":"unknown request id"}"#),
            }
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if let Ok(mut e) = state.init_error.lock() {
                *e = Some(String::from_utf8_lossy(&body).into_owned());
            }
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found"}"#),
    };
    Ok(response)
}

async fn next(state: &Arc<State>) -> Response<Body> {
    if let Ok(mut first) = state.first_poll.lock() {
        first.get_or_insert_with(Instant::now);
    }
    let pending = state.queue_rx.lock().await.recv().await;
    let Some(p) = pending else {
        return reply(StatusCode::GONE, "");
    };
    if let Ok(mut w) = state.waiting.lock()
        && let Some(entry) = w.get_mut(&p.request_id)
    {
        entry.handed_out = Some(Instant::now());
    }
    let mut r = reply(StatusCode::OK, p.payload);
    let h = r.headers_mut();
    let set = |h: &mut hyper::HeaderMap, k: &'static str, v: String| {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, "Lambda-Runtime-Aws-Request-Id", p.request_id);
    set(h, "Lambda-Runtime-Deadline-Ms", p.deadline_ms.to_string());
    set(
        h,
        "Lambda-Runtime-Invoked-Function-Arn",
        "arn:aws:lambda:us-east-1:000000000000:function:local".to_owned(),
    );
    set(
        h,
        "Lambda-Runtime-Trace-Id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
    );
    set(h, "Content-Type", "application/json".to_owned());
    r
}
