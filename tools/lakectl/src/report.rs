//! `lakectl report`: the contact center at a glance, as one self-contained HTML page of charts.
//!
//! ```text
//! lakectl report [--out FILE] [--from YYYY-MM-DD --to YYYY-MM-DD] [--database D]
//! ```
//!
//! The figures come from the lake through the same engine and catalog as `lakectl query`
//! ([`lake_query::LakeQuery`]). Where template.yaml has an Athena named query for a view, the view
//! is that query's answer, run once per month of the window (the named queries take a year and a
//! month) and, where its rows carry a day, narrowed to the window's days. The views without a
//! named query (contacts per hour, agent occupancy) have their SQL here ([`CONTACTS_PER_HOUR_SQL`],
//! [`AGENT_OCCUPANCY_SQL`]).
//!
//! The page has inline SVG charts drawn by `plotters` (SVG backend: no font file is read, text is
//! left to the browser) and inline CSS, no script and no URL, so it opens offline and can be
//! mailed. Under each chart a table holds the exact numbers. A view with no data says so; tables
//! the catalog lacks are listed. The file is written next to its destination and renamed into
//! place, so a failure leaves no partial file.

mod chart;
mod html;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use lake_query::{LakeQuery, QueryError};
use serde_json::{Map, Value};
use time::{Date, Month};

use crate::query::{QueryCliError, TEMPLATE, month_params, named};
use chart::Series;
use html::{Body, Table, View};

/// The most months one report covers: each named query runs once per month.
pub const MAX_MONTHS: usize = 36;

/// Contacts per hour of day (UTC) and channel, latest copy of each contact, between two days
/// (`YYYY-MM-DD`, both included).
pub const CONTACTS_PER_HOUR_SQL: &str = "\
WITH latest AS (
  SELECT c.hour,
         coalesce(c.channel, 'UNKNOWN') AS channel,
         row_number() OVER (PARTITION BY c.contact_id ORDER BY c.last_update_timestamp DESC) AS copy_rank
  FROM ctr c
  WHERE concat(c.year, '-', c.month, '-', c.day) BETWEEN ? AND ?
)
SELECT hour, channel, count(*) AS contacts
FROM latest
WHERE copy_rank = 1
GROUP BY hour, channel
ORDER BY hour, channel";

/// Agent-minutes in each status per hour of day (UTC), from `agent_events`, between two days
/// (`YYYY-MM-DD`, both included). A status lasts from its event to the agent's next event in
/// the window (at most a day); the agent's last status has no end and is not counted, and
/// neither is time logged out (`Offline`). A status that spans hours is split between them.
pub const AGENT_OCCUPANCY_SQL: &str = "\
WITH events AS (
  SELECT e.agent_status AS status,
         to_unixtime(e.event_timestamp) AS t,
         lead(to_unixtime(e.event_timestamp)) OVER (
           PARTITION BY e.agent_username ORDER BY e.event_timestamp, e.event_id) AS t_next
  FROM agent_events e
  WHERE concat(e.year, '-', e.month, '-', e.day) BETWEEN ? AND ?
    AND e.agent_username IS NOT NULL
    AND e.event_type <> 'HEART_BEAT'
),
spans AS (
  SELECT status, t, CASE WHEN t_next - t > 86400 THEN t + 86400 ELSE t_next END AS t_end
  FROM events
  WHERE t_next IS NOT NULL AND status IS NOT NULL AND status <> 'Offline'
),
pieces AS (
  SELECT s.status,
         floor(s.t / 3600) + k.n AS hour_index,
         CASE WHEN s.t_end < (floor(s.t / 3600) + k.n + 1) * 3600 THEN s.t_end
              ELSE (floor(s.t / 3600) + k.n + 1) * 3600 END
         - CASE WHEN s.t > (floor(s.t / 3600) + k.n) * 3600 THEN s.t
                ELSE (floor(s.t / 3600) + k.n) * 3600 END AS seconds
  FROM spans s
  CROSS JOIN (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9), (10), (11), (12),
                     (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23), (24)) AS k (n)
)
SELECT CAST(hour_index % 24 AS bigint) AS hour_of_day,
       status,
       round(sum(seconds) / 60.0, 1) AS agent_minutes
FROM pieces
WHERE seconds > 0
GROUP BY CAST(hour_index % 24 AS bigint), status
ORDER BY hour_of_day, status";

/// The first and last day of contacts in the lake, when no window is given.
const LAKE_DAYS_SQL: &str = "\
SELECT min(concat(year, '-', month, '-', day)) AS first_day,
       max(concat(year, '-', month, '-', day)) AS last_day
FROM ctr";

/// The tables the report reads, in the order the page lists them.
pub const TABLES: [&str; 5] = [
    "ctr",
    "agent_events",
    "sentiment_turns",
    "fraud_decisions",
    "connect_metrics",
];

