//! `lakectl report` end to end: a small demo lake in the local emulator, the report written from
//! it, the page read back as XML. Each view's chart and table hold what the queries answer; an
//! empty window, a missing table, an unreachable catalog and an unwritable destination are
//! handled in words; headless Chromium renders the page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should say where

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use connect_lake_e2e::function_binary;
use lake_query::LakeQuery;
use lakectl::demo::{DemoOptions, DemoReport, run_on};
use lakectl::lake::emulator_config;
use lakectl::query::{TEMPLATE, month_params, named};
use lakectl::report::{
    AGENT_OCCUPANCY_SQL, CONTACTS_PER_HOUR_SQL, ReportError, ReportOptions, Window, parse_day, write_report,
};
use lambda_harness::Emulator;
use roxmltree::{Document, Node, ParsingOptions};

const DATABASE: &str = "connect_lake";
const DAY: &str = "2026-03-08";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("connect-lake-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn demo_lake(contacts: usize, seed: u64) -> (Emulator, DemoReport) {
    let emulator = Emulator::start().await.expect("moto starts");
    let bin_dir = function_binary("firehose-transform").parent().unwrap().to_owned();
    let opts = DemoOptions {
        progress: false,
        bin_dir: Some(bin_dir),
        ..DemoOptions::scaled(contacts, seed)
    };
    // Boxed: the test's future stays on the test thread's 2 MiB stack, and the SQL parser's
    // recursion over the named queries needs room beside it.
    let report = Box::pin(run_on(&opts, &emulator)).await.expect("demo runs clean");
    (emulator, report)
}

fn one_day() -> Option<Window> {
    Some(Window::new(parse_day(DAY).unwrap(), parse_day(DAY).unwrap()).unwrap())
}

fn parse(html: &str) -> Document<'_> {
    let options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(html, options).expect("the report is well-formed XHTML")
}

fn section<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Node<'a, 'i> {
    doc.descendants()
        .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("the page has a section {id}"))
}

fn all_text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

/// The table under a view's chart: its header and its rows of cells.
fn table(node: Node<'_, '_>) -> (Vec<String>, Vec<Vec<String>>) {
    let table = node
        .descendants()
        .find(|n| n.has_tag_name("table"))
        .unwrap_or_else(|| panic!("{:?} has a data table: {}", node.attribute("id"), all_text(node)));
    let head = table
        .descendants()
        .filter(|n| n.has_tag_name("th"))
        .map(all_text)
        .collect();
    let rows = table
        .descendants()
        .filter(|n| n.has_tag_name("tbody"))
        .flat_map(|b| b.children().filter(|r| r.has_tag_name("tr")))
        .map(|r| r.children().filter(|c| c.has_tag_name("td")).map(all_text).collect())
        .collect();
    (head, rows)
}

fn svgs<'a, 'i>(node: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    node.descendants().filter(|n| n.has_tag_name("svg")).collect()
}

fn num(text: &str) -> f64 {
    text.parse().unwrap_or_else(|_| panic!("{text:?} is a number"))
}

fn json_num(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("{v} is a number"))
}

async fn sql_rows(lake: &LakeQuery, sql: &str, params: &[String]) -> Vec<serde_json::Value> {
    serde_json::from_str(&lake.sql_with_params(sql, params).await.unwrap().to_json().unwrap()).unwrap()
}

async fn named_rows(lake: &LakeQuery, name: &str) -> Vec<serde_json::Value> {
    let q = named(TEMPLATE, name).unwrap();
    sql_rows(lake, &q.sql, &month_params(&q, "2026-03").unwrap()).await
}

