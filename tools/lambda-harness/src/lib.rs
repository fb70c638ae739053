//! Run real Lambda function binaries locally.
//!
//! - [`RuntimeApi`]: an implementation of the Lambda Runtime API (`/next`, `/response`, `/error`,
//!   `/init/error`) on `127.0.0.1` and a port chosen at run time. A function binary started with
//!   `AWS_LAMBDA_RUNTIME_API` pointing at it runs exactly as it does in Lambda.
//! - [`FunctionProcess`]: such a binary as a child process, its stdout (EMF metrics) and stderr
//!   (logs) captured, killed when dropped.
//! - [`Emulator`]: the local AWS emulator (moto in server mode) as a child process on a free
//!   loopback port, killed when dropped, so a failing test never leaves it behind.

mod emulator;
mod function;
mod process;
mod runtime_api;

pub use emulator::{Emulator, EmulatorError, FAKE_ENV};
pub use function::{FunctionError, LocalFunction, sibling_binary};
pub use process::{FunctionProcess, ProcessError, binary_path, peak_rss_kib, workspace_root};
pub use runtime_api::{Invocation, InvokeError, Outcome, RuntimeApi};
