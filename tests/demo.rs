//! A small `lakectl demo` run end to end: every generated record is accounted for.

use connect_lake_e2e::function_binary;
use lakectl::demo::{DemoOptions, run, summary};

#[tokio::test]
async fn small_demo_accounts_for_every_generated_contact() {
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        contacts: 200,
        seed: 7,
        progress: false,
        bin_dir: Some(bin_dir),
    };
    let report = run(&opts).await.expect("demo runs clean");
    assert_eq!(report.contacts, 200);
    assert_eq!(
        report.delivery.rows_per_table["ctr"], 200,
        "one row per contact: older copies dropped"
    );
    assert_eq!(
        report.delivery.dropped as usize,
        report.superseded_copies + report.heartbeats
    );
    assert_eq!(report.delivery.failed, 0);
    let contact_ids: std::collections::BTreeSet<String> = report
        .delivery
        .rows()
        .filter(|(k, _)| k.0 == "ctr")
        .map(|(_, row)| row["contact_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(contact_ids.len(), 200, "every contact is in the lake exactly once");
    let text = summary(&report);
    assert!(text.contains("Ok ") && text.contains("ctr"), "{text}");
    assert!(!text.contains("@example.com"), "no raw emails in the summary");
}