/// The bars of a chart: plotters' filled rectangles in the series' colours (not the white
/// background or legend box), as (x, y, width, height) in pixels, grouped by colour.
fn bars(svg: Node<'_, '_>) -> BTreeMap<String, Vec<[f64; 4]>> {
    let mut by_fill: BTreeMap<String, Vec<[f64; 4]>> = BTreeMap::new();
    for rect in svg.descendants().filter(|n| n.has_tag_name("rect")) {
        let fill = rect.attribute("fill").unwrap_or("none").to_ascii_uppercase();
        if fill == "NONE" || fill == "#FFFFFF" {
            continue;
        }
        let at = |k: &str| rect.attribute(k).map_or(0.0, num);
        by_fill
            .entry(fill)
            .or_default()
            .push([at("x"), at("y"), at("width"), at("height")]);
    }
    by_fill
}

fn assert_self_contained(html: &str) {
    assert!(!html.contains("<script"), "no script");
    let mut rest = html.to_owned();
    for namespace in [
        "xmlns=\"http://www.w3.org/1999/xhtml\"",
        "xmlns=\"http://www.w3.org/2000/svg\"",
    ] {
        rest = rest.replace(namespace, "");
    }
    assert!(
        !rest.contains("http:") && !rest.contains("https:"),
        "no URL but XML namespaces"
    );
    assert!(
        !rest.contains("src=") && !rest.contains("<link"),
        "nothing loaded from elsewhere"
    );
    assert!(
        !rest.contains("@import") && !rest.contains("url("),
        "the CSS loads nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_of_a_demo_lake_charts_exactly_what_the_queries_answer() {
    let (emulator, demo) = demo_lake(200, 7).await;
    let config = emulator_config(&emulator).await;
    let dir = scratch("views");
    let out = dir.join("report.html");
    let options = ReportOptions {
        out: out.clone(),
        window: None,
    };
    let summary = write_report(&config, DATABASE, &options)
        .await
        .expect("the report is written");
    assert_eq!(
        summary.window,
        one_day(),
        "with no --from/--to, the lake's days: the demo's day"
    );
    assert!(
        summary.missing_tables.is_empty(),
        "the demo feeds every table the report reads: {:?}",
        summary.missing_tables
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_eq!(summary.bytes, html.len() as u64);
    assert_self_contained(&html);
    assert!(
        std::fs::read_dir(&dir).unwrap().count() == 1,
        "only the report is left in its directory"
    );
    let doc = parse(&html);
    assert!(
        all_text(doc.root()).contains(&format!("Window: {DAY}")),
        "the page says which window"
    );
    let lake = LakeQuery::connect(&config, DATABASE).await.unwrap();

    // 1. Contacts per hour: the table's totals are the contacts of the lake, hour by hour, and the
    // bar heights stand in the same proportion.
    let view = section(&doc, "contacts-per-hour");
    let (head, rows) = table(view);
    assert_eq!(head.last().map(String::as_str), Some("total"));
    let total: f64 = rows.iter().map(|r| num(r.last().unwrap())).sum();
    assert_eq!(total as usize, demo.contacts, "every contact counted once");
    let truth = sql_rows(
        &lake,
        "SELECT hour, count(DISTINCT contact_id) AS n FROM ctr GROUP BY hour ORDER BY hour",
        &[],
    )
    .await;
    let by_hour: BTreeMap<String, f64> = rows.iter().map(|r| (r[0].clone(), num(r.last().unwrap()))).collect();
    let truth: BTreeMap<String, f64> = truth
        .iter()
        .map(|r| (r["hour"].as_str().unwrap().to_owned(), json_num(&r["n"])))
        .collect();
    assert_eq!(by_hour, truth, "contacts per hour");
    let channels = &head[1..head.len() - 1];
    let chart = bars(svgs(view)[0]);
    assert_eq!(chart.len(), channels.len(), "one colour per channel");
    let cells = rows
        .iter()
        .flat_map(|r| r[1..r.len() - 1].iter())
        .filter(|c| num(c) > 0.0)
        .count();
    let drawn: usize = chart.values().map(Vec::len).sum();
    assert_eq!(
        drawn,
        cells + channels.len(),
        "one bar per hour and channel with contacts, one legend key each"
    );
    let mut heights: BTreeMap<i64, f64> = BTreeMap::new();
    for rect in chart.values().flat_map(|r| r.iter()).filter(|r| r[2] > 14.0) {
        *heights.entry(rect[0] as i64).or_default() += rect[3];
    }
    let column_totals: Vec<f64> = rows.iter().map(|r| num(r.last().unwrap())).collect();
    assert_eq!(
        heights.len(),
        column_totals.len(),
        "one stacked column per hour with contacts"
    );
    let tallest = column_totals.iter().copied().fold(0.0, f64::max);
    let px_per_contact = heights.values().copied().fold(0.0, f64::max) / tallest;
    for (height, n) in heights.values().zip(&column_totals) {
        assert!(
            (height - n * px_per_contact).abs() <= 2.0 + channels.len() as f64,
            "bar heights are proportional to the contacts: {height} px for {n}"
        );
    }

    // 2. Average handle time: the named query's rows, number for number.
    let (_, rows) = table(section(&doc, "handle-time"));
    let want: BTreeMap<String, Vec<f64>> = named_rows(&lake, "average-handle-time-by-queue")
        .await
        .iter()
        .map(|r| {
            let values = [
                "handled_contacts",
                "avg_handle_time_s",
                "avg_talk_s",
                "avg_hold_s",
                "avg_after_contact_work_s",
            ]
            .iter()
            .map(|k| json_num(&r[*k]))
            .collect();
            (r["queue_name"].as_str().unwrap().to_owned(), values)
        })
        .collect();
    let got: BTreeMap<String, Vec<f64>> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1..].iter().map(|c| num(c)).collect()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "handle time per queue");
    assert_eq!(svgs(section(&doc, "handle-time")).len(), 1);

    // 3. Abandonment: the named query's rows of the day.
    let view = section(&doc, "abandonment");
    let (_, rows) = table(view);
    let want: BTreeMap<String, Vec<f64>> = named_rows(&lake, "abandonment-by-queue")
        .await
        .iter()
        .filter(|r| r["contact_day"] == DAY)
        .map(|r| {
            let values = ["queued_contacts", "abandoned", "abandonment_rate_pct"]
                .iter()
                .map(|k| json_num(&r[*k]))
                .collect();
            (r["queue_name"].as_str().unwrap().to_owned(), values)
        })
        .collect();
    let got: BTreeMap<String, Vec<f64>> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1..4].iter().map(|c| num(c)).collect()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "abandonment per queue");
    assert_eq!(svgs(view).len(), 2, "rate and wait");

    // 4. Sentiment per agent: the named query's rows, the most negative first.
    let (_, rows) = table(section(&doc, "sentiment"));
    let want: BTreeMap<String, Vec<f64>> = named_rows(&lake, "customer-sentiment-by-agent")
        .await
        .iter()
        .map(|r| {
            let values = ["contacts", "customer_turns", "negative_pct", "positive_pct"]
                .iter()
                .map(|k| json_num(&r[*k]))
                .collect();
            (r["agent_username"].as_str().unwrap().to_owned(), values)
        })
        .collect();
    let got: BTreeMap<String, Vec<f64>> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1..].iter().map(|c| num(c)).collect()))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "sentiment per agent");
    let negative: Vec<f64> = rows.iter().map(|r| num(&r[3])).collect();
    assert!(negative.windows(2).all(|w| w[0] >= w[1]), "worst first: {negative:?}");

    // 5. Fraud decisions: per level, route and policy as the named query counts them, and the
    // total is every decision the demo recorded.
    let (_, rows) = table(section(&doc, "fraud"));
    let mut want: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for r in named_rows(&lake, "fraud-decisions-by-level").await {
        let key = (
            r["risk_level"].as_str().unwrap().to_owned(),
            r["route"].as_str().unwrap().to_owned(),
            r["policy_version"].as_str().unwrap().to_owned(),
        );
        want.insert(key, json_num(&r["decisions"]));
    }
    let got: BTreeMap<(String, String, String), f64> = rows
        .iter()
        .map(|r| ((r[0].clone(), r[1].clone(), r[2].clone()), num(&r[3])))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "decisions per level, route and policy");
    assert_eq!(got.values().sum::<f64>() as usize, demo.fraud_decision_records);

    // 6. Occupancy: the occupancy SQL's answer, and no hour holds more agent time than it has.
    let (head, rows) = table(section(&doc, "occupancy"));
    let params = [DAY.to_owned(), DAY.to_owned()];
    let mut want: BTreeMap<(usize, String), f64> = BTreeMap::new();
    for r in sql_rows(&lake, AGENT_OCCUPANCY_SQL, &params).await {
        let key = (
            json_num(&r["hour_of_day"]) as usize,
            r["status"].as_str().unwrap().to_owned(),
        );
        want.insert(key, json_num(&r["agent_minutes"]));
    }
    let mut got: BTreeMap<(usize, String), f64> = BTreeMap::new();
    for r in &rows {
        for (status, cell) in head[1..head.len() - 1].iter().zip(&r[1..]) {
            if num(cell) > 0.0 {
                let status = status.trim_end_matches(" (min)").to_owned();
                got.insert((r[0].parse().unwrap(), status), num(cell));
            }
        }
    }
    assert!(!want.is_empty());
    assert_eq!(got, want, "agent minutes per hour and status");
    let agents = sql_rows(
        &lake,
        "SELECT count(DISTINCT agent_username) AS n FROM agent_events",
        &[],
    )
    .await;
    let agents = json_num(&agents[0]["n"]);
    for r in &rows {
        assert!(
            num(r.last().unwrap()) <= 60.0 * agents,
            "hour {} holds at most 60 min per agent",
            r[0]
        );
    }

    // 7. Queue metrics: each queue's peak size and longest wait of the day and its hours with
    // contacts waiting, from the named query's rows, longest wait first; both charts drawn.
    let view = section(&doc, "queue-metrics");
    let (_, rows) = table(view);
    let mut want: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in named_rows(&lake, "queue-peaks-by-hour").await {
        if !r["period_hour"].as_str().unwrap().starts_with(DAY) {
            continue;
        }
        let w = want
            .entry(r["queue_name"].as_str().unwrap().to_owned())
            .or_insert_with(|| vec![0.0; 3]);
        w[0] = w[0].max(json_num(&r["peak_queue_size"]));
        w[1] = w[1].max(json_num(&r["longest_wait_s"]));
        w[2] += 1.0;
    }
    let got: BTreeMap<String, Vec<f64>> = rows
        .iter()
        .map(|r| (r[0].clone(), vec![num(&r[1]), num(&r[3]), num(&r[5])]))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want, "peak queue size, longest wait and hours per queue");
    let waits: Vec<f64> = rows.iter().map(|r| num(&r[3])).collect();
    assert!(waits.windows(2).all(|w| w[0] >= w[1]), "longest wait first: {waits:?}");
    assert_eq!(svgs(view).len(), 2, "queue size per hour and longest wait per queue");
    // Every view with data is titled and has its axis titles with units.
    for id in [
        "contacts-per-hour",
        "handle-time",
        "abandonment",
        "sentiment",
        "fraud",
        "occupancy",
        "queue-metrics",
    ] {
        let view = section(&doc, id);
        assert!(view.descendants().any(|n| n.has_tag_name("h2")), "{id} is titled");
        for svg in svgs(view) {
            let text = all_text(svg);
            assert!(
                text.contains('(') && text.contains(')'),
                "{id}: axis titles carry units: {text}"
            );
        }
    }
    // The SQL of the views without a named query is exported for readers and checks.
    assert!(CONTACTS_PER_HOUR_SQL.contains("copy_rank = 1"));

    browser_renders(&out).await;
    an_empty_window_says_so_in_every_view(&config).await;
    a_bad_destination_is_a_clear_error_and_leaves_no_file(&config).await;
    a_missing_table_is_listed_and_its_view_says_so(&emulator, &config).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A window the lake has no data for: every view says so in words, and the page is still written.
