//! lake-query: SQL over the connect-lake data lake, seen exactly as Athena sees it.
//!
//! The Glue Data Catalog decides what is visible: a table's columns and types come from its
//! StorageDescriptor, its partition keys from PartitionKeys, its format from the SerDe
//! (Parquet, or JSON lines that may be gzip), and only the partitions Glue lists are read (an
//! object in an unregistered partition is invisible, as in Athena). Objects are read from S3
//! through `object_store`, configured from the same `SdkConfig` (so `AWS_ENDPOINT_URL` points
//! both at the local emulator). The engine is Apache DataFusion, with the Trino functions the
//! project's Athena named queries use registered on top ([`TRINO_FUNCTIONS`]), and Athena's
//! `?` execution parameters ([`LakeQuery::sql_with_params`]) and its `CROSS JOIN UNNEST`.
//!
//! ```no_run
//! # async fn demo(config: aws_config::SdkConfig) -> Result<(), lake_query::QueryError> {
//! let lake = lake_query::LakeQuery::connect(&config, "connect_lake").await?;
//! let result = lake
//!     .sql_with_params("SELECT count(*) AS n FROM ctr WHERE channel = ?", &["VOICE".to_owned()])
//!     .await?;
//! println!("{}", result.to_table()?);
//! # Ok(()) }
//! ```
//!
//! It backs `lakectl query`. Queries are read-only: DDL, DML and `SET` statements are refused.

mod catalog;
mod json;
mod params;
mod parquet;
mod result;
mod store;
mod table;
mod trino;
mod unnest;
pub mod views;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use datafusion::catalog::{MemoryCatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::DataFusionError;
use datafusion::execution::context::{SQLOptions, SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DfStatement;

pub use result::QueryResult;
pub use trino::TRINO_FUNCTIONS;

/// The catalog name queries may use, as in Athena: `awsdatacatalog.<database>.<table>`.
pub const CATALOG: &str = "awsdatacatalog";

/// Why a query could not run. Each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The Glue catalog could not be read: unreachable endpoint, missing database, denied call.
    #[error("Glue catalog, database {database:?}: {message}")]
    Catalog { database: String, message: String },
    /// A catalog table the query uses cannot be read: a Location that is not `s3://bucket/...`
    /// or whose bucket does not exist, an unsupported SerDe, a column type Athena would reject.
    #[error("table {table:?} cannot be read: {message}")]
    Table { table: String, message: String },
    /// The SQL does not parse.
    #[error("SQL syntax error: {message}")]
    Syntax { message: String },
    /// The SQL parses but cannot be planned: an unknown table, column or function, a type error,
    /// or a statement that is not a query.
    #[error("{message}")]
    Plan { message: String },
    /// An object of the lake cannot be read as its table's format says (a corrupt Parquet file,
    /// JSON that does not fit the schema, bad gzip).
    #[error("object {uri}: {message}")]
    Object { uri: String, message: String },
    /// The query failed while running.
    #[error("query failed: {message}")]
    Execution { message: String },
    /// The number of execution parameters does not match the query's `?` placeholders.
    #[error("the query takes {expected} execution parameter(s) (`?` placeholders), {given} given")]
    Params { expected: usize, given: usize },
    /// A result could not be rendered.
    #[error("cannot render the result: {message}")]
    Format { message: String },
}

/// An object that could not be read, carried through DataFusion as an external error.
#[derive(Debug, thiserror::Error)]
#[error("object {uri}: {message}")]
pub(crate) struct ObjectError {
    pub uri: String,
    pub message: String,
}

/// A table or partition location that cannot be listed, carried through DataFusion.
#[derive(Debug, thiserror::Error)]
#[error("table {table:?} at {location}: {message}")]
pub(crate) struct LocationError {
    pub table: String,
    pub location: String,
    pub message: String,
}

/// A catalog table whose definition the engine cannot read, carried through DataFusion.
#[derive(Debug, thiserror::Error)]
#[error("table {table:?} cannot be read: {message}")]
struct TableDefinitionError {
    table: String,
    message: String,
}

fn find<'a, T: std::error::Error + 'static>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

impl QueryError {
    fn from_datafusion(err: DataFusionError, tables: &[String]) -> Self {
        if let Some(e) = find::<QueryError>(&err) {
            return match e {
                QueryError::Catalog { database, message } => QueryError::Catalog {
                    database: database.clone(),
                    message: message.clone(),
                },
                other => QueryError::Execution {
                    message: other.to_string(),
                },
            };
        }
        if let Some(e) = find::<ObjectError>(&err) {
            return QueryError::Object {
                uri: e.uri.clone(),
                message: e.message.clone(),
            };
        }
        if let Some(e) = find::<LocationError>(&err) {
            return QueryError::Table {
                table: e.table.clone(),
                message: format!("{}: {}", e.location, e.message),
            };
        }
        if let Some(e) = find::<TableDefinitionError>(&err) {
            return QueryError::Table {
                table: e.table.clone(),
                message: e.message.clone(),
            };
        }
        let root = err.find_root();
        let message = root.strip_backtrace();
        match root {
            DataFusionError::SQL(..) => QueryError::Syntax { message },
            DataFusionError::Plan(text) if text.contains("not found") && text.starts_with("table") => {
                QueryError::Plan {
                    message: format!("{message}; the catalog's tables are: {}", tables.join(", ")),
                }
            }
            DataFusionError::Plan(_) | DataFusionError::SchemaError(..) | DataFusionError::NotImplemented(_) => {
                QueryError::Plan { message }
            }
            _ => QueryError::Execution { message },
        }
    }
}

type Provided = Result<Arc<dyn TableProvider>, String>;

/// The Glue database as a DataFusion schema: every table `GetTables` listed, each readable or
/// carrying the reason it is not (reported when a query uses it, so one odd table does not
/// break queries of the others), and the managed-lake [`views`], which replace any Glue
/// `VIRTUAL_VIEW` of the same name (Athena's copy of the same SQL).
#[derive(Debug)]
struct GlueSchema {
    tables: RwLock<BTreeMap<String, Provided>>,
}

impl GlueSchema {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Provided>> {
        // A panic while the lock was held cannot leave the map half-written: insert is one call.
        self.tables.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn insert(&self, name: &str, provided: Provided) {
        self.tables
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.to_owned(), provided);
    }
}

#[async_trait::async_trait]
impl SchemaProvider for GlueSchema {
    fn table_names(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        match self.read().get(name) {
            None => Ok(None),
            Some(Ok(provider)) => Ok(Some(Arc::clone(provider))),
            Some(Err(problem)) => Err(DataFusionError::External(Box::new(TableDefinitionError {
                table: name.to_owned(),
                message: problem.clone(),
            }))),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }
}

/// A connection to the lake: the Glue database's tables, queryable with Athena SQL. Cloning is
/// cheap and clones share the session (its S3 clients included).
#[derive(Clone)]
pub struct LakeQuery {
    ctx: SessionContext,
    tables: Vec<String>,
}

impl std::fmt::Debug for LakeQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LakeQuery").field("tables", &self.tables).finish()
    }
}

