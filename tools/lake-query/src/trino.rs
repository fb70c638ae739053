//! Trino (Athena engine v3) functions that DataFusion lacks or spells differently, so the
//! project's Athena named queries run unmodified.
//!
//! DataFusion already has, with Trino's semantics for the lake's types: `date_trunc`, `round`,
//! `concat`, `array_agg`, `regexp_like`, `split_part`, `approx_distinct`, `coalesce`, `lower`,
//! `upper`, `length`, `substr`, `strpos`, `replace`, `abs`, `floor`, `ceil`, `greatest`, `least`,
//! `nullif`, `current_date`, `now`, `row_number`/`rank` and the usual aggregates. Registered here
//! are only the functions it does not have, or has with another meaning:
//! - `date_format` is DataFusion's alias of `to_char` with chrono patterns (`%i` and `%s` differ
//!   from MySQL's), `to_unixtime` returns whole seconds, not a double, `element_at` is map-only
//!   and returns a list, `contains` is a string function, `cardinality` returns an unsigned
//!   count of all nested elements.
//! - `count_if`, `max_by`, `min_by`, `date_diff`, `date_add`, `approx_percentile`, `arbitrary`,
//!   `from_iso8601_timestamp`, `slice`, `json_extract_scalar`, `split`, `regexp_extract`, and
//!   the field functions `year`, `quarter`, `month`, `week`, `day`, `day_of_week`,
//!   `day_of_year`, `hour`, `minute`, `second` do not exist.

use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDateTime, Timelike};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
    TimestampMillisecondArray,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Field, FieldRef, Int64Type, TimeUnit, TimestampMillisecondType,
};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionContext;
use datafusion::functions_aggregate::approx_percentile_cont::approx_percentile_cont_udaf;
use datafusion::functions_aggregate::first_last::first_value_udaf;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, Volatility, lit, when,
};

/// The functions registered with Trino semantics (DataFusion lacks them or differs). Every one
/// is exercised by the crate's tests.
pub const TRINO_FUNCTIONS: &[&str] = &[
    "approx_percentile",
    "arbitrary",
    "cardinality",
    "contains",
    "count_if",
    "date_add",
    "date_diff",
    "date_format",
    "day",
    "day_of_week",
    "day_of_year",
    "element_at",
    "from_iso8601_timestamp",
    "hour",
    "json_extract_scalar",
    "max_by",
    "min_by",
    "minute",
    "month",
    "quarter",
    "regexp_extract",
    "second",
    "slice",
    "split",
    "to_unixtime",
    "week",
    "year",
];

/// Registers every function of [`TRINO_FUNCTIONS`] on the context, replacing DataFusion's
/// functions of the same names.
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(AggregateUDF::from(CountIf::new()));
    ctx.register_udaf(AggregateUDF::from(ValueBy::new(true)));
    ctx.register_udaf(AggregateUDF::from(ValueBy::new(false)));
    let approx = approx_percentile_cont_udaf()
        .as_ref()
        .clone()
        .with_aliases(["approx_percentile"]);
    ctx.register_udaf(approx);
    // Trino's "any value of the group": first_value without an ORDER BY is exactly that.
    let arbitrary = first_value_udaf().as_ref().clone().with_aliases(["arbitrary"]);
    ctx.register_udaf(arbitrary);
    for udf in [
        ScalarUDF::from(DateAdd::new()),
        ScalarUDF::from(DateDiff::new()),
        ScalarUDF::from(DateFormat::new()),
        ScalarUDF::from(FromIso8601Timestamp::new()),
        ScalarUDF::from(ToUnixtime::new()),
        ScalarUDF::from(Cardinality::new()),
        ScalarUDF::from(Slice::new()),
        ScalarUDF::from(ElementAt::new()),
        ScalarUDF::from(Contains::new()),
        ScalarUDF::from(JsonExtractScalar::new()),
        ScalarUDF::from(Split::new()),
        ScalarUDF::from(RegexpExtract::new()),
    ] {
        ctx.register_udf(udf);
    }
    for field in DateField::all() {
        ctx.register_udf(ScalarUDF::from(field));
    }
}

fn user_defined() -> Signature {
    Signature::user_defined(Volatility::Immutable)
}

fn arity(name: &str, args: &[DataType], n: usize) -> Result<()> {
    if args.len() != n {
        return plan_err!("{name} takes {n} arguments, got {}", args.len());
    }
    Ok(())
}

const TIMESTAMP_MS: DataType = DataType::Timestamp(TimeUnit::Millisecond, None);

