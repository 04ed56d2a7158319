//! Handing flows to other engines: hive-partitioned Parquet for DuckDB, Spark, Trino and
//! ClickHouse ([`parquet`], behind the `parquet` feature).

#[cfg(feature = "parquet")]
pub mod parquet;
