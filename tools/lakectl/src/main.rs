//! lakectl: connect-lake's local driver. The command line is declared once, below, with clap:
//! `lakectl --help` and `lakectl <command> --help` print it, and a usage error exits with code 2.
//!
//! `lakectl demo [--contacts N] [--seed S] [--format parquet|json] [--keep-running] [--no-progress]`
//! `lakectl backfill [--bucket B] [--database D] [--format json|parquet] [--errors FILE] [--replace] INPUT...`
//! `lakectl query [--database D] [--output table|csv|json] ('SQL' | --named NAME [--month YYYY-MM | --param V...] | --list)`
//! `lakectl report [--out FILE] [--from YYYY-MM-DD --to YYYY-MM-DD] [--database D]`
//! `lakectl bench [--bin-dir DIR] [--runs N]`
//! `lakectl metrics backfill [--bucket B] [--database D] [--namespace NS] [--instance-id ID] [--days N] [--until TIME]`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// connect-lake's local driver: the local pipeline demo, backfill, SQL over the lake, the report,
/// benchmarks.
#[derive(Debug, Parser)]
#[command(name = "lakectl")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole pipeline on this machine: synthetic traffic through the real function binaries,
    /// against the local AWS emulator.
    #[cfg(feature = "aws")]
    Demo(DemoArgs),
    /// Historical contact records (JSON lines, a JSON array, or gzip of either) into the lake,
    /// through the same transform and catalog code as the functions.
    #[cfg(feature = "backfill")]
    Backfill(BackfillArgs),
    /// SQL, or one of template.yaml's Athena named queries, over the lake through the Glue
    /// catalog. AWS_ENDPOINT_URL points it at the local emulator.
    #[cfg(feature = "aws")]
    Query(QueryArgs),
    /// The contact center at a glance: one self-contained HTML page of charts from the lake.
    #[cfg(feature = "aws")]
    Report(ReportArgs),
    /// Benchmarks of the function binaries (cold start, invocation time).
    Bench(BenchArgs),
    /// The consumption benchmark: N contacts backfilled as Parquet into the local emulator, then
    /// every named query over ctr through the Glue catalog, cold and warm.
    #[cfg(feature = "aws")]
    BenchLake(BenchLakeArgs),
    /// The backfill benchmark: generated contacts over days, loaded by `lakectl backfill` into the
    /// local emulator; records/s, objects and peak memory, and a run over >= 2 GB of input.
    #[cfg(feature = "backfill")]
    BenchBackfill(BenchBackfillArgs),
    /// Amazon Connect's CloudWatch metrics in the lake (connect_metrics).
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Metrics(MetricsCommand),
}

#[cfg(feature = "aws")]
#[derive(Debug, Subcommand)]
enum MetricsCommand {
    /// The past days of a namespace's one-minute metrics (ListMetrics, then GetMetricData) into
    /// connect_metrics, as the metric stream writes them. A re-run writes the same objects.
    Backfill(MetricsBackfillArgs),
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct MetricsBackfillArgs {
    /// The lake bucket [default: $LAKE_BUCKET].
    #[arg(long, value_name = "B")]
    bucket: Option<String>,
    /// The Glue database [default: $GLUE_DATABASE, else connect_lake].
    #[arg(long, value_name = "D")]
    database: Option<String>,
    /// The CloudWatch namespace.
    #[arg(long, value_name = "NS", default_value = "AWS/Connect")]
    namespace: String,
    /// Only the metrics of this Connect instance (their InstanceId dimension).
    #[arg(long, value_name = "ID")]
    instance_id: Option<String>,
    /// Days back from --until (CloudWatch keeps one-minute points for 15).
    #[arg(long, value_name = "N", default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=15))]
    days: u32,
    /// End of the window, RFC 3339, rounded down to its hour [default: now]; set it to when the
    /// metric stream started, so that no minute is in the lake twice.
    #[arg(long, value_name = "TIME", value_parser = parse_until)]
    until: Option<time::OffsetDateTime>,
    /// Format if the catalog has no connect_metrics table yet [default: $LAKE_FORMAT, else the
    /// default lake format]; an existing table's format always wins.
    #[arg(long, value_name = "json|parquet")]
    format: Option<connect_lake::config::LakeFormat>,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
}

#[cfg(feature = "aws")]
fn parse_until(text: &str) -> Result<time::OffsetDateTime, String> {
    connect_lake::time_fmt::parse_rfc3339(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))
}