/// Dates, timestamps of any unit and strings become millisecond timestamps (strings are parsed
/// as by `CAST(x AS timestamp)`).
fn timestamp_like(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Timestamp(_, tz) => Ok(DataType::Timestamp(TimeUnit::Millisecond, tz.clone())),
        DataType::Date32 | DataType::Date64 | DataType::Null => Ok(TIMESTAMP_MS),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(TIMESTAMP_MS),
        other => plan_err!("{name} expects a timestamp or date, got {other}"),
    }
}

fn string_like(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => Ok(DataType::Utf8),
        other => plan_err!("{name} expects a string, got {other}"),
    }
}

fn millis(array: &ArrayRef) -> Result<&TimestampMillisecondArray> {
    array.as_primitive_opt::<TimestampMillisecondType>().ok_or_else(|| {
        DataFusionError::Internal(format!("expected a millisecond timestamp, got {}", array.data_type()))
    })
}

fn strings(array: &ArrayRef) -> Result<&StringArray> {
    array
        .as_string_opt::<i32>()
        .ok_or_else(|| DataFusionError::Internal(format!("expected a string, got {}", array.data_type())))
}

fn naive(ms: i64) -> Result<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc())
        .ok_or_else(|| DataFusionError::Execution(format!("timestamp {ms} ms is out of range")))
}

// ─── count_if ────────────────────────────────────────────────────────────────────────────────

/// `count_if(condition)`: rows where the condition is true; 0 for no rows (never null).
#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

impl CountIf {
    fn new() -> Self {
        CountIf {
            signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAccumulator(0)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "count"),
            DataType::Int64,
            false,
        ))])
    }

    fn default_value(&self, _: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

#[derive(Debug)]
struct CountIfAccumulator(i64);

fn trues(values: &[ArrayRef]) -> Result<i64> {
    let Some(first) = values.first() else {
        return exec_err!("count_if takes one argument");
    };
    let booleans: &BooleanArray = first
        .as_boolean_opt()
        .ok_or_else(|| DataFusionError::Execution(format!("count_if expects a boolean, got {}", first.data_type())))?;
    Ok(i64::try_from(booleans.true_count()).unwrap_or(i64::MAX))
}

impl Accumulator for CountIfAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 += trues(values)?;
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0 -= trues(values)?;
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(counts) = states.first().and_then(|s| s.as_primitive_opt::<Int64Type>()) else {
            return exec_err!("count_if: unexpected intermediate state");
        };
        self.0 += counts.iter().flatten().sum::<i64>();
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }

    fn size(&self) -> usize {
        size_of_val(self)
    }
}

// ─── max_by, min_by ──────────────────────────────────────────────────────────────────────────

/// `max_by(x, y)` / `min_by(x, y)`: the `x` of the row with the greatest (least) `y`; rows with
/// a null `y` are skipped. "The queue of each contact's latest copy" is
/// `max_by(queue_name, last_update_timestamp)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ValueBy {
    max: bool,
    signature: Signature,
}