impl LakeQuery {
    /// Reads the database's tables from Glue (`GetTables`) and prepares a session over them.
    /// Partitions are read per query, so partitions registered later are seen.
    ///
    /// # Errors
    /// [`QueryError::Catalog`] when Glue cannot be reached or the database does not exist.
    pub async fn connect(config: &aws_config::SdkConfig, database: &str) -> Result<Self, QueryError> {
        let glue = aws_sdk_glue::Client::new(config);
        let listed = catalog::list_tables(&glue, database).await?;
        let shared = Arc::new(table::Shared {
            glue,
            database: database.to_owned(),
            config: config.clone(),
        });
        let tables: BTreeMap<String, Provided> = listed
            .into_iter()
            .map(|(name, table)| {
                let provider = table
                    .map(|t| Arc::new(table::GlueTableProvider::new(t, Arc::clone(&shared))) as Arc<dyn TableProvider>);
                (name, provider)
            })
            .collect();

        // SQL identifiers are folded to lower case, as Glue's names are.
        let schema_name = database.to_ascii_lowercase();
        let session = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema(CATALOG, &schema_name)
            .set_str("datafusion.sql_parser.dialect", "generic");
        let ctx = SessionContext::new_with_config(session);
        let lake_catalog = MemoryCatalogProvider::new();
        let schema = Arc::new(GlueSchema {
            tables: RwLock::new(tables),
        });
        datafusion::catalog::CatalogProvider::register_schema(
            &lake_catalog,
            &schema_name,
            Arc::clone(&schema) as Arc<dyn SchemaProvider>,
        )
        .map_err(|e| QueryError::Catalog {
            database: database.to_owned(),
            message: e.to_string(),
        })?;
        ctx.register_catalog(CATALOG, Arc::new(lake_catalog));
        trino::register(&ctx);
        views::register_all(&ctx, |name, provider| schema.insert(name, Ok(provider))).await;
        let names = schema.table_names();
        Ok(LakeQuery { ctx, tables: names })
    }

    /// The number of `?` execution parameters the query takes (as many values must be given to
    /// [`LakeQuery::sql_with_params`]).
    ///
    /// # Errors
    /// [`QueryError::Syntax`] when the SQL does not parse.
    pub fn parameter_count(sql: &str) -> Result<usize, QueryError> {
        Ok(params::count(&params::parse(sql)?))
    }

    /// The catalog's tables and the managed-lake [`views`], sorted.
    pub fn tables(&self) -> Vec<String> {
        self.tables.clone()
    }

    /// Runs one query and collects its result.
    ///
    /// # Errors
    /// See [`QueryError`]: syntax, planning (unknown table or column), catalog, object and
    /// execution errors, and [`QueryError::Params`] when the query has `?` placeholders.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, QueryError> {
        self.sql_with_params(sql, &[]).await
    }

    /// Runs one query with Athena execution parameters: each `?` is replaced, in order, by the
    /// next value as a string literal (`'it''s'`), in the parsed query, not in its text.
    ///
    /// # Errors
    /// [`QueryError::Params`] when the number of values is not the number of placeholders, and
    /// everything [`LakeQuery::sql`] can return.
    pub async fn sql_with_params(&self, sql: &str, params: &[String]) -> Result<QueryResult, QueryError> {
        let started = Instant::now();
        let mut statement = params::parse(sql)?;
        params::bind(&mut statement, params)?;
        unnest::rewrite(&mut statement);
        let state = self.ctx.state();
        let plan = state
            .statement_to_plan(DfStatement::Statement(Box::new(statement)))
            .await
            .map_err(|e| QueryError::from_datafusion(e, &self.tables))?;
        SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false)
            .verify_plan(&plan)
            .map_err(|e| QueryError::Plan {
                message: format!("only queries run here: {}", e.strip_backtrace()),
            })?;
        let frame = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| QueryError::from_datafusion(e, &self.tables))?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let batches = frame
            .collect()
            .await
            .map_err(|e| QueryError::from_datafusion(e, &self.tables))?;
        Ok(QueryResult {
            schema,
            batches,
            elapsed: started.elapsed(),
        })
    }
}
