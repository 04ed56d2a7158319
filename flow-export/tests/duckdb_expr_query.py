"""DuckDB side of flow-export/tests/duckdb_expressions.rs.

Reads {"dirs": {name: parquet_dir}, "queries": {key: sql_where_body}} on stdin; prints, as
JSON, for each name and key the rows the WHERE body selects from that export, each as
[start_ms, end_ms, src_addr_text, dst_addr_text, src_port, dst_port, protocol, tcp_flags,
packets, octets, rev_packets, rev_octets], in sorted order. Needs the duckdb Python package.
"""
import json
import sys

import duckdb

req = json.load(sys.stdin)
con = duckdb.connect()
out = {}
for name, d in req["dirs"].items():
    src = f"read_parquet('{d}/**/*.parquet', hive_partitioning = true)"
    con.sql(f"CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM {src}")
    res = {}
    for key, where in req["queries"].items():
        res[key] = [
            list(r)
            for r in con.sql(
                "SELECT start_ms, end_ms, src_addr_text, dst_addr_text, src_port, dst_port, "
                "protocol, tcp_flags, packets, octets, rev_packets, rev_octets "
                f"FROM t WHERE {where} ORDER BY ALL"
            ).fetchall()
        ]
    out[name] = res
json.dump(out, sys.stdout)