impl ValueBy {
    fn new(max: bool) -> Self {
        ValueBy {
            max,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for ValueBy {
    fn name(&self) -> &str {
        if self.max { "max_by" } else { "min_by" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args.first().cloned().unwrap_or(DataType::Null))
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let [value, key] = args.expr_fields else {
            return plan_err!("{} takes 2 arguments", self.name());
        };
        Ok(Box::new(ValueByAccumulator {
            max: self.max,
            value_type: value.data_type().clone(),
            key_type: key.data_type().clone(),
            best: None,
        }))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let [value, key] = args.input_fields else {
            return plan_err!("{} takes 2 arguments", self.name());
        };
        Ok(vec![
            Arc::new(Field::new(
                format_state_name(args.name, "value"),
                value.data_type().clone(),
                true,
            )),
            Arc::new(Field::new(
                format_state_name(args.name, "key"),
                key.data_type().clone(),
                true,
            )),
        ])
    }
}

#[derive(Debug)]
struct ValueByAccumulator {
    max: bool,
    value_type: DataType,
    key_type: DataType,
    /// The best key so far and its value.
    best: Option<(ScalarValue, ScalarValue)>,
}

impl ValueByAccumulator {
    fn offer(&mut self, values: &ArrayRef, keys: &ArrayRef) -> Result<()> {
        for i in 0..keys.len() {
            if keys.is_null(i) {
                continue;
            }
            let key = ScalarValue::try_from_array(keys, i)?;
            let better = match &self.best {
                None => true,
                Some((best, _)) => {
                    let order = key.partial_cmp(best);
                    if self.max {
                        order == Some(std::cmp::Ordering::Greater)
                    } else {
                        order == Some(std::cmp::Ordering::Less)
                    }
                }
            };
            if better {
                self.best = Some((key, ScalarValue::try_from_array(values, i)?));
            }
        }
        Ok(())
    }

    fn pair<'a>(name: &str, arrays: &'a [ArrayRef]) -> Result<(&'a ArrayRef, &'a ArrayRef)> {
        match arrays {
            [values, keys] => Ok((values, keys)),
            _ => exec_err!("{name} expects a value and a key"),
        }
    }
}

impl Accumulator for ValueByAccumulator {
    fn update_batch(&mut self, arrays: &[ArrayRef]) -> Result<()> {
        let (values, keys) = Self::pair("max_by/min_by", arrays)?;
        self.offer(values, keys)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (values, keys) = Self::pair("max_by/min_by state", states)?;
        self.offer(values, keys)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        match &self.best {
            Some((key, value)) => Ok(vec![value.clone(), key.clone()]),
            None => Ok(vec![
                ScalarValue::try_from(&self.value_type)?,
                ScalarValue::try_from(&self.key_type)?,
            ]),
        }
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        match &self.best {
            Some((_, value)) => Ok(value.clone()),
            None => ScalarValue::try_from(&self.value_type),
        }
    }

    fn size(&self) -> usize {
        size_of_val(self)
            + self
                .best
                .as_ref()
                .map_or(0, |(k, v)| k.size() + v.size() - 2 * size_of::<ScalarValue>())
    }
}

// ─── date_diff ───────────────────────────────────────────────────────────────────────────────

/// `date_diff(unit, start, end)`: whole units from `start` to `end`, as a bigint (negative when
/// `end` is earlier). Calendar units (month, quarter, year) count whole calendar months.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateDiff {
    signature: Signature,
}

impl DateDiff {
    fn new() -> Self {
        DateDiff {
            signature: user_defined(),
        }
    }
}

/// Whole `unit`s from `start_ms` to `end_ms`.
///
/// # Errors
/// An unknown unit, or a timestamp chrono cannot represent.
pub fn date_diff(unit: &str, start_ms: i64, end_ms: i64) -> Result<i64> {
    let span = end_ms - start_ms;
    let fixed = |unit_ms: i64| Ok(span / unit_ms);
    match unit.to_ascii_lowercase().as_str() {
        "millisecond" => fixed(1),
        "second" => fixed(1_000),
        "minute" => fixed(60_000),
        "hour" => fixed(3_600_000),
        "day" => fixed(86_400_000),
        "week" => fixed(7 * 86_400_000),
        calendar @ ("month" | "quarter" | "year") => {
            let (a, b) = (naive(start_ms)?, naive(end_ms)?);
            let mut months = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
            let rest = |d: &NaiveDateTime| (d.day(), d.num_seconds_from_midnight(), d.nanosecond());
            if months > 0 && rest(&b) < rest(&a) {
                months -= 1;
            } else if months < 0 && rest(&b) > rest(&a) {
                months += 1;
            }
            Ok(match calendar {
                "month" => months,
                "quarter" => months / 3,
                _ => months / 12,
            })
        }
        other => exec_err!(
            "date_diff: unknown unit {other:?}; use millisecond, second, minute, hour, day, week, month, quarter or year"
        ),
    }
}

impl ScalarUDFImpl for DateDiff {
    fn name(&self) -> &str {
        "date_diff"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("date_diff", args, 3)?;
        Ok(vec![
            string_like("date_diff", &args[0])?,
            timestamp_like("date_diff", &args[1])?,
            timestamp_like("date_diff", &args[2])?,
        ])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [units, starts, ends] = arrays.as_slice() else {
            return exec_err!("date_diff takes 3 arguments");
        };
        let (units, starts, ends) = (strings(units)?, millis(starts)?, millis(ends)?);
        let out = (0..units.len())
            .map(|i| {
                if units.is_null(i) || starts.is_null(i) || ends.is_null(i) {
                    return Ok(None);
                }
                date_diff(units.value(i), starts.value(i), ends.value(i)).map(Some)
            })
            .collect::<Result<Int64Array>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ─── date_add ────────────────────────────────────────────────────────────────────────────────

/// `date_add(unit, value, timestamp_or_date)`: the instant `value` units later (earlier when
/// negative); a date stays a date. Calendar units clamp to the month's last day (Jan 31 + 1
/// month = Feb 28), as Trino does.
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateAdd {
    signature: Signature,
}

impl DateAdd {
    fn new() -> Self {
        DateAdd {
            signature: user_defined(),
        }
    }
}

/// `start_ms` moved by `value` `unit`s.
///
/// # Errors
/// An unknown unit, or a result out of chrono's range.
pub fn date_add(unit: &str, value: i64, start_ms: i64) -> Result<i64> {
    let overflow =
        || DataFusionError::Execution(format!("date_add: {value} {unit} from {start_ms} ms is out of range"));
    let fixed = |unit_ms: i64| {
        value
            .checked_mul(unit_ms)
            .and_then(|d| start_ms.checked_add(d))
            .ok_or_else(overflow)
    };
    match unit.to_ascii_lowercase().as_str() {
        "millisecond" => fixed(1),
        "second" => fixed(1_000),
        "minute" => fixed(60_000),
        "hour" => fixed(3_600_000),
        "day" => fixed(86_400_000),
        "week" => fixed(7 * 86_400_000),
        calendar @ ("month" | "quarter" | "year") => {
            let per = match calendar {
                "month" => 1,
                "quarter" => 3,
                _ => 12,
            };
            let months = value.checked_mul(per).ok_or_else(overflow)?;
            let start = naive(start_ms)?;
            let magnitude = chrono::Months::new(u32::try_from(months.unsigned_abs()).map_err(|_| overflow())?);
            let moved = if months >= 0 {
                start.checked_add_months(magnitude)
            } else {
                start.checked_sub_months(magnitude)
            };
            Ok(moved.ok_or_else(overflow)?.and_utc().timestamp_millis())
        }
        other => exec_err!(
            "date_add: unknown unit {other:?}; use millisecond, second, minute, hour, day, week, month, quarter or year"
        ),
    }
}

impl ScalarUDFImpl for DateAdd {
    fn name(&self) -> &str {
        "date_add"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("date_add", args, 3)?;
        if !args[1].is_integer() && args[1] != DataType::Null {
            return plan_err!("date_add expects a whole number of units, got {}", args[1]);
        }
        let moved = match &args[2] {
            DataType::Date32 => DataType::Date32,
            other => timestamp_like("date_add", other)?,
        };
        Ok(vec![string_like("date_add", &args[0])?, DataType::Int64, moved])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args.get(2).cloned().unwrap_or(TIMESTAMP_MS))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        const DAY_MS: i64 = 86_400_000;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [units, values, starts] = arrays.as_slice() else {
            return exec_err!("date_add takes 3 arguments");
        };
        let units = strings(units)?;
        let values = values
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| DataFusionError::Internal("date_add: expected a bigint".to_owned()))?;
        let row = |i: usize, start_ms: Option<i64>| -> Result<Option<i64>> {
            match start_ms {
                Some(ms) if units.is_valid(i) && values.is_valid(i) => {
                    date_add(units.value(i), values.value(i), ms).map(Some)
                }
                _ => Ok(None),
            }
        };
        if let Some(dates) = starts.as_primitive_opt::<Date32Type>() {
            let out = (0..dates.len())
                .map(|i| {
                    let start = dates.is_valid(i).then(|| i64::from(dates.value(i)) * DAY_MS);
                    row(i, start)?
                        .map(|ms| i32::try_from(ms.div_euclid(DAY_MS)))
                        .transpose()
                        .map_err(|_| DataFusionError::Execution("date_add: date out of range".to_owned()))
                })
                .collect::<Result<Date32Array>>()?;
            return Ok(ColumnarValue::Array(Arc::new(out)));
        }
        let starts = millis(starts)?;
        let out = (0..starts.len())
            .map(|i| row(i, starts.is_valid(i).then(|| starts.value(i))))
            .collect::<Result<TimestampMillisecondArray>>()?
            .with_timezone_opt(match starts.data_type() {
                DataType::Timestamp(_, tz) => tz.clone(),
                _ => None,
            });
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ─── year, month, day, hour, ... ─────────────────────────────────────────────────────────────

/// A calendar or clock field of a timestamp or date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    Year,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Minute,
    Second,
}

impl Part {
    fn of(self, t: &NaiveDateTime) -> i64 {
        i64::from(match self {
            Part::Year => t.year(),
            Part::Quarter => (t.month0() / 3 + 1) as i32,
            Part::Month => t.month() as i32,
            Part::Week => t.iso_week().week() as i32,
            Part::Day => t.day() as i32,
            Part::DayOfWeek => t.weekday().number_from_monday() as i32,
            Part::DayOfYear => t.ordinal() as i32,
            Part::Hour => t.hour() as i32,
            Part::Minute => t.minute() as i32,
            Part::Second => t.second() as i32,
        })
    }
}

/// `year(ts)`, `month(ts)`, `day(ts)`, `hour(ts)`, ...: one field as a bigint (Trino's
/// `day_of_week` is ISO: Monday 1 .. Sunday 7).
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateField {
    name: &'static str,
    aliases: Vec<String>,
    part: Part,
    signature: Signature,
}

impl DateField {
    fn new(name: &'static str, aliases: &[&str], part: Part) -> Self {
        DateField {
            name,
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            part,
            signature: user_defined(),
        }
    }

