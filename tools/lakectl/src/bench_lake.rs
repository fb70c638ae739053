//! The consumption benchmark: a lake of N generated contacts loaded with `lakectl backfill`
//! (Parquet, as deployed) into the local emulator, then every named query of `template.yaml`
//! run through the Glue catalog, cold and warm: `lakectl bench-lake`, the last step of
//! `make bench`.

use std::fmt;
use std::io::Write as _;
use std::time::{Duration, Instant};

use connect_lake::config::LakeFormat;
use lambda_harness::Emulator;

use crate::backfill::bench::create_empty_lake;
use crate::backfill::{Backfill, BackfillOptions};
use crate::generate::{Generator, TrafficOptions};
use crate::lake::emulator_config;

/// What one consumption benchmark measured.
#[derive(Debug, Clone)]
pub struct LakeBench {
    pub contacts: usize,
    pub load: Duration,
    pub objects: u64,
    pub ctr_bytes: u64,
    /// (query, rows, first run, second run)
    pub queries: Vec<(String, usize, Duration, Duration)>,
}

impl fmt::Display for LakeBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "consumption benchmark: {} contacts backfilled as Parquet in {:.1} s ({} objects, ctr/ {:.2} MB); named queries through Glue (DataFusion):",
            self.contacts,
            self.load.as_secs_f64(),
            self.objects,
            self.ctr_bytes as f64 / 1e6
        )?;
        writeln!(
            f,
            "{:<34} {:>7} {:>11} {:>11}",
            "query", "rows", "first ms", "second ms"
        )?;
        for (name, rows, first, second) in &self.queries {
            writeln!(
                f,
                "{name:<34} {rows:>7} {:>11.1} {:>11.1}",
                first.as_secs_f64() * 1e3,
                second.as_secs_f64() * 1e3
            )?;
        }
        Ok(())
    }
}

/// Builds a lake of `contacts` contacts with the backfill and times every named query on it.
///
/// # Errors
/// The emulator, the backfill or a query failing, as text.
pub async fn named_queries_on_backfilled_lake(contacts: usize, seed: u64) -> Result<LakeBench, String> {
    let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
    let config = emulator_config(&emulator).await;
    let s3 = connect_lake::aws::s3_client(&config);
    create_empty_lake(&config).await?;
    let traffic = Generator::new(seed).traffic(&TrafficOptions::new(contacts, seed));
    let dir = std::env::temp_dir().join(format!("connect-lake-bench-lake-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("contacts.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).map_err(|e| e.to_string())?);
    for c in &traffic.ctrs {
        file.write_all(&c.json)
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|e| e.to_string())?;
    }
    file.flush().map_err(|e| e.to_string())?;
    drop(file);
    let options = BackfillOptions {
        inputs: vec![input],
        bucket: "bench-lake".into(),
        database: "connect_lake".into(),
        format: LakeFormat::Parquet,
        format_requested: true,
        errors_path: dir.join("errors.jsonl"),
        manifest_key: "_backfill/manifest.json".into(),
        pii_key: crate::DEMO_PII_KEY.to_owned(),
        progress: false,
        target_bytes: crate::backfill::DEFAULT_TARGET_BYTES,
        replace: false,
        keep_raw_errors: false,
        work_dir: None,
        progress_every: crate::backfill::DEFAULT_PROGRESS_EVERY,
    };
    let started = Instant::now();
    let report = Backfill::new(&config, options)
        .map_err(|e| e.to_string())?
        .run()
        .await
        .map_err(|e| e.to_string())?;
    let load = started.elapsed();
    let mut ctr_bytes = 0;
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("bench-lake")
            .prefix("ctr/")
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| format!("ListObjectsV2: {e:?}"))?;
        ctr_bytes += page.contents().iter().filter_map(|o| o.size()).sum::<i64>() as u64;
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    // The backfill loads contact records, so the queries over ctr alone are the ones measured.
    let lake = lake_query::LakeQuery::connect(&config, "connect_lake")
        .await
        .map_err(|e| e.to_string())?;
    let tables = lake.tables();
    let mut queries = Vec::new();
    for query in crate::query::named_queries(crate::query::TEMPLATE).map_err(|e| e.to_string())? {
        if !crate::query::missing_tables(&query.sql, &tables).is_empty() {
            continue;
        }
        let params = crate::query::month_params(&query, crate::demo::DEMO_MONTH).map_err(|e| e.to_string())?;
        let first = lake
            .sql_with_params(&query.sql, &params)
            .await
            .map_err(|e| e.to_string())?;
        let second = lake
            .sql_with_params(&query.sql, &params)
            .await
            .map_err(|e| e.to_string())?;
        queries.push((query.name, first.rows(), first.elapsed, second.elapsed));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(LakeBench {
        contacts,
        load,
        objects: report.objects,
        ctr_bytes,
        queries,
    })
}
