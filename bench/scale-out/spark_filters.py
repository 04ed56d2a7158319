"""Runs flow-nfilter --sql spark filters on real Spark (local mode) over a flow-export Parquet tree.

Usage: spark_filters.py DIR CASES.json
CASES.json: [{"name": ..., "sql": <flow-nfilter --sql spark output>, "count": <flow-nfilter --count>}]
Prints one line a case and exits 1 when Spark's count differs from flow-nfilter's.
Needs pyspark (pip install pyspark) and Java 17.
"""
import json
import sys
import time

from pyspark.sql import SparkSession

tree, cases_file = sys.argv[1], sys.argv[2]
cases = json.load(open(cases_file))
t0 = time.time()
spark = (
    SparkSession.builder.master("local[2]")
    .appName("flowkit-filters")
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
flows = spark.read.parquet(tree)  # date= and hour= come from the paths
flows.createOrReplaceTempView("flows")
print("schema:", ", ".join(f"{f.name}:{f.dataType.simpleString()}" for f in flows.schema.fields))
bad = 0
for c in cases:
    got = spark.sql(f"SELECT count(*) FROM flows WHERE {c['sql']}").collect()[0][0]
    ok = got == c["count"]
    bad += not ok
    print(f"{'ok  ' if ok else 'DIFF'} {c['name']}: spark {got}, flow-nfilter {c['count']}")
totals = spark.sql(
    "SELECT date, hour, count(*), sum(packets), sum(octets) FROM flows GROUP BY date, hour ORDER BY 1, 2"
).collect()
print(f"{len(totals)} partitions; first {tuple(totals[0])}")
print(f"{len(cases)} filters, {bad} differences, {time.time() - t0:.1f} s with Spark start-up")
spark.stop()
sys.exit(1 if bad else 0)