    fn all() -> Vec<DateField> {
        vec![
            DateField::new("year", &[], Part::Year),
            DateField::new("quarter", &[], Part::Quarter),
            DateField::new("month", &[], Part::Month),
            DateField::new("week", &["week_of_year"], Part::Week),
            DateField::new("day", &["day_of_month"], Part::Day),
            DateField::new("day_of_week", &["dow"], Part::DayOfWeek),
            DateField::new("day_of_year", &["doy"], Part::DayOfYear),
            DateField::new("hour", &[], Part::Hour),
            DateField::new("minute", &[], Part::Minute),
            DateField::new("second", &[], Part::Second),
        ]
    }
}

impl ScalarUDFImpl for DateField {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name, args, 1)?;
        Ok(vec![timestamp_like(self.name, &args[0])?])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(times) = arrays.first() else {
            return exec_err!("{} takes 1 argument", self.name);
        };
        let out = millis(times)?
            .iter()
            .map(|ms| ms.map(|ms| naive(ms).map(|t| self.part.of(&t))).transpose())
            .collect::<Result<Int64Array>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ─── date_format ─────────────────────────────────────────────────────────────────────────────

/// A MySQL `date_format` pattern (Trino's) as a chrono pattern.
///
/// # Errors
/// A specifier Trino does not support, or a trailing `%`.
pub fn mysql_to_chrono(pattern: &str) -> Result<String, String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let spec = chars
            .next()
            .ok_or_else(|| format!("date_format pattern {pattern:?} ends with a lone %"))?;
        out.push_str(match spec {
            'Y' => "%Y",
            'y' => "%y",
            'm' => "%m",
            'c' => "%-m",
            'd' => "%d",
            'e' => "%-d",
            'H' => "%H",
            'k' => "%-H",
            'h' | 'I' => "%I",
            'l' => "%-I",
            'i' => "%M",
            's' | 'S' => "%S",
            'f' => "%6f",
            'p' => "%p",
            'T' => "%H:%M:%S",
            'r' => "%I:%M:%S %p",
            'j' => "%j",
            'M' => "%B",
            'b' => "%b",
            'W' => "%A",
            'a' => "%a",
            '%' => "%%",
            other => return Err(format!("date_format: specifier %{other} is not supported")),
        });
    }
    Ok(out)
}