async fn an_empty_window_says_so_in_every_view(config: &aws_config::SdkConfig) {
    let dir = scratch("empty");
    let out = dir.join("empty.html");
    let window = Window::new(parse_day("2025-01-01").unwrap(), parse_day("2025-01-31").unwrap()).unwrap();
    let options = ReportOptions {
        out: out.clone(),
        window: Some(window),
    };
    let summary = write_report(config, DATABASE, &options)
        .await
        .expect("an empty window is no error");
    assert!(summary.views.iter().all(|(_, data)| !data), "{:?}", summary.views);
    let html = std::fs::read_to_string(&out).unwrap();
    let doc = parse(&html);
    for id in [
        "contacts-per-hour",
        "handle-time",
        "abandonment",
        "sentiment",
        "fraud",
        "occupancy",
        "queue-metrics",
    ] {
        let view = section(&doc, id);
        assert!(svgs(view).is_empty(), "{id} draws no empty chart");
        assert!(
            all_text(view).contains("No ") && all_text(view).contains("2025-01-01 and 2025-01-31"),
            "{id} says there is no data in the window: {}",
            all_text(view)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect()
}

/// An unwritable destination fails with its path in the message and leaves nothing behind, and
/// an unreachable catalog fails before anything is written.
async fn a_bad_destination_is_a_clear_error_and_leaves_no_file(config: &aws_config::SdkConfig) {
    let dir = scratch("unwritable");
    let not_a_dir = dir.join("plain-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    for out in [
        not_a_dir.join("report.html"),
        dir.clone(),
        dir.join("no-such-dir").join("r.html"),
    ] {
        let options = ReportOptions {
            out: out.clone(),
            window: one_day(),
        };
        let err = write_report(config, DATABASE, &options).await.unwrap_err();
        assert!(matches!(err, ReportError::Write { .. }), "{err}");
        assert!(err.to_string().contains(&out.display().to_string()), "{err}");
    }
    assert_eq!(
        entries(&dir),
        std::slice::from_ref(&not_a_dir),
        "no partial or temporary file"
    );

    let unreachable = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let out = dir.join("report.html");
    let options = ReportOptions {
        out: out.clone(),
        window: one_day(),
    };
    let err = write_report(&unreachable, DATABASE, &options).await.unwrap_err();
    assert!(err.to_string().contains("Glue catalog"), "{err}");
    assert!(!out.exists(), "no file when the catalog cannot be read");
    assert_eq!(entries(&dir), [not_a_dir], "no temporary file either");

    // The same through the binary: exit 1 and the reason on stderr; a usage error exits 2.
    let run = |args: &[&str]| -> Output {
        std::process::Command::new(function_binary("lakectl"))
            .arg("report")
            .args(args)
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("lakectl runs")
    };
    let cli = run(&["--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert_eq!(cli.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Glue catalog"), "{stderr}");
    assert!(!out.exists());
    for args in [
        &["--from", "2026-03-08"][..],
        &["--from", "2026-03-09", "--to", "2026-03-08"],
        &["--from", "8 March", "--to", "2026-03-08"],
        &["--bogus"],
    ] {
        let cli = run(args);
        assert_eq!(
            cli.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&cli.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A table the catalog lacks is listed on the page, and the views that read it say so.
async fn a_missing_table_is_listed_and_its_view_says_so(emulator: &Emulator, config: &aws_config::SdkConfig) {
    let glue = aws_sdk_glue::Client::new(config);
    glue.delete_table()
        .database_name(DATABASE)
        .name("fraud_decisions")
        .send()
        .await
        .unwrap();
    let dir = scratch("missing");
    let out = dir.join("missing.html");
    let options = ReportOptions {
        out: out.clone(),
        window: one_day(),
    };
    let summary = write_report(config, DATABASE, &options)
        .await
        .expect("a missing table is no error");
    assert_eq!(summary.missing_tables, ["fraud_decisions"]);
    let html = std::fs::read_to_string(&out).unwrap();
    let doc = parse(&html);
    assert!(all_text(section(&doc, "fraud")).contains("no table fraud_decisions"));
    assert!(all_text(section(&doc, "missing-tables")).contains("fraud_decisions"));
    assert!(
        !svgs(section(&doc, "contacts-per-hour")).is_empty(),
        "the other views still draw"
    );

    // A database with no tables at all: every table listed, nothing crashes.
    glue.create_database()
        .database_input(
            aws_sdk_glue::types::DatabaseInput::builder()
                .name("empty_lake")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let summary = write_report(
        config,
        "empty_lake",
        &ReportOptions {
            out: out.clone(),
            window: None,
        },
    )
    .await
    .expect("an empty catalog is no error");
    assert_eq!(summary.missing_tables.len(), lakectl::report::TABLES.len());
    assert_eq!(summary.window, None);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("The lake holds no contacts")
    );
    let _ = emulator;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Headless Chromium (Debian's `chromium`, installed by `make chromium`) renders the page: the
/// screenshot has the window's size and shows the charts' colours, not a blank page.
async fn browser_renders(report: &Path) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: `make chromium` installs Debian's chromium package"
    );
    let dir = scratch("browser");
    let png = dir.join("report.png");
    let out = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1280,2400")
        .arg(format!("file://{}", report.display()))
        .output()
        .await
        .expect("chromium runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (width, height, pixels) = decode_png(&std::fs::read(&png).unwrap());
    assert_eq!((width, height), (1280, 2400), "the window's size");
    let non_white = pixels.iter().filter(|p| p[0] < 240 || p[1] < 240 || p[2] < 240).count();
    assert!(
        non_white > pixels.len() / 20,
        "the page is not blank: {non_white} of {} pixels",
        pixels.len()
    );
    // The header's dark blue and the first series' blue (#0072B2) are on screen.
    assert!(pixels.contains(&[0x1d, 0x27, 0x33]), "the header rendered");
    assert!(
        pixels.iter().filter(|p| **p == [0x00, 0x72, 0xb2]).count() > 500,
        "the charts' bars rendered"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A minimal PNG decoder for 8-bit RGB or RGBA screenshots: chunks, zlib, scanline filters.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 3]>) {
    use std::io::Read;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let (mut pos, mut idat, mut header) = (8, Vec::new(), None);
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = &bytes[pos + 8..pos + 8 + len];
        match kind {
            b"IHDR" => {
                let w = u32::from_be_bytes(data[0..4].try_into().unwrap());
                let h = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(data[8], 8, "8 bits per sample");
                assert_eq!(data[12], 0, "not interlaced");
                header = Some((w, h, data[9]));
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        pos += 12 + len;
    }
    let (w, h, color) = header.expect("IHDR");
    let channels = match color {
        2 => 3,
        6 => 4,
        other => panic!("colour type {other}"),
    };
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut raw).unwrap();
    let stride = w as usize * channels;
    let mut image = vec![0u8; stride * h as usize];
    for y in 0..h as usize {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= channels {
                image[y * stride + x - channels]
            } else {
                0
            };
            let b = if y > 0 { image[(y - 1) * stride + x] } else { 0 };
            let c = if x >= channels && y > 0 {
                image[(y - 1) * stride + x - channels]
            } else {
                0
            };
            let predicted = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                other => panic!("filter {other}"),
            };
            image[y * stride + x] = line[x].wrapping_add(predicted);
        }
    }
    let pixels = image.chunks(channels).map(|p| [p[0], p[1], p[2]]).collect();
    (w, h, pixels)
}
