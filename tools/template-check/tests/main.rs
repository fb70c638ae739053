//! The template checks: template.yaml against the shared schema, the code and the project's
//! conventions, one module per area, in one test binary.

mod alarms;
mod cataloging;
mod connect;
mod conventions;
mod docs_links;
mod glue_views;
mod governance;
mod hardening;
mod lake_formation;
mod named_queries;
mod retention;
mod schema_drift;
mod tables_doc;
