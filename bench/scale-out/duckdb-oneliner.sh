#!/usr/bin/env bash
# A filter from the filter file, run by DuckDB over a flow-export Parquet tree.
# Usage: duckdb-oneliner.sh DIR DEFINITION [flow-nfilter options, e.g. -f FILE -v NAME=VALUE]
# (With the duckdb CLI: duckdb -c "SELECT ... WHERE $(flow-nfilter -F NAME --sql duckdb)".)
set -euo pipefail
dir=$1 def=$2; shift 2
where=$(flow-nfilter -F "$def" "$@" --sql duckdb)
python3 -c 'import duckdb, sys; print(duckdb.sql(sys.argv[1]).fetchall())' \
  "SELECT count(*), sum(packets), sum(octets) FROM read_parquet('$dir/**/*.parquet', hive_partitioning = true) WHERE $where"