/// `date_format(timestamp, pattern)` with MySQL / Trino specifiers (`%Y-%m-%d %H:%i:%s`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct DateFormat {
    signature: Signature,
}

impl DateFormat {
    fn new() -> Self {
        DateFormat {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for DateFormat {
    fn name(&self) -> &str {
        "date_format"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("date_format", args, 2)?;
        Ok(vec![TIMESTAMP_MS, string_like("date_format", &args[1])?])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [times, patterns] = arrays.as_slice() else {
            return exec_err!("date_format takes 2 arguments");
        };
        let (times, patterns) = (millis(times)?, strings(patterns)?);
        let mut converted: Option<(String, String)> = None;
        let out = (0..times.len())
            .map(|i| {
                if times.is_null(i) || patterns.is_null(i) {
                    return Ok(None);
                }
                let pattern = patterns.value(i);
                if converted.as_ref().is_none_or(|(mysql, _)| mysql != pattern) {
                    let chrono = mysql_to_chrono(pattern).map_err(DataFusionError::Execution)?;
                    converted = Some((pattern.to_owned(), chrono));
                }
                let chrono = converted.as_ref().map(|(_, c)| c.as_str()).unwrap_or_default();
                let mut text = String::new();
                write!(text, "{}", naive(times.value(i))?.format(chrono))
                    .map_err(|_| DataFusionError::Execution(format!("date_format: cannot format with {pattern:?}")))?;
                Ok(Some(text))
            })
            .collect::<Result<StringArray>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ─── from_iso8601_timestamp, to_unixtime ─────────────────────────────────────────────────────

/// `from_iso8601_timestamp('2026-03-01T12:00:00Z')`: the instant, as a UTC timestamp(3) (the
/// lake's timestamp type, so it compares with the lake's columns directly).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromIso8601Timestamp {
    signature: Signature,
}

impl FromIso8601Timestamp {
    fn new() -> Self {
        FromIso8601Timestamp {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for FromIso8601Timestamp {
    fn name(&self) -> &str {
        "from_iso8601_timestamp"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("from_iso8601_timestamp", args, 1)?;
        Ok(vec![string_like("from_iso8601_timestamp", &args[0])?])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(TIMESTAMP_MS)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(text) = args.args.first() else {
            return exec_err!("from_iso8601_timestamp takes 1 argument");
        };
        text.cast_to(&TIMESTAMP_MS, None)
            .map_err(|e| DataFusionError::Execution(format!("from_iso8601_timestamp: {e}")))
    }
}

/// `to_unixtime(timestamp)`: seconds since the epoch as a double, milliseconds in the fraction.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToUnixtime {
    signature: Signature,
}

impl ToUnixtime {
    fn new() -> Self {
        ToUnixtime {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for ToUnixtime {
    fn name(&self) -> &str {
        "to_unixtime"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("to_unixtime", args, 1)?;
        Ok(vec![timestamp_like("to_unixtime", &args[0])?])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(times) = arrays.first() else {
            return exec_err!("to_unixtime takes 1 argument");
        };
        // The values of a timestamp array are UTC milliseconds whatever its time zone.
        let out: Float64Array = millis(times)?
            .iter()
            .map(|ms| ms.map(|ms| ms as f64 / 1000.0))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

// ─── cardinality, slice, element_at, contains, split ─────────────────────────────────────────

/// `cardinality(array | map)`: the number of top-level elements or entries, as a bigint.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Cardinality {
    signature: Signature,
}

impl Cardinality {
    fn new() -> Self {
        Cardinality {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Cardinality {
    fn name(&self) -> &str {
        "cardinality"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("cardinality", args, 1)?;
        match &args[0] {
            DataType::List(_) | DataType::LargeList(_) | DataType::Map(..) | DataType::Null => Ok(args.to_vec()),
            DataType::FixedSizeList(item, _) => Ok(vec![DataType::List(Arc::clone(item))]),
            other => plan_err!("cardinality expects an array or a map, got {other}"),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let Some(array) = arrays.first() else {
            return exec_err!("cardinality takes 1 argument");
        };
        let lengths: Vec<Option<i64>> = match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                (0..list.len())
                    .map(|i| list.is_valid(i).then(|| i64::from(list.value_length(i))))
                    .collect()
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>();
                (0..list.len())
                    .map(|i| list.is_valid(i).then(|| list.value_length(i)))
                    .collect()
            }
            DataType::Map(..) => {
                let map = array.as_map();
                (0..map.len())
                    .map(|i| map.is_valid(i).then(|| i64::from(map.value_length(i))))
                    .collect()
            }
            _ => vec![None; array.len()],
        };
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from(lengths))))
    }
}

fn list_item(name: &str, t: &DataType) -> Result<Option<FieldRef>> {
    match t {
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            Ok(Some(Arc::clone(item)))
        }
        DataType::Null => Ok(None),
        other => plan_err!("{name} expects an array, got {other}"),
    }
}

fn not_rewritten(name: &str) -> Result<ColumnarValue> {
    exec_err!("{name} is rewritten to DataFusion functions while planning; it cannot be called directly")
}

/// `slice(array, start, length)`: 1-based `start` (negative counts from the end), at most
/// `length` elements. Rewritten to `array_slice(array, start, end)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Slice {
    signature: Signature,
}

impl Slice {
    fn new() -> Self {
        Slice {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Slice {
    fn name(&self) -> &str {
        "slice"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("slice", args, 3)?;
        list_item("slice", &args[0])?;
        Ok(vec![args[0].clone(), DataType::Int64, DataType::Int64])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(args.first().cloned().unwrap_or(DataType::Null))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_rewritten("slice")
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [array, start, length] =
            <[Expr; 3]>::try_from(args).map_err(|_| DataFusionError::Plan("slice takes 3 arguments".to_owned()))?;
        let end = start.clone() + length - lit(1i64);
        // From the end: never past the last element (-1).
        let end = when(
            start.clone().lt(lit(0i64)).and(end.clone().gt_eq(lit(0i64))),
            lit(-1i64),
        )
        .otherwise(end)?;
        Ok(ExprSimplifyResult::Simplified(
            datafusion::functions_nested::expr_fn::array_slice(array, start, end, None),
        ))
    }
}

/// `element_at(array, index)` (1-based, negative from the end, null when out of range) and
/// `element_at(map, key)` (the value, null when absent).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ElementAt {
    signature: Signature,
}

impl ElementAt {
    fn new() -> Self {
        ElementAt {
            signature: user_defined(),
        }
    }
}

fn map_entry_types(t: &DataType) -> Option<(DataType, DataType)> {
    let DataType::Map(entries, _) = t else {
        return None;
    };
    let DataType::Struct(fields) = entries.data_type() else {
        return None;
    };
    Some((fields.first()?.data_type().clone(), fields.get(1)?.data_type().clone()))
}

impl ScalarUDFImpl for ElementAt {
    fn name(&self) -> &str {
        "element_at"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("element_at", args, 2)?;
        if let Some((key, _)) = map_entry_types(&args[0]) {
            return Ok(vec![args[0].clone(), key]);
        }
        list_item("element_at", &args[0])?;
        Ok(vec![args[0].clone(), DataType::Int64])
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let container = args.first().unwrap_or(&DataType::Null);
        if let Some((_, value)) = map_entry_types(container) {
            return Ok(value);
        }
        Ok(list_item("element_at", container)?.map_or(DataType::Null, |f| f.data_type().clone()))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_rewritten("element_at")
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        use datafusion::functions_nested::expr_fn::{array_element, map_extract};
        let [container, index] = <[Expr; 2]>::try_from(args)
            .map_err(|_| DataFusionError::Plan("element_at takes 2 arguments".to_owned()))?;
        let rewritten = if matches!(info.get_data_type(&container)?, DataType::Map(..)) {
            array_element(map_extract(container, index), lit(1i64))
        } else {
            array_element(container, index)
        };
        Ok(ExprSimplifyResult::Simplified(rewritten))
    }
}

/// `contains(array, element)` (Trino), and `contains(string, substring)` as DataFusion has it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Contains {
    signature: Signature,
}

impl Contains {
    fn new() -> Self {
        Contains {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Contains {
    fn name(&self) -> &str {
        "contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("contains", args, 2)?;
        match list_item("contains", &args[0]) {
            Ok(Some(item)) => Ok(vec![args[0].clone(), item.data_type().clone()]),
            _ => Ok(vec![
                string_like("contains", &args[0])?,
                string_like("contains", &args[1])?,
            ]),
        }
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_rewritten("contains")
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [haystack, needle] =
            <[Expr; 2]>::try_from(args).map_err(|_| DataFusionError::Plan("contains takes 2 arguments".to_owned()))?;
        let rewritten = match info.get_data_type(&haystack)? {
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                datafusion::functions_nested::expr_fn::array_has(haystack, needle)
            }
            _ => datafusion::functions::string::contains().call(vec![haystack, needle]),
        };
        Ok(ExprSimplifyResult::Simplified(rewritten))
    }
}

/// `split(string, delimiter)`: an array of the parts. Rewritten to `string_to_array`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Split {
    signature: Signature,
}

impl Split {
    fn new() -> Self {
        Split {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for Split {
    fn name(&self) -> &str {
        "split"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("split", args, 2)?;
        Ok(vec![string_like("split", &args[0])?, string_like("split", &args[1])?])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))))
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_rewritten("split")
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Simplified(
            datafusion::functions_nested::string::string_to_array_udf().call(args),
        ))
    }
}

// ─── regexp_extract ──────────────────────────────────────────────────────────────────────────

/// `regexp_extract(text, pattern [, group])`: the first match of the pattern (or of its `group`),
/// null when nothing matches. Rewritten to `regexp_match(text, '(' || pattern || ')')[group + 1]`:
/// the added outer group makes the whole match group 1 whatever groups the pattern has.
#[derive(Debug, PartialEq, Eq, Hash)]
struct RegexpExtract {
    signature: Signature,
}

impl RegexpExtract {
    fn new() -> Self {
        RegexpExtract {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        "regexp_extract"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&args.len()) {
            return plan_err!("regexp_extract takes 2 or 3 arguments, got {}", args.len());
        }
        let mut types = vec![
            string_like("regexp_extract", &args[0])?,
            string_like("regexp_extract", &args[1])?,
        ];
        if args.len() == 3 {
            types.push(DataType::Int64);
        }
        Ok(types)
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_rewritten("regexp_extract")
    }

    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let mut args = args.into_iter();
        let (Some(text), Some(pattern)) = (args.next(), args.next()) else {
            return plan_err!("regexp_extract takes 2 or 3 arguments");
        };
        let group = args.next().unwrap_or(lit(0i64));
        let wrapped = datafusion::functions::string::expr_fn::concat(vec![lit("("), pattern, lit(")")]);
        let matched = datafusion::functions::regex::expr_fn::regexp_match(text, wrapped, None);
        Ok(ExprSimplifyResult::Simplified(
            datafusion::functions_nested::expr_fn::array_element(matched, group + lit(1i64)),
        ))
    }
}

// ─── json_extract_scalar ─────────────────────────────────────────────────────────────────────

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Reads a simple JSON path: `$`, then `.key`, `["key"]`, `['key']` or `[0]` steps.
///
/// # Errors
/// A message saying where the path stops making sense.
fn json_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| format!("json path {path:?}: {why}");
    let mut rest = path.trim().strip_prefix('$').ok_or_else(|| bad("must start with $"))?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return Err(bad("empty key after ."));
            }
            steps.push(Step::Key(after[..end].to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(|| bad("[ without ]"))?;
            let inside = after[..close].trim();
            let quoted = inside
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| inside.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
            steps.push(match quoted {
                Some(key) => Step::Key(key.to_owned()),
                None => Step::Index(inside.parse().map_err(|_| bad("an index must be a whole number"))?),
            });
            rest = &after[close + 1..];
        } else {
            return Err(bad("expected . or ["));
        }
    }
    Ok(steps)
}

/// The scalar at `steps` in `json`, as text; `None` for invalid JSON, a missing path, null, an
/// object or an array (Trino's `json_extract_scalar`).
fn extract_scalar(json: &str, steps: &[Step]) -> Option<String> {
    let root: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut value = &root;
    for step in steps {
        value = match step {
            Step::Key(k) => value.get(k)?,
            Step::Index(i) => value.get(*i)?,
        };
    }
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `json_extract_scalar(json, '$.a.b')`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonExtractScalar {
    signature: Signature,
}

impl JsonExtractScalar {
    fn new() -> Self {
        JsonExtractScalar {
            signature: user_defined(),
        }
    }
}

impl ScalarUDFImpl for JsonExtractScalar {
    fn name(&self) -> &str {
        "json_extract_scalar"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        arity("json_extract_scalar", args, 2)?;
        Ok(vec![
            string_like("json_extract_scalar", &args[0])?,
            string_like("json_extract_scalar", &args[1])?,
        ])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let [docs, paths] = arrays.as_slice() else {
            return exec_err!("json_extract_scalar takes 2 arguments");
        };
        let (docs, paths) = (strings(docs)?, strings(paths)?);
        let mut parsed: Option<(String, Vec<Step>)> = None;
        let out = (0..docs.len())
            .map(|i| {
                if docs.is_null(i) || paths.is_null(i) {
                    return Ok(None);
                }
                let path = paths.value(i);
                if parsed.as_ref().is_none_or(|(p, _)| p != path) {
                    parsed = Some((path.to_owned(), json_path(path).map_err(DataFusionError::Execution)?));
                }
                let steps = parsed.as_ref().map(|(_, s)| s.as_slice()).unwrap_or_default();
                Ok(extract_scalar(docs.value(i), steps))
            })
            .collect::<Result<StringArray>>()?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000; // 2026-01-01 00:00:00 UTC

    #[test]
    fn date_diff_counts_whole_units_in_trino_order() {
        assert_eq!(date_diff("second", T0, T0 + 90_500).unwrap(), 90);
        assert_eq!(date_diff("minute", T0, T0 + 90_500).unwrap(), 1);
        assert_eq!(date_diff("HOUR", T0 + 7_200_000, T0).unwrap(), -2);
        assert_eq!(date_diff("day", T0, T0 + 86_399_999).unwrap(), 0);
        // 2026-01-31 -> 2026-03-30: one whole month, not two.
        let jan31 = T0 + 30 * 86_400_000;
        let mar30 = T0 + (31 + 28 + 29) * 86_400_000;
        assert_eq!(date_diff("month", jan31, mar30).unwrap(), 1);
        assert_eq!(date_diff("year", T0, mar30).unwrap(), 0);
        assert!(date_diff("fortnight", T0, T0).is_err());
    }

    #[test]
    fn date_add_moves_by_fixed_and_calendar_units() {
        assert_eq!(date_add("hour", -2, T0).unwrap(), T0 - 7_200_000);
        let jan31 = T0 + 30 * 86_400_000;
        let feb28 = T0 + (31 + 27) * 86_400_000;
        assert_eq!(
            date_add("month", 1, jan31).unwrap(),
            feb28,
            "clamped to the month's end"
        );
        assert_eq!(date_add("year", -1, T0).unwrap(), T0 - 365 * 86_400_000);
        assert!(date_add("fortnight", 1, T0).is_err());
        assert!(date_add("day", i64::MAX, T0).is_err());
    }

    #[test]
    fn mysql_patterns_become_chrono_patterns() {
        assert_eq!(mysql_to_chrono("%Y-%m-%d %H:%i:%s").unwrap(), "%Y-%m-%d %H:%M:%S");
        assert_eq!(mysql_to_chrono("%Y%m%d 100%%").unwrap(), "%Y%m%d 100%%");
        assert!(mysql_to_chrono("%Q").is_err());
        assert!(mysql_to_chrono("50%").is_err());
    }

    #[test]
    fn json_paths_follow_keys_and_indexes() {
        let steps = json_path("$.a[1]['b c'].d").unwrap();
        assert_eq!(
            steps,
            vec![
                Step::Key("a".into()),
                Step::Index(1),
                Step::Key("b c".into()),
                Step::Key("d".into())
            ]
        );
        let doc = r#"{"a":[0,{"b c":{"d":7}}],"s":"x","o":{}}"#;
        assert_eq!(extract_scalar(doc, &steps).as_deref(), Some("7"));
        assert_eq!(extract_scalar(doc, &json_path("$.s").unwrap()).as_deref(), Some("x"));
        assert_eq!(extract_scalar(doc, &json_path("$.o").unwrap()), None);
        assert_eq!(extract_scalar("not json", &json_path("$.s").unwrap()), None);
        assert!(json_path("a.b").is_err());
    }
}