/// Why the report could not be written. Nothing is written when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The catalog could not be read, or a query failed.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A named query of the template could not be prepared.
    #[error(transparent)]
    Named(#[from] QueryCliError),
    /// `--from`/`--to` do not make a window.
    #[error("{0}")]
    Window(String),
    /// The page could not be written to its destination.
    #[error("cannot write the report to {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    /// A query answered rows the report cannot read.
    #[error("{query}: unexpected result: {message}")]
    Result { query: String, message: String },
    /// A chart could not be drawn.
    #[error("cannot draw the chart of {view}: {message}")]
    Chart { view: String, message: String },
}

/// The days a report covers, both included (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Date,
    pub to: Date,
}

/// Parses a `YYYY-MM-DD` day.
///
/// # Errors
/// [`ReportError::Window`] naming the text.
pub fn parse_day(text: &str) -> Result<Date, ReportError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, format).map_err(|_| ReportError::Window(format!("expected a day as YYYY-MM-DD, got {text:?}")))
}

fn day_text(day: Date) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

impl Window {
    /// # Errors
    /// [`ReportError::Window`] when `from` is after `to` or the window spans more than
    /// [`MAX_MONTHS`] months.
    pub fn new(from: Date, to: Date) -> Result<Self, ReportError> {
        if from > to {
            return Err(ReportError::Window(format!(
                "--from {} is after --to {}",
                day_text(from),
                day_text(to)
            )));
        }
        let window = Window { from, to };
        let months = window.months().len();
        if months > MAX_MONTHS {
            return Err(ReportError::Window(format!(
                "the window spans {months} months; at most {MAX_MONTHS} are reported at once"
            )));
        }
        Ok(window)
    }

    /// The first day, `YYYY-MM-DD`.
    pub fn first_day(&self) -> String {
        day_text(self.from)
    }

    /// The last day, `YYYY-MM-DD`.
    pub fn last_day(&self) -> String {
        day_text(self.to)
    }

    /// The months the window touches, `YYYY-MM`, in order.
    pub fn months(&self) -> Vec<String> {
        let mut months = Vec::new();
        let (mut year, mut month) = (self.from.year(), self.from.month());
        while (year, u8::from(month)) <= (self.to.year(), u8::from(self.to.month())) {
            months.push(format!("{year:04}-{:02}", u8::from(month)));
            if month == Month::December {
                year += 1;
            }
            month = month.next();
        }
        months
    }

    /// Whether the window is exactly whole months (then a per-month query is exact for it).
    pub fn whole_months(&self) -> bool {
        self.from.day() == 1 && self.to.next_day().is_none_or(|d| d.day() == 1)
    }

    fn contains(&self, day: &str) -> bool {
        (self.first_day().as_str()..=self.last_day().as_str()).contains(&day)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.first_day())
        } else {
            write!(f, "{} to {}", self.first_day(), self.last_day())
        }
    }
}

/// What to report on and where to write it.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The HTML file to write.
    pub out: PathBuf,
    /// The days to report on; `None`: the days of the lake's first and last contact.
    pub window: Option<Window>,
}

/// What [`write_report`] wrote.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub path: PathBuf,
    pub bytes: u64,
    /// The window reported on; `None` when the lake holds no contacts and none was given.
    pub window: Option<Window>,
    /// Tables the report reads that the catalog does not have.
    pub missing_tables: Vec<String>,
    /// The views, in page order, and whether each had data.
    pub views: Vec<(String, bool)>,
    pub elapsed: Duration,
}

impl fmt::Display for ReportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_data = self.views.iter().filter(|(_, data)| *data).count();
        write!(
            f,
            "report: {} ({:.1} KB; {} of {} views with data; window {}",
            self.path.display(),
            self.bytes as f64 / 1024.0,
            with_data,
            self.views.len(),
            self.window
                .map_or_else(|| "none: the lake holds no contacts".to_owned(), |w| w.to_string()),
        )?;
        if !self.missing_tables.is_empty() {
            write!(f, "; missing tables: {}", self.missing_tables.join(", "))?;
        }
        write!(f, ") in {:.2} s", self.elapsed.as_secs_f64())
    }
}

