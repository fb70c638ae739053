//! lakectl: connect-lake's local driver.
//!
//! `lakectl demo [--contacts N] [--seed S] [--format parquet|json] [--keep-running] [--no-progress]`
//! `lakectl backfill --bucket B --database D [--manifest KEY] [--errors FILE] INPUT...`
//! `lakectl bench [--bin-dir DIR] [--runs N]`

use std::process::ExitCode;

const USAGE: &str =
    "usage: lakectl demo [--contacts N] [--seed S] [--format parquet|json] [--keep-running] [--no-progress]
       lakectl backfill --bucket B --database D [--format json|parquet] [--errors FILE] INPUT...
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
