//! Handing flows to other engines: hive-partitioned Parquet for DuckDB, Spark, Trino and
//! ClickHouse ([`parquet`], behind the `parquet` feature), and flow-tools v5 files for
//! flow-tools and its scripts ([`flowtools`]).

pub mod flowtools;
#[cfg(feature = "parquet")]
pub mod parquet;
