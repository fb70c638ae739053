//! A `lambda_runtime` function that parses its event into a `serde_json::Value` and answers it
//! back: the throughput baseline of `make bench` (the least any transform must do).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