#[cfg(feature = "aws")]
fn metrics(runtime: &tokio::runtime::Runtime, command: MetricsCommand) -> ExitCode {
    use lakectl::metrics::{MetricsBackfill, MetricsBackfillOptions};
    let MetricsCommand::Backfill(args) = command;
    let options = MetricsBackfillOptions {
        bucket: args.bucket.or_else(|| env_or("LAKE_BUCKET")).unwrap_or_default(),
        database: database_or_env(args.database),
        namespace: args.namespace,
        instance_id: args.instance_id,
        days: args.days,
        until: args.until.unwrap_or_else(time::OffsetDateTime::now_utc),
        format: args
            .format
            .or_else(|| env_or("LAKE_FORMAT").and_then(|f| f.parse().ok()))
            .unwrap_or_default(),
        progress: !args.no_progress,
        max_attempts: 8,
        first_backoff: std::time::Duration::from_millis(500),
    };
    if options.bucket.is_empty() {
        return usage_error("metrics", "name the lake bucket with --bucket or LAKE_BUCKET");
    }
    runtime.block_on(async {
        let config = connect_lake::aws::sdk_config(&connect_lake::aws::AwsOptions::default()).await;
        match MetricsBackfill::new(&config, options).run().await {
            Ok(report) => {
                if print_result(&report.summary()) != ExitCode::SUCCESS {
                    return ExitCode::FAILURE;
                }
                if report.incomplete.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("lakectl metrics backfill: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

#[cfg(feature = "backfill")]
#[derive(Debug, Args)]
struct BenchBackfillArgs {
    /// Contacts of each measured run (repeat the option for several runs).
    #[arg(long, value_name = "N", default_values_t = [20_000, 50_000])]
    contacts: Vec<usize>,
    /// Days the contacts are spread over.
    #[arg(long, value_name = "D", default_value_t = 28, value_parser = clap::value_parser!(u32).range(1..))]
    days: u32,
    /// Uncompressed size of the memory run's input in GB (0 skips it).
    #[arg(long, value_name = "GB", default_value_t = 2.0)]
    memory_gb: f64,
    /// Seed of the synthetic traffic.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
}

#[cfg(feature = "backfill")]
fn bench_backfill(runtime: &tokio::runtime::Runtime, args: BenchBackfillArgs) -> ExitCode {
    let bytes = (args.memory_gb.max(0.0) * 1e9) as u64;
    match runtime.block_on(lakectl::backfill::bench::run(
        &args.contacts,
        args.days,
        bytes,
        args.seed,
    )) {
        Ok(report) => print_result(&report.to_string()),
        Err(e) => {
            eprintln!("lakectl bench-backfill failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct BenchLakeArgs {
    /// Contacts to generate and backfill.
    #[arg(long, value_name = "N", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..))]
    contacts: u64,
    /// Seed of the synthetic traffic.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
}

#[cfg(feature = "aws")]
fn bench_lake(runtime: &tokio::runtime::Runtime, args: BenchLakeArgs) -> ExitCode {
    let contacts = usize::try_from(args.contacts).unwrap_or(usize::MAX);
    match runtime.block_on(lakectl::bench_lake::named_queries_on_backfilled_lake(
        contacts, args.seed,
    )) {
        Ok(report) => print_result(&report.to_string()),
        Err(e) => {
            eprintln!("lakectl bench-lake failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct DemoArgs {
    /// Contacts to generate (at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    contacts: Option<u64>,
    /// Seed of the synthetic traffic.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Format of the Firehose tables (ctr, agent_events).
    #[arg(long, value_name = "parquet|json", default_value = "parquet")]
    format: connect_lake::config::LakeFormat,
    /// Keep the emulator running after the demo, until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
    /// Where the demo writes `lakectl report`'s page of the lake it built.
    #[arg(long, value_name = "FILE", default_value = ".demo/report.html")]
    report: PathBuf,
    /// Skip the report page.
    #[arg(long)]
    no_report: bool,
}

#[cfg(feature = "backfill")]
#[derive(Debug, Args)]
struct BackfillArgs {
    /// The lake bucket [default: $LAKE_BUCKET].
    #[arg(long, value_name = "B")]
    bucket: Option<String>,
    /// The Glue database [default: $GLUE_DATABASE, else connect_lake].
    #[arg(long, value_name = "D")]
    database: Option<String>,
    /// Format of tables the catalog does not have yet [default: $LAKE_FORMAT, else the default
    /// lake format]; when given, a catalog table of the other format is an error.
    #[arg(long, value_name = "json|parquet")]
    format: Option<connect_lake::config::LakeFormat>,
    /// Where records that fail go, with their reason.
    #[arg(long, value_name = "FILE", default_value = "backfill-errors.jsonl")]
    errors: PathBuf,
    /// Key of the manifest object (finished files by content hash) in the lake bucket.
    #[arg(long, value_name = "KEY", default_value = "_backfill/manifest.json")]
    manifest: String,
    /// No progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Rollover size of an object, in curated row bytes (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "128M", value_parser = lakectl::backfill::parse_size)]
    target_size: u64,
    /// Delete the other objects of every partition the run writes, once its own are written.
    #[arg(long)]
    replace: bool,
    /// Keep failed records' raw bytes in the errors file (they may hold PII).
    #[arg(long)]
    keep_raw_errors: bool,
    /// Where rows wait for their object when memory is full [default: the temp dir].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// How often the manifest records the objects written so far and, at the end of an input, a
    /// checkpoint, in seconds (a crashed run resumes from the last record).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    progress_every: u64,
    /// Input files, or s3://bucket/prefix/ (every object under it, e.g. Firehose's raw/ backup).
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
// `--list` lists whatever else is given, as it always has; SQL and --named exclude each other.
#[command(group = clap::ArgGroup::new("what").required(true).multiple(true).args(["sql", "named", "list"]))]
struct QueryArgs {
    /// The Glue database [default: $GLUE_DATABASE, else connect_lake].
    #[arg(long, value_name = "D")]
    database: Option<String>,
    /// Output form.
    #[arg(long, value_name = "table|csv|json", default_value = "table")]
    output: lakectl::query::Output,
    /// The named query of template.yaml to run (see --list).
    #[arg(long, value_name = "NAME", conflicts_with = "sql")]
    named: Option<String>,
    /// Fills a named query's year and month parameters.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["sql", "param"])]
    month: Option<String>,
    /// One execution parameter (`?`), in order; repeat for each.
    #[arg(long, value_name = "V")]
    param: Vec<String>,
    /// Lists the template's named queries.
    #[arg(long)]
    list: bool,
    /// One SQL statement (quote it).
    #[arg(value_name = "SQL")]
    sql: Option<String>,
}

#[cfg(feature = "aws")]
#[derive(Debug, Args)]
struct ReportArgs {
    /// Where to write the page.
    #[arg(long, value_name = "FILE", default_value = "report.html")]
    out: PathBuf,
    /// First UTC day of the window [default: the lake's first day of contacts].
    #[arg(long, value_name = "YYYY-MM-DD", requires = "to", value_parser = parse_day)]
    from: Option<time::Date>,
    /// Last UTC day of the window, included [default: the lake's last day of contacts].
    #[arg(long, value_name = "YYYY-MM-DD", requires = "from", value_parser = parse_day)]
    to: Option<time::Date>,
    /// The Glue database [default: $GLUE_DATABASE, else connect_lake].
    #[arg(long, value_name = "D")]
    database: Option<String>,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Directory of the release binaries to measure [default: next to this binary].
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Measured runs per binary (at least 1).
    #[arg(long, value_name = "N", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    runs: u64,
}

#[cfg(feature = "aws")]
fn parse_day(text: &str) -> Result<time::Date, String> {
    lakectl::report::parse_day(text).map_err(|e| e.to_string())
}

#[cfg(feature = "backfill")]
fn env_or(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(feature = "backfill")]
fn database_or_env(database: Option<String>) -> String {
    database
        .or_else(|| env_or("GLUE_DATABASE"))
        .unwrap_or_else(|| "connect_lake".to_owned())
}

/// Prints a command's result and a newline to stdout. A reader that stops early (`lakectl query
/// ... | head`) closes the pipe: that ends the output quietly, as it does for any Unix tool,
/// instead of a panic and exit code 101.
fn print_result(text: &str) -> ExitCode {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lakectl: writing the result: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A usage error found after parsing (a value that depends on the environment): clap's message
/// and exit code 2, as for any other.
#[cfg(feature = "backfill")]
fn usage_error(subcommand: &str, message: &str) -> ExitCode {
    use clap::CommandFactory;
    let mut command = Cli::command();
    // Building propagates the binary's name into the subcommands' usage lines.
    command.build();
    let error = match command.find_subcommand_mut(subcommand) {
        Some(sub) => sub.error(clap::error::ErrorKind::ValueValidation, message),
        None => command.error(clap::error::ErrorKind::ValueValidation, message),
    };
    let _ = error.print();
    ExitCode::from(2)
}

#[cfg(feature = "aws")]
fn demo(runtime: &tokio::runtime::Runtime, args: DemoArgs) -> ExitCode {
    let defaults = lakectl::demo::DemoOptions::default();
    let contacts = args
        .contacts
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(defaults.contacts);
    let mut opts = lakectl::demo::DemoOptions::scaled(contacts, args.seed.unwrap_or(defaults.seed));
    opts.keep_running = args.keep_running;
    opts.progress = !args.no_progress;
    opts.format = args.format;
    opts.report = (!args.no_report).then_some(args.report);
    match runtime.block_on(lakectl::demo::run(&opts)) {
        Ok(report) => {
            if opts.keep_running {
                ExitCode::SUCCESS
            } else {
                print_result(&lakectl::demo::summary(&report))
            }
        }
        Err(e) => {
            eprintln!("lakectl demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "backfill")]
fn backfill(runtime: &tokio::runtime::Runtime, args: BackfillArgs) -> ExitCode {
    use lakectl::backfill::{Backfill, BackfillOptions};
    let env_format = env_or("LAKE_FORMAT");
    let options = BackfillOptions {
        bucket: args.bucket.or_else(|| env_or("LAKE_BUCKET")).unwrap_or_default(),
        database: database_or_env(args.database),
        format: args
            .format
            .or_else(|| env_format.as_deref().and_then(|f| f.parse().ok()))
            .unwrap_or_default(),
        format_requested: args.format.is_some() || env_format.is_some(),
        errors_path: args.errors,
        manifest_key: args.manifest,
        pii_key: env_or("PII_TOKEN_KEY").unwrap_or_default(),
        progress: !args.no_progress,
        target_bytes: args.target_size,
        replace: args.replace,
        keep_raw_errors: args.keep_raw_errors,
        work_dir: args.work_dir,
        progress_every: std::time::Duration::from_secs(args.progress_every),
        inputs: args.inputs,
    };
    if options.bucket.is_empty() {
        return usage_error("backfill", "name the lake bucket with --bucket or LAKE_BUCKET");
    }
    if options.pii_key.is_empty() {
        return usage_error(
            "backfill",
            "PII_TOKEN_KEY must be set: rows are tokenized exactly as the functions do",
        );
    }
    if let Some(missing) = options
        .inputs
        .iter()
        .find(|p| !p.is_file() && !p.to_string_lossy().starts_with("s3://"))
    {
        return usage_error("backfill", &format!("no such file: {}", missing.display()));
    }
    runtime.block_on(async {
        let config = connect_lake::aws::sdk_config(&connect_lake::aws::AwsOptions::default()).await;
        let backfill = match Backfill::new(&config, options) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("lakectl backfill: {e}");
                return ExitCode::FAILURE;
            }
        };
        match backfill.run().await {
            Ok(r) => print_result(&r.summary(&backfill.options.errors_path)),
            Err(e) => {
                eprintln!("lakectl backfill failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `lakectl query`: the endpoint, region and credentials come from the environment as for any
/// AWS tool (`AWS_ENDPOINT_URL` points it at the local emulator).
#[cfg(feature = "aws")]
fn query(runtime: &tokio::runtime::Runtime, args: QueryArgs) -> ExitCode {
    use lakectl::query::{QueryCliError, TEMPLATE, month_params, named, named_queries, render};
    if args.list {
        return match named_queries(TEMPLATE) {
            Ok(all) => {
                let list: Vec<String> = all
                    .iter()
                    .map(|q| format!("{}\n    {}", q.name, q.description))
                    .collect();
                print_result(&list.join("\n"))
            }
            Err(e) => {
                eprintln!("lakectl query: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let database = database_or_env(args.database);
    let run = async {
        let (text, values) = match (args.sql, args.named) {
            (Some(text), _) => (text, args.param),
            (None, Some(n)) => {
                let q = named(TEMPLATE, &n)?;
                let values = match &args.month {
                    Some(m) => month_params(&q, m)?,
                    None => args.param,
                };
                (q.sql, values)
            }
            (None, None) => return Err(QueryCliError::Template("give either SQL or --named NAME".to_owned())),
        };
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        let lake = lake_query::LakeQuery::connect(&config, &database).await?;
        let result = lake.sql_with_params(&text, &values).await?;
        Ok::<_, QueryCliError>(render(&result, args.output)?)
    };
    match runtime.block_on(run) {
        Ok(text) => print_result(&text),
        Err(e) => {
            eprintln!("lakectl query: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `lakectl report`: configured by the environment as `lakectl query` is.
#[cfg(feature = "aws")]
fn report(runtime: &tokio::runtime::Runtime, args: ReportArgs) -> ExitCode {
    use lakectl::report::{ReportOptions, Window, write_report};
    let options = ReportOptions {
        out: args.out,
        window: match (args.from, args.to) {
            (Some(from), Some(to)) => match Window::new(from, to) {
                Ok(w) => Some(w),
                Err(e) => return usage_error("report", &e.to_string()),
            },
            _ => None,
        },
    };
    let database = database_or_env(args.database);
    let run = async {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
        write_report(&config, &database, &options).await
    };
    match runtime.block_on(run) {
        Ok(summary) => print_result(&summary.to_string()),
        Err(e) => {
            eprintln!("lakectl report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(runtime: &tokio::runtime::Runtime, args: BenchArgs) -> ExitCode {
    let opts = lakectl::bench::BenchOptions {
        bin_dir: args.bin_dir.unwrap_or_else(|| {
            lambda_harness::sibling_binary("firehose-transform")
                .parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default()
        }),
        runs: usize::try_from(args.runs).unwrap_or(usize::MAX),
        init_samples: 9,
    };
    match runtime.block_on(lakectl::bench::firehose_transform(&opts)) {
        Ok(report) => print_result(&report),
        Err(e) => {
            eprintln!("lakectl bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit 2 with clap's message; --help and --version exit 0.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("lakectl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        #[cfg(feature = "aws")]
        Command::Demo(args) => demo(&runtime, args),
        #[cfg(feature = "backfill")]
        Command::Backfill(args) => backfill(&runtime, args),
        #[cfg(feature = "aws")]
        Command::Query(args) => query(&runtime, args),
        #[cfg(feature = "aws")]
        Command::Report(args) => report(&runtime, args),
        Command::Bench(args) => bench(&runtime, args),
        #[cfg(feature = "aws")]
        Command::BenchLake(args) => bench_lake(&runtime, args),
        #[cfg(feature = "backfill")]
        Command::BenchBackfill(args) => bench_backfill(&runtime, args),
        #[cfg(feature = "aws")]
        Command::Metrics(command) => metrics(&runtime, command),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("lakectl").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bad_runs_value_is_a_usage_error_not_ignored() {
        for bad in ["x", "0", "-1"] {
            assert!(parse(&["bench", "--runs", bad]).is_err(), "{bad}");
        }
        let Ok(Cli {
            command: Command::Bench(args),
        }) = parse(&["bench", "--runs", "3"])
        else {
            panic!("bench parses");
        };
        assert_eq!(args.runs, 3);
    }

    #[cfg(feature = "aws")]
    #[test]
    fn query_takes_sql_or_a_named_query_and_month_only_with_a_name() {
        assert!(parse(&["query", "SELECT 1"]).is_ok());
        assert!(parse(&["query", "--named", "x", "--month", "2026-03"]).is_ok());
        assert!(parse(&["query", "--list"]).is_ok());
        for bad in [
            &["query"][..],
            &["query", "--named", "x", "SELECT 1"],
            &["query", "--month", "2026-03", "SELECT 1"],
            &["query", "--output", "xml", "SELECT 1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(feature = "aws")]
    #[test]
    fn report_takes_both_ends_of_a_window_as_days() {
        assert!(parse(&["report", "--from", "2026-03-01", "--to", "2026-03-31"]).is_ok());
        let missing_end = parse(&["report", "--from", "2026-03-01"]).map(|_| ()).unwrap_err();
        assert_eq!(missing_end.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(parse(&["report", "--from", "March", "--to", "2026-03-31"]).is_err());
        assert_eq!(
            parse(&["report", "--help"]).map(|_| ()).unwrap_err().kind(),
            clap::error::ErrorKind::DisplayHelp
        );
    }
}
