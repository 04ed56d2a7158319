"""DuckDB side of flow-export/tests/duckdb_equivalence.rs.

Reads {"dir": ..., "queries": {name: sql_where_body}} on stdin; prints, as JSON, for each name
the rows (date, hour, flows, packets, octets) of the flows the WHERE body selects, by partition.
Run by `cargo test -p flow-export`; needs the duckdb Python package (pip install duckdb).
"""
import json
import sys

import duckdb

req = json.load(sys.stdin)
con = duckdb.connect()
src = f"read_parquet('{req['dir']}/**/*.parquet', hive_partitioning = true)"
out = {}
for name, where in req["queries"].items():
    rows = con.sql(
        f"SELECT CAST(date AS VARCHAR), CAST(hour AS VARCHAR), count(*), "
        f"CAST(coalesce(sum(packets), 0) AS BIGINT), CAST(coalesce(sum(octets), 0) AS BIGINT) "
        f"FROM {src} WHERE {where} GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    out[name] = [list(r) for r in rows]
# The schema as DuckDB reads it, for the type checks.
out["__schema__"] = [list(r[:2]) for r in con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()]
# Every flow's addresses as text and as bytes, for the row checks.
out["__rows__"] = [
    list(r)
    for r in con.sql(
        f"SELECT start_ms, end_ms, src_port, dst_port, protocol, src_addr_text, dst_addr_text, "
        f"next_hop_text, exporter_text, hex(src_addr), hex(dst_addr), hex(next_hop), hex(exporter), "
        f"epoch_ms(start), epoch_ms(\"end\") FROM {src} ORDER BY ALL"
    ).fetchall()
]
json.dump(out, sys.stdout)