/// Builds the report from the lake in `database` and writes it to `options.out`.
///
/// # Errors
/// [`ReportError::Write`] when the destination's directory cannot take a file (checked before
/// any query runs), [`ReportError::Query`] when the catalog cannot be read (for example an
/// unreachable endpoint) or a query fails, [`ReportError::Window`] for a window the lake's days
/// cannot fill. No file is written, partial or whole, when an error is returned.
pub async fn write_report(
    config: &SdkConfig,
    database: &str,
    options: &ReportOptions,
) -> Result<ReportSummary, ReportError> {
    let started = Instant::now();
    let write_error = |source| ReportError::Write {
        path: options.out.clone(),
        source,
    };
    if options.out.is_dir() {
        return Err(write_error(std::io::Error::other("it is a directory")));
    }
    let dir = match options.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Created first, so an unwritable destination fails before any query runs; dropped (and
    // removed) on every error below.
    let mut staged = tempfile::Builder::new()
        .prefix(".lakectl-report-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_error)?;

    let lake = LakeQuery::connect(config, database).await?;
    let page = build(&lake, database, options.window).await?;
    let text = page.render();

    staged.write_all(text.as_bytes()).map_err(write_error)?;
    staged.as_file().sync_all().map_err(write_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let readable = std::fs::Permissions::from_mode(0o644);
        staged.as_file().set_permissions(readable).map_err(write_error)?;
    }
    staged.persist(&options.out).map_err(|e| write_error(e.error))?;
    Ok(ReportSummary {
        path: options.out.clone(),
        bytes: text.len() as u64,
        window: page.window,
        missing_tables: page.missing.clone(),
        views: page.views.iter().map(|v| (v.title.clone(), v.has_data())).collect(),
        elapsed: started.elapsed(),
    })
}

/// The whole page, before rendering.
struct Page {
    database: String,
    window: Option<Window>,
    missing: Vec<String>,
    views: Vec<View>,
}

type Row = Map<String, Value>;

async fn rows(lake: &LakeQuery, query: &str, sql: &str, params: &[String]) -> Result<Vec<Row>, ReportError> {
    let result = lake.sql_with_params(sql, params).await?;
    let json = result.to_json()?;
    let parsed: Vec<Row> = serde_json::from_str(&json).map_err(|e| ReportError::Result {
        query: query.to_owned(),
        message: e.to_string(),
    })?;
    Ok(parsed)
}

/// One named query of the template, run for each month of the window, rows of all months.
async fn named_rows(lake: &LakeQuery, name: &str, window: &Window) -> Result<Vec<Row>, ReportError> {
    let query = named(TEMPLATE, name)?;
    let mut all = Vec::new();
    for month in window.months() {
        let params = month_params(&query, &month)?;
        all.extend(rows(lake, name, &query.sql, &params).await?);
    }
    Ok(all)
}

fn number(row: &Row, key: &str) -> Option<f64> {
    match row.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A weighted mean of values that may be missing: the mean of the present ones.
#[derive(Debug, Default, Clone, Copy)]
struct Mean {
    sum: f64,
    weight: f64,
}

impl Mean {
    fn add(&mut self, value: Option<f64>, weight: f64) {
        if let Some(v) = value {
            self.sum += v * weight;
            self.weight += weight;
        }
    }

    fn value(&self, decimals: i32) -> Option<f64> {
        (self.weight > 0.0).then(|| round_to(self.sum / self.weight, decimals))
    }
}

fn missing_body(tables: &[&str]) -> Body {
    Body::Missing(tables.iter().map(|t| (*t).to_owned()).collect())
}

fn no_data(window: &Window, what: &str) -> Body {
    Body::Empty(format!(
        "No {what} between {} and {} (UTC).",
        window.first_day(),
        window.last_day()
    ))
}

fn chart_error(view: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Chart {
        view: view.to_owned(),
        message,
    }
}

fn day_window_note(window: &Window) -> String {
    format!("Window: {window} (UTC days).")
}

fn month_window_note(window: &Window, query: &str) -> String {
    let months = window.months().join(", ");
    if window.whole_months() {
        format!("Window: {window}, whole months ({months}). Named query {query}, once per month.")
    } else {
        format!(
            "Window: whole months {months}, wider than {window}: named query {query} runs per month and its rows \
             carry no day to narrow them by."
        )
    }
}

const HOURS: usize = 24;

fn hour_labels() -> Vec<String> {
    (0..HOURS).map(|h| format!("{h:02}")).collect()
}

/// View 1: contacts per hour of day by channel.
async fn contacts_per_hour(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "contacts-per-hour";
    let mut view = View::new(ID, "Contacts per hour by channel", day_window_note(window));
    view.source = "Latest copy of each contact (ctr), by the hour it began (UTC), stacked by channel.".to_owned();
    if !tables.iter().any(|t| t == "ctr") {
        view.body = missing_body(&["ctr"]);
        return Ok(view);
    }
    let params = [window.first_day(), window.last_day()];
    let found = rows(lake, ID, CONTACTS_PER_HOUR_SQL, &params).await?;
    let mut by_channel: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for row in &found {
        let hour = text(row, "hour")
            .and_then(|h| h.parse::<usize>().ok())
            .filter(|h| *h < HOURS);
        let (Some(hour), Some(channel), Some(n)) = (hour, text(row, "channel"), number(row, "contacts")) else {
            return Err(ReportError::Result {
                query: ID.to_owned(),
                message: format!("row {row:?} lacks an hour, channel or count"),
            });
        };
        by_channel.entry(channel).or_insert_with(|| vec![0.0; HOURS])[hour] += n;
    }
    if by_channel.is_empty() {
        view.body = no_data(window, "contacts");
        return Ok(view);
    }
    let series: Vec<Series> = by_channel
        .iter()
        .enumerate()
        .map(|(i, (name, values))| Series::new(name, values.clone(), i))
        .collect();
    let svg =
        chart::columns(&hour_labels(), &series, "hour of day (UTC)", "contacts (count)").map_err(chart_error(ID))?;
    let mut head = vec!["hour (UTC)".to_owned()];
    head.extend(by_channel.keys().cloned());
    head.push("total".to_owned());
    let mut table = Table::new(head);
    for hour in 0..HOURS {
        let counts: Vec<f64> = by_channel.values().map(|v| v[hour]).collect();
        let total: f64 = counts.iter().sum();
        if total > 0.0 {
            let mut row = vec![format!("{hour:02}")];
            row.extend(counts.iter().map(|c| html::num(*c)));
            row.push(html::num(total));
            table.rows.push(row);
        }
    }
    view.body = Body::Data {
        charts: vec![svg],
        table,
    };
    Ok(view)
}

/// View 2: average handle time per queue, talk, hold and after-contact work.
async fn handle_time(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "handle-time";
    const QUERY: &str = "average-handle-time-by-queue";
    let mut view = View::new(ID, "Average handle time per queue", month_window_note(window, QUERY));
    view.source = "Talk, hold and after-contact work of the contacts an agent handled, in seconds per contact; \
                   queues with the longest handle time first."
        .to_owned();
    if !tables.iter().any(|t| t == "ctr") {
        view.body = missing_body(&["ctr"]);
        return Ok(view);
    }
    #[derive(Default)]
    struct Queue {
        handled: f64,
        handle: Mean,
        talk: Mean,
        hold: Mean,
        acw: Mean,
    }
    let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
    for row in named_rows(lake, QUERY, window).await? {
        let name = text(&row, "queue_name").unwrap_or_else(|| "(no queue)".to_owned());
        let n = number(&row, "handled_contacts").unwrap_or(0.0);
        let q = queues.entry(name).or_default();
        q.handled += n;
        q.handle.add(number(&row, "avg_handle_time_s"), n);
        q.talk.add(number(&row, "avg_talk_s"), n);
        q.hold.add(number(&row, "avg_hold_s"), n);
        q.acw.add(number(&row, "avg_after_contact_work_s"), n);
    }
    if queues.is_empty() {
        view.body = no_data(window, "handled contacts");
        return Ok(view);
    }
    let mut ordered: Vec<(String, Queue)> = queues.into_iter().collect();
    ordered.sort_by(|a, b| {
        let (x, y) = (a.1.handle.value(1).unwrap_or(0.0), b.1.handle.value(1).unwrap_or(0.0));
        y.total_cmp(&x).then_with(|| a.0.cmp(&b.0))
    });
    let names: Vec<String> = ordered.iter().map(|(n, _)| n.clone()).collect();
    let part =
        |f: fn(&Queue) -> Mean| -> Vec<f64> { ordered.iter().map(|(_, q)| f(q).value(1).unwrap_or(0.0)).collect() };
    let series = vec![
        Series::new("talk", part(|q| q.talk), 0),
        Series::new("hold", part(|q| q.hold), 1),
        Series::new("after-contact work", part(|q| q.acw), 2),
    ];
    let svg =
        chart::bars(&names, &series, "average seconds per handled contact (s)", "queue").map_err(chart_error(ID))?;
    let mut table = Table::new(
        [
            "queue",
            "handled contacts",
            "avg handle time (s)",
            "avg talk (s)",
            "avg hold (s)",
            "avg after-contact work (s)",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for (name, q) in &ordered {
        table.rows.push(vec![
            name.clone(),
            html::num(q.handled),
            html::opt(q.handle.value(1)),
            html::opt(q.talk.value(1)),
            html::opt(q.hold.value(1)),
            html::opt(q.acw.value(1)),
        ]);
    }
    view.body = Body::Data {
        charts: vec![svg],
        table,
    };
    Ok(view)
}

/// The note of a view drawn from a named query, which runs once per month of the window.
fn named_query_note(query: &str, window: &Window) -> String {
    format!(
        "{} Named query {query}, once per month, its rows narrowed to the window's days.",
        day_window_note(window)
    )
}

/// View 3: abandonment rate per queue and the average wait before abandoning.
async fn abandonment(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "abandonment";
    const QUERY: &str = "abandonment-by-queue";
    let note = named_query_note(QUERY, window);
    let mut view = View::new(ID, "Abandonment per queue", note);
    view.source = "Queued voice contacts that disconnected before reaching an agent, and how long they waited; \
                   highest rate first."
        .to_owned();
    if !tables.iter().any(|t| t == "ctr") {
        view.body = missing_body(&["ctr"]);
        return Ok(view);
    }
    #[derive(Default)]
    struct Queue {
        queued: f64,
        abandoned: f64,
        wait: Mean,
    }
    let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
    for row in named_rows(lake, QUERY, window).await? {
        if !text(&row, "contact_day").is_some_and(|d| window.contains(&d)) {
            continue;
        }
        let name = text(&row, "queue_name").unwrap_or_else(|| "(no queue)".to_owned());
        let abandoned = number(&row, "abandoned").unwrap_or(0.0);
        let q = queues.entry(name).or_default();
        q.queued += number(&row, "queued_contacts").unwrap_or(0.0);
        q.abandoned += abandoned;
        q.wait.add(number(&row, "avg_wait_before_abandon_s"), abandoned);
    }
    if queues.is_empty() {
        view.body = no_data(window, "queued voice contacts");
        return Ok(view);
    }
    let rate = |q: &Queue| {
        if q.queued > 0.0 {
            round_to(100.0 * q.abandoned / q.queued, 2)
        } else {
            0.0
        }
    };
    let mut ordered: Vec<(String, Queue)> = queues.into_iter().collect();
    ordered.sort_by(|a, b| rate(&b.1).total_cmp(&rate(&a.1)).then_with(|| a.0.cmp(&b.0)));
    let names: Vec<String> = ordered.iter().map(|(n, _)| n.clone()).collect();
    let rates = vec![Series::new(
        "abandonment rate",
        ordered.iter().map(|(_, q)| rate(q)).collect(),
        3,
    )];
    let waits = vec![Series::new(
        "average wait before abandoning",
        ordered.iter().map(|(_, q)| q.wait.value(1).unwrap_or(0.0)).collect(),
        4,
    )];
    let rate_svg = chart::bars(&names, &rates, "abandonment rate (% of queued voice contacts)", "queue")
        .map_err(chart_error(ID))?;
    let wait_svg =
        chart::bars(&names, &waits, "average wait before abandoning (s)", "queue").map_err(chart_error(ID))?;
    let mut table = Table::new(
        [
            "queue",
            "queued contacts",
            "abandoned",
            "abandonment rate (%)",
            "avg wait before abandoning (s)",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for (name, q) in &ordered {
        table.rows.push(vec![
            name.clone(),
            html::num(q.queued),
            html::num(q.abandoned),
            html::num(rate(q)),
            html::opt(q.wait.value(1)),
        ]);
    }
    view.body = Body::Data {
        charts: vec![rate_svg, wait_svg],
        table,
    };
    Ok(view)
}

/// View 4: customer sentiment per agent, worst first.
async fn sentiment(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "sentiment";
    const QUERY: &str = "customer-sentiment-by-agent";
    let mut view = View::new(ID, "Customer sentiment per agent", month_window_note(window, QUERY));
    view.source = "Share of the customer's turns that were negative and positive, per agent; the most negative \
                   first."
        .to_owned();
    let missing: Vec<&str> = ["ctr", "sentiment_turns"]
        .into_iter()
        .filter(|t| !tables.iter().any(|have| have == t))
        .collect();
    if !missing.is_empty() {
        view.body = missing_body(&missing);
        return Ok(view);
    }
    #[derive(Default)]
    struct Agent {
        contacts: f64,
        turns: f64,
        positive: Mean,
        negative: Mean,
    }
    let mut agents: BTreeMap<String, Agent> = BTreeMap::new();
    for row in named_rows(lake, QUERY, window).await? {
        let Some(name) = text(&row, "agent_username") else {
            continue;
        };
        let turns = number(&row, "customer_turns").unwrap_or(0.0);
        let a = agents.entry(name).or_default();
        a.contacts += number(&row, "contacts").unwrap_or(0.0);
        a.turns += turns;
        a.positive.add(number(&row, "positive_pct"), turns);
        a.negative.add(number(&row, "negative_pct"), turns);
    }
    if agents.is_empty() {
        view.body = no_data(window, "customer turns with sentiment");
        return Ok(view);
    }
    let pct = |m: &Mean| m.value(1).unwrap_or(0.0);
    let mut ordered: Vec<(String, Agent)> = agents.into_iter().collect();
    ordered.sort_by(|a, b| {
        pct(&b.1.negative)
            .total_cmp(&pct(&a.1.negative))
            .then_with(|| pct(&a.1.positive).total_cmp(&pct(&b.1.positive)))
            .then_with(|| a.0.cmp(&b.0))
    });
    let names: Vec<String> = ordered.iter().map(|(n, _)| n.clone()).collect();
    let series = vec![
        Series::new("negative", ordered.iter().map(|(_, a)| pct(&a.negative)).collect(), 3),
        Series::new("positive", ordered.iter().map(|(_, a)| pct(&a.positive)).collect(), 5),
    ];
    let svg = chart::bars(&names, &series, "share of customer turns (%)", "agent").map_err(chart_error(ID))?;
    let mut table = Table::new(
        ["agent", "contacts", "customer turns", "negative (%)", "positive (%)"]
            .map(str::to_owned)
            .to_vec(),
    );
    for (name, a) in &ordered {
        table.rows.push(vec![
            name.clone(),
            html::num(a.contacts),
            html::num(a.turns),
            html::opt(a.negative.value(1)),
            html::opt(a.positive.value(1)),
        ]);
    }
    view.body = Body::Data {
        charts: vec![svg],
        table,
    };
    Ok(view)
}

/// View 5: fraud decisions per risk level and route, with the top reasons.
async fn fraud(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "fraud";
    const QUERY: &str = "fraud-decisions-by-level";
    let mut view = View::new(
        ID,
        "Fraud decisions per risk level and route",
        month_window_note(window, QUERY),
    );
    view.source = "fraud-router's decisions, split into those made with the full policy and degraded ones; \
                   the three most frequent reasons of each."
        .to_owned();
    if !tables.iter().any(|t| t == "fraud_decisions") {
        view.body = missing_body(&["fraud_decisions"]);
        return Ok(view);
    }
    #[derive(Default)]
    struct Group {
        decisions: f64,
        degraded: f64,
        risk: Mean,
        reasons: BTreeMap<String, f64>,
    }
    let mut groups: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    // The level figures repeat on each reason row of a month: take them once per month.
    let mut seen: std::collections::BTreeSet<(String, String, String, String)> = Default::default();
    let query = named(TEMPLATE, QUERY)?;
    for month in window.months() {
        let params = month_params(&query, &month)?;
        for row in rows(lake, QUERY, &query.sql, &params).await? {
            let key = (
                text(&row, "risk_level").unwrap_or_else(|| "(none)".to_owned()),
                text(&row, "route").unwrap_or_else(|| "(none)".to_owned()),
                text(&row, "policy_version").unwrap_or_else(|| "(none)".to_owned()),
            );
            let g = groups.entry(key.clone()).or_default();
            if seen.insert((key.0, key.1, key.2, month.clone())) {
                let n = number(&row, "decisions").unwrap_or(0.0);
                g.decisions += n;
                g.degraded += number(&row, "degraded_decisions").unwrap_or(0.0);
                g.risk.add(number(&row, "avg_risk_score"), n);
            }
            if let (Some(reason), Some(times)) = (text(&row, "reason"), number(&row, "decisions_with_reason")) {
                *g.reasons.entry(reason).or_default() += times;
            }
        }
    }
    if groups.is_empty() {
        view.body = no_data(window, "fraud decisions");
        return Ok(view);
    }
    let mut ordered: Vec<((String, String, String), Group)> = groups.into_iter().collect();
    ordered.sort_by(|a, b| b.1.decisions.total_cmp(&a.1.decisions).then_with(|| a.0.cmp(&b.0)));
    let names: Vec<String> = ordered
        .iter()
        .map(|((level, route, policy), _)| format!("{level} / {route} / {policy}"))
        .collect();
    let series = vec![
        Series::new(
            "full policy",
            ordered.iter().map(|(_, g)| g.decisions - g.degraded).collect(),
            0,
        ),
        Series::new("degraded", ordered.iter().map(|(_, g)| g.degraded).collect(), 3),
    ];
    let svg =
        chart::bars(&names, &series, "decisions (count)", "risk level / route / policy").map_err(chart_error(ID))?;
    let mut table = Table::new(
        [
            "risk level",
            "route",
            "policy",
            "decisions",
            "degraded",
            "avg risk score",
            "top reasons (decisions)",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for ((level, route, policy), g) in &ordered {
        let mut reasons: Vec<(&String, &f64)> = g.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let top = reasons
            .iter()
            .take(3)
            .map(|(r, n)| format!("{r} ({})", html::num(**n)))
            .collect::<Vec<_>>()
            .join(", ");
        table.rows.push(vec![
            level.clone(),
            route.clone(),
            policy.clone(),
            html::num(g.decisions),
            html::num(g.degraded),
            html::opt(g.risk.value(1)),
            if top.is_empty() { "none".to_owned() } else { top },
        ]);
    }
    view.body = Body::Data {
        charts: vec![svg],
        table,
    };
    Ok(view)
}

/// View 6: agent occupancy, minutes in each status per hour of day.
async fn occupancy(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "occupancy";
    let mut view = View::new(ID, "Agent occupancy per hour", day_window_note(window));
    view.source = "Agent-minutes in each status per hour of day (UTC), from agent_events: a status lasts until the \
                   agent's next event; time logged out and each agent's last, open status are not counted."
        .to_owned();
    if !tables.iter().any(|t| t == "agent_events") {
        view.body = missing_body(&["agent_events"]);
        return Ok(view);
    }
    let params = [window.first_day(), window.last_day()];
    let found = rows(lake, ID, AGENT_OCCUPANCY_SQL, &params).await?;
    let mut by_status: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for row in &found {
        let hour = number(row, "hour_of_day").map(|h| h as usize).filter(|h| *h < HOURS);
        let (Some(hour), Some(status), Some(minutes)) = (hour, text(row, "status"), number(row, "agent_minutes"))
        else {
            return Err(ReportError::Result {
                query: ID.to_owned(),
                message: format!("row {row:?} lacks an hour, status or minutes"),
            });
        };
        by_status.entry(status).or_insert_with(|| vec![0.0; HOURS])[hour] += minutes;
    }
    if by_status.is_empty() {
        view.body = no_data(window, "agent status changes");
        return Ok(view);
    }
    let series: Vec<Series> = by_status
        .iter()
        .enumerate()
        .map(|(i, (name, values))| Series::new(name, values.clone(), i))
        .collect();
    let svg = chart::columns(&hour_labels(), &series, "hour of day (UTC)", "agent time (minutes)")
        .map_err(chart_error(ID))?;
    let mut head = vec!["hour (UTC)".to_owned()];
    head.extend(by_status.keys().map(|s| format!("{s} (min)")));
    head.push("total (min)".to_owned());
    let mut table = Table::new(head);
    for hour in 0..HOURS {
        let minutes: Vec<f64> = by_status.values().map(|v| v[hour]).collect();
        let total: f64 = minutes.iter().sum();
        if total > 0.0 {
            let mut row = vec![format!("{hour:02}")];
            row.extend(minutes.iter().map(|m| html::num(*m)));
            row.push(html::num(round_to(total, 1)));
            table.rows.push(row);
        }
    }
    view.body = Body::Data {
        charts: vec![svg],
        table,
    };
    Ok(view)
}

/// View 7: queue size and longest wait, from Connect's own metrics (`connect_metrics`).
async fn queue_metrics(lake: &LakeQuery, window: &Window, tables: &[String]) -> Result<View, ReportError> {
    const ID: &str = "queue-metrics";
    const QUERY: &str = "queue-peaks-by-hour";
    let note = named_query_note(QUERY, window);
    let mut view = View::new(ID, "Queue size and longest wait over time", note);
    view.source = "Connect's AWS/Connect QueueSize and LongestQueueWaitTime maxima (connect_metrics): the most \
                   contacts waiting in one queue per hour of day (UTC), and each queue's peak and longest wait; \
                   longest wait first."
        .to_owned();
    if !tables.iter().any(|t| t == "connect_metrics") {
        view.body = missing_body(&["connect_metrics"]);
        return Ok(view);
    }
    /// A maximum and the first hour it was reached.
    fn raise(best: &mut Option<(f64, String)>, value: Option<f64>, hour: &str) {
        if let Some(v) = value
            && best
                .as_ref()
                .is_none_or(|(b, at)| v > *b || (v == *b && hour < at.as_str()))
        {
            *best = Some((v, hour.to_owned()));
        }
    }
    #[derive(Default)]
    struct Queue {
        peak: Option<(f64, String)>,
        longest: Option<(f64, String)>,
        hours: usize,
    }
    let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
    let mut by_hour = vec![0.0; HOURS];
    for row in named_rows(lake, QUERY, window).await? {
        let Some(period) = text(&row, "period_hour") else {
            continue;
        };
        if !period.get(..10).is_some_and(|d| window.contains(d)) {
            continue;
        }
        let name = text(&row, "queue_name").unwrap_or_else(|| "(no queue)".to_owned());
        let size = number(&row, "peak_queue_size");
        if let (Some(hour), Some(size)) = (
            period
                .get(11..13)
                .and_then(|h| h.parse::<usize>().ok())
                .filter(|h| *h < HOURS),
            size,
        ) {
            by_hour[hour] = f64::max(by_hour[hour], size);
        }
        let q = queues.entry(name).or_default();
        q.hours += 1;
        raise(&mut q.peak, size, &period);
        raise(&mut q.longest, number(&row, "longest_wait_s"), &period);
    }
    if queues.is_empty() {
        view.body = no_data(window, "queue metrics");
        return Ok(view);
    }
    let mut ordered: Vec<(String, Queue)> = queues.into_iter().collect();
    let longest = |q: &Queue| q.longest.as_ref().map_or(0.0, |l| l.0);
    ordered.sort_by(|a, b| longest(&b.1).total_cmp(&longest(&a.1)).then_with(|| a.0.cmp(&b.0)));
    let sizes = chart::columns(
        &hour_labels(),
        &[Series::new("most contacts waiting in one queue", by_hour, 0)],
        "hour of day (UTC)",
        "contacts waiting (count)",
    )
    .map_err(chart_error(ID))?;
    let names: Vec<String> = ordered.iter().map(|(n, _)| n.clone()).collect();
    let waits: Vec<f64> = ordered.iter().map(|(_, q)| longest(q)).collect();
    let waits = chart::bars(
        &names,
        &[Series::new("longest wait", waits, 1)],
        "longest wait in queue (s)",
        "queue",
    )
    .map_err(chart_error(ID))?;
    let mut table = Table::new(
        [
            "queue",
            "peak queue size",
            "peak at (UTC)",
            "longest wait (s)",
            "longest wait at (UTC)",
            "hours with contacts waiting",
        ]
        .map(str::to_owned)
        .to_vec(),
    );
    for (name, q) in &ordered {
        let value = |m: &Option<(f64, String)>| html::opt(m.as_ref().map(|p| p.0));
        let at = |m: &Option<(f64, String)>| m.as_ref().map_or_else(String::new, |p| p.1.clone());
        table.rows.push(vec![
            name.clone(),
            value(&q.peak),
            at(&q.peak),
            value(&q.longest),
            at(&q.longest),
            q.hours.to_string(),
        ]);
    }
    view.body = Body::Data {
        charts: vec![sizes, waits],
        table,
    };
    Ok(view)
}

const VIEW_TITLES: [(&str, &str); 7] = [
    ("contacts-per-hour", "Contacts per hour by channel"),
    ("handle-time", "Average handle time per queue"),
    ("abandonment", "Abandonment per queue"),
    ("sentiment", "Customer sentiment per agent"),
    ("fraud", "Fraud decisions per risk level and route"),
    ("occupancy", "Agent occupancy per hour"),
    ("queue-metrics", "Queue size and longest wait over time"),
];

async fn lake_window(lake: &LakeQuery, tables: &[String]) -> Result<Option<Window>, ReportError> {
    if !tables.iter().any(|t| t == "ctr") {
        return Ok(None);
    }
    let found = rows(lake, "the lake's days", LAKE_DAYS_SQL, &[]).await?;
    let day = |key| {
        found
            .first()
            .and_then(|r| text(r, key))
            .map(|d| parse_day(&d))
            .transpose()
    };
    match (day("first_day")?, day("last_day")?) {
        (Some(from), Some(to)) => Window::new(from, to).map(Some),
        _ => Ok(None),
    }
}

async fn build(lake: &LakeQuery, database: &str, window: Option<Window>) -> Result<Page, ReportError> {
    let tables = lake.tables();
    let missing: Vec<String> = TABLES
        .iter()
        .filter(|t| !tables.iter().any(|have| have == *t))
        .map(|t| (*t).to_owned())
        .collect();
    let window = match window {
        Some(w) => Some(w),
        None => lake_window(lake, &tables).await?,
    };
    let views = match &window {
        Some(w) => {
            // The queries wait mostly on S3 reads: run the views' queries at once.
            let (hourly, handle, abandon, sentiment, fraud, occupancy, queues) = tokio::try_join!(
                contacts_per_hour(lake, w, &tables),
                handle_time(lake, w, &tables),
                abandonment(lake, w, &tables),
                sentiment(lake, w, &tables),
                fraud(lake, w, &tables),
                occupancy(lake, w, &tables),
                queue_metrics(lake, w, &tables),
            )?;
            vec![hourly, handle, abandon, sentiment, fraud, occupancy, queues]
        }
        None => VIEW_TITLES
            .iter()
            .map(|(id, title)| {
                let mut view = View::new(id, title, "Window: none.".to_owned());
                view.body =
                    Body::Empty("The lake holds no contacts, and no --from/--to was given: nothing to report.".into());
                view
            })
            .collect(),
    };
    Ok(Page {
        database: database.to_owned(),
        window,
        missing,
        views,
    })
}

impl Page {
    fn render(&self) -> String {
        let generated = time::OffsetDateTime::now_utc();
        let window = self.window.map_or_else(
            || "none (the lake holds no contacts)".to_owned(),
            |w| format!("{w} (UTC days)"),
        );
        html::page(&html::PageHead {
            database: &self.database,
            window: &window,
            generated: &format!(
                "{} {:02}:{:02} UTC",
                day_text(generated.date()),
                generated.hour(),
                generated.minute()
            ),
            missing: &self.missing,
            views: &self.views,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        parse_day(text).unwrap()
    }

    #[test]
    fn a_window_lists_the_months_it_touches() {
        let w = Window::new(day("2025-11-30"), day("2026-02-01")).unwrap();
        assert_eq!(w.months(), ["2025-11", "2025-12", "2026-01", "2026-02"]);
        assert!(!w.whole_months());
        assert!(
            Window::new(day("2026-03-01"), day("2026-03-31"))
                .unwrap()
                .whole_months()
        );
        assert!(w.contains("2025-12-15") && !w.contains("2026-02-02"));
        assert_eq!(
            Window::new(day("2026-03-08"), day("2026-03-08")).unwrap().to_string(),
            "2026-03-08"
        );
    }

    #[test]
    fn a_backwards_or_huge_window_or_a_bad_day_is_refused() {
        assert!(Window::new(day("2026-03-09"), day("2026-03-08")).is_err());
        assert!(Window::new(day("2020-01-01"), day("2026-03-08")).is_err());
        for bad in ["2026-3-8", "2026-02-30", "yesterday", ""] {
            assert!(parse_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weighted_means_skip_missing_values() {
        let mut m = Mean::default();
        m.add(Some(10.0), 1.0);
        m.add(None, 5.0);
        m.add(Some(20.0), 3.0);
        assert_eq!(m.value(1), Some(17.5));
        assert_eq!(Mean::default().value(1), None);
    }
}
