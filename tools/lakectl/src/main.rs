//! lakectl: connect-lake's local driver.
//!
//! `lakectl demo [--contacts N] [--seed S] [--format parquet|json] [--keep-running] [--no-progress]`
//! `lakectl backfill --bucket B --database D [--manifest KEY] [--errors FILE] INPUT...`
//! `lakectl query [--database D] [--output table|csv|json] ('SQL' | --named NAME (--month YYYY-MM | --param V...) | --list)`
//! `lakectl bench [--bin-dir DIR] [--runs N]`

use std::process::ExitCode;

const USAGE: &str =
    "usage: lakectl demo [--contacts N] [--seed S] [--format parquet|json] [--keep-running] [--no-progress]
       lakectl backfill --bucket B --database D [--format json|parquet] [--errors FILE] INPUT...
       lakectl query [--database D] [--output table|csv|json] ('SQL' | --named NAME (--month YYYY-MM | --param V...) | --list)
       lakectl bench [--bin-dir DIR] [--runs N]";

#[cfg(feature = "aws")]
fn parse_demo(args: &[String]) -> Result<lakectl::demo::DemoOptions, String> {
    let mut contacts = lakectl::demo::DemoOptions::default().contacts;
    let mut seed = lakectl::demo::DemoOptions::default().seed;
    let mut keep_running = false;
    let mut progress = true;
    let mut format = connect_lake::config::LakeFormat::Parquet;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--contacts" => contacts = value("--contacts")?.parse().map_err(|e| format!("--contacts: {e}"))?,
            "--seed" => seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--format" => format = value("--format")?.parse().map_err(|e| format!("--format: {e}"))?,
            "--keep-running" => keep_running = true,
            "--no-progress" => progress = false,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if contacts == 0 {
        return Err("--contacts must be at least 1".into());
    }
    let mut opts = lakectl::demo::DemoOptions::scaled(contacts, seed);
    opts.keep_running = keep_running;
    opts.progress = progress;
    opts.format = format;
    Ok(opts)
}

/// `lakectl query`: the endpoint, region and credentials come from the environment as for any
/// AWS tool (`AWS_ENDPOINT_URL` points it at the local emulator); the database from `--database`,
/// else `GLUE_DATABASE`, else `connect_lake`.
#[cfg(feature = "aws")]
fn query(runtime: &tokio::runtime::Runtime, rest: &[String]) -> ExitCode {
    use lakectl::query::{Output, month_params, named, named_queries, render};
    let mut database = std::env::var("GLUE_DATABASE").unwrap_or_else(|_| "connect_lake".to_owned());
    let mut output = Output::Table;
    let (mut sql, mut name, mut month, mut params, mut list) = (None, None, None, Vec::new(), false);
    let mut it = rest.iter();
    let usage = |message: String| {
        eprintln!("lakectl query: {message}\n{USAGE}");
        ExitCode::from(2)
    };
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        let step = match arg.as_str() {
            "--database" => value("--database").map(|v| database = v),
            "--output" => value("--output").and_then(|v| v.parse().map(|o| output = o)),
            "--named" => value("--named").map(|v| name = Some(v)),
            "--month" => value("--month").map(|v| month = Some(v)),
            "--param" => value("--param").map(|v| params.push(v)),
            "--list" => {
                list = true;
                Ok(())
            }
            flag if flag.starts_with("--") => Err(format!("unknown option {flag}")),
            text if sql.is_none() => {
                sql = Some(text.to_owned());
                Ok(())
            }
            _ => Err("give one SQL statement (quote it)".to_owned()),
        };
        if let Err(message) = step {
            return usage(message);
        }
    }
    if list {
        return match named_queries(lakectl::query::TEMPLATE) {
            Ok(all) => {
                for q in all {
                    println!("{}\n    {}", q.name, q.description);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("lakectl query: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let run = async {
        let (text, values) = match (&sql, &name) {
            (Some(text), None) => (text.clone(), params.clone()),
            (None, Some(n)) => {
                let q = named(lakectl::query::TEMPLATE, n)?;
                let values = match &month {
                    Some(m) => month_params(&q, m)?,
                    None => params.clone(),
                };
                (q.sql, values)
            }
            _ => {
                return Err(lakectl::query::QueryCliError::Template(
                    "give either SQL or --named NAME".to_owned(),
                ));
            }
        };
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let lake = lake_query::LakeQuery::connect(&config, &database).await?;
        let result = lake.sql_with_params(&text, &values).await?;
        Ok::<_, lakectl::query::QueryCliError>(render(&result, output)?)
    };
    if sql.is_none() == name.is_none() {
        return usage("give either SQL or --named NAME".to_owned());
    }
    match runtime.block_on(run) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lakectl query: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(runtime: &tokio::runtime::Runtime, rest: &[String]) -> ExitCode {
    let mut opts = lakectl::bench::BenchOptions {
        bin_dir: lambda_harness::sibling_binary("firehose-transform")
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
        runs: 15,
        init_samples: 9,
    };
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--bin-dir", Some(v)) => opts.bin_dir = v.into(),
            ("--runs", Some(v)) => opts.runs = v.parse().unwrap_or(opts.runs),
            _ => {
                eprintln!("lakectl: bad bench arguments\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match runtime.block_on(lakectl::bench::firehose_transform(&opts)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lakectl bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lakectl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match command.as_str() {
        #[cfg(feature = "aws")]
        "demo" => {
            let opts = match parse_demo(rest) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("lakectl: {e}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(lakectl::demo::run(&opts)) {
                Ok(report) => {
                    if !opts.keep_running {
                        println!("{}", lakectl::demo::summary(&report));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lakectl demo failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        #[cfg(feature = "aws")]
        "backfill" => lakectl::backfill::main(&runtime, rest),
        #[cfg(feature = "aws")]
        "query" => query(&runtime, rest),
        "bench" => bench(&runtime, rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("lakectl: unknown or unavailable command {other}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
