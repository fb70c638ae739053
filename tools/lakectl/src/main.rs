//! `lakectl demo [--contacts N] [--seed S] [--no-progress]`
//! `lakectl bench [--bin-dir DIR] [--runs N]`

use std::process::ExitCode;

use lakectl::demo::{self, DemoOptions};

const USAGE: &str =
    "usage: lakectl demo [--contacts N] [--seed S] [--no-progress]\n       lakectl bench [--bin-dir DIR] [--runs N]";

fn parse_demo(args: &[String]) -> Result<DemoOptions, String> {
    let mut opts = DemoOptions::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--contacts" => opts.contacts = value("--contacts")?.parse().map_err(|e| format!("--contacts: {e}"))?,
            "--seed" => opts.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--no-progress" => opts.progress = false,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(opts)
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
        "demo" => {
            let opts = match parse_demo(rest) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("lakectl: {e}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(demo::run(&opts)) {
                Ok(report) => {
                    println!("{}", demo::summary(&report));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("lakectl demo failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        "bench" => {
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
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("lakectl: unknown command {other}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
