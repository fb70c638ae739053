//! The shared `aws` configuration reaches the local emulator with the real SDK.
//!
//! This binary holds one test only: it sets process environment variables the way Lambda does,
//! which must not race with other tests in the same process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use connect_lake::aws::{AwsOptions, has_endpoint_override, s3_client, sdk_config};
use lambda_harness::Emulator;

#[tokio::test(flavor = "current_thread")]
async fn shared_sdk_config_reaches_the_emulator_with_path_style_s3() {
    let emulator = Emulator::start().await.expect("moto starts (make tools installs it)");
    for (k, v) in emulator.env() {
        // SAFETY: single-threaded runtime, and the only test in this process.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var(k, v)
        };
    }
    let config = sdk_config(&AwsOptions::default()).await;
    assert!(has_endpoint_override(&config));
    assert_eq!(
        config.region().map(|r| r.as_ref().to_owned()),
        Some("us-east-1".to_owned())
    );
    let s3 = s3_client(&config);
    s3.create_bucket()
        .bucket("connect-lake-e2e")
        .send()
        .await
        .expect("create bucket");
    s3.put_object()
        .bucket("connect-lake-e2e")
        .key("ctr/year=2026/month=03/day=08/hour=10/part-0.json")
        .body(b"{\"contact_id\":\"c1\"}\n".to_vec().into())
        .send()
        .await
        .expect("put object");
    let listed = s3
        .list_objects_v2()
        .bucket("connect-lake-e2e")
        .prefix("ctr/")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["ctr/year=2026/month=03/day=08/hour=10/part-0.json"]);

    emulator.reset().await.expect("reset");
    let after = s3.list_buckets().send().await.unwrap();
    assert!(after.buckets().is_empty(), "reset wipes the emulator");
}
