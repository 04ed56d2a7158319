#!/usr/bin/env python3
"""Issue 24's benchmark: export speed and Parquet size on generated flows, and the same selective
filters answered by flow-nfilter over the flowkit archive, DuckDB over the Parquet tree and Spark
(local mode) over the same tree, with every engine's count checked against flow-nfilter's.

  bench/scale-out/query-bench.py [--flows N] [--runs R] [--work DIR] [--keep] [--spark]

- data: `flow-gen -n N -o flows.fk` (one day, 2% IPv6), exported by
  `flow-export --parquet -o pq flows.fk` (zstd 3, hour partitions); wall, CPU (user+sys) and peak
  RSS of the export from wait4;
- filters: definitions of bench/bench.cfg (`host` with ADDR=10.0.3.7, `ssh-gt1`, `broad`),
  translated with `flow-nfilter --sql duckdb|spark`;
- flow-nfilter: `flow-nfilter -f bench/bench.cfg -F NAME --count flows.fk`, CPU and wall;
- DuckDB (Python wheel, in process, as many threads as cores): `SELECT count(*) FROM
  read_parquet('pq/**/*.parquet', hive_partitioning = true) WHERE <sql>`, wall and the process's
  CPU (all threads);
- Spark (`--spark`; needs `pip install pyspark` and Java 17): local[cores], the same tree read with
  `spark.read.parquet`, `filter(<sql>).count()`; wall only (the JVM's CPU is not separated).
Warm page cache: one run first, not counted; medians of R runs. Not run in CI.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from statistics import median

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, "target", "release")
CFG = os.path.join(ROOT, "bench", "bench.cfg")
FILTERS = [("host", ["-v", "ADDR=10.0.3.7"]), ("ssh-gt1", []), ("broad", [])]


def run(args, out=subprocess.DEVNULL):
    """Runs a command; returns (stdout, wall s, CPU s, peak RSS MiB) from wait4."""
    t0 = time.perf_counter()
    p = subprocess.Popen(args, stdout=subprocess.PIPE if out is None else out)
    data = p.stdout.read() if out is None else b""
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(args)}")
    return data.decode(), wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def self_cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=30_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true", help="keep (and reuse) the data in --work")
    ap.add_argument("--spark", action="store_true")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "flow-gen", "-p", "flow-export",
                    "-p", "flow-nfilter"], cwd=ROOT, check=True)
    work = a.work or tempfile.mkdtemp(prefix="query-bench-")
    os.makedirs(work, exist_ok=True)
    fk, pq = os.path.join(work, "flows.fk"), os.path.join(work, "pq")
    n = a.flows
    if not (a.keep and os.path.exists(fk)):
        run([f"{BIN}/flow-gen", "-n", str(n), "-o", fk])
    if not (a.keep and os.path.isdir(pq)):
        shutil.rmtree(pq, ignore_errors=True)
        _, wall, cpu, rss = run([f"{BIN}/flow-export", "--parquet", "-o", pq, fk])
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(pq)
                   for f in fs if f.endswith(".parquet"))
        print(f"export: {n} flows, {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"({n / cpu / 1e6:.2f} M flows per CPU-second), peak RSS {rss:.0f} MiB, "
              f"{size / n:.2f} Parquet bytes a flow (archive {os.path.getsize(fk) / n:.2f})")
    cases = []
    for name, extra in FILTERS:
        base = [f"{BIN}/flow-nfilter", "-f", CFG, "-F", name] + extra
        count = int(run(base + ["--count", fk], out=None)[0].split()[0])
        sql = {d: run(base + ["--sql", d], out=None)[0].strip() for d in ("duckdb", "spark")}
        run(base + ["--count", fk])  # warm-up
        times = [run(base + ["--count", fk])[1:3] for _ in range(a.runs)]
        cases.append({"name": name, "count": count, "sql": sql,
                      "nfilter": (median(t[0] for t in times), median(t[1] for t in times))})

    import duckdb  # pip install duckdb
    con = duckdb.connect()
    glob = f"read_parquet('{pq}/**/*.parquet', hive_partitioning = true)"
    for c in cases:
        q = f"SELECT count(*) FROM {glob} WHERE {c['sql']['duckdb']}"
        got = con.sql(q).fetchall()[0][0]  # warm-up and check
        if got != c["count"]:
            sys.exit(f"{c['name']}: DuckDB counted {got}, flow-nfilter {c['count']}")
        walls, cpus = [], []
        for _ in range(a.runs):
            c0, t0 = self_cpu(), time.perf_counter()
            con.sql(q).fetchall()
            walls.append(time.perf_counter() - t0)
            cpus.append(self_cpu() - c0)
        c["duckdb"] = (median(walls), median(cpus))

    if a.spark:
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master(f"local[{os.cpu_count()}]")
                 .appName("flowkit-query-bench")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        flows = spark.read.parquet(pq)
        for c in cases:
            got = flows.filter(c["sql"]["spark"]).count()  # warm-up and check
            if got != c["count"]:
                sys.exit(f"{c['name']}: Spark counted {got}, flow-nfilter {c['count']}")
            walls = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                flows.filter(c["sql"]["spark"]).count()
                walls.append(time.perf_counter() - t0)
            c["spark"] = median(walls)
        spark.stop()

    print(f"\n{n} flows, median of {a.runs} (warm), wall / CPU seconds:\n")
    print("| filter | flows selected | flow-nfilter --count | DuckDB | Spark (wall) |")
    print("|---|---:|---:|---:|---:|")
    for c in cases:
        sp = f"{c['spark']:.2f}" if "spark" in c else "-"
        print(f"| `{c['name']}` | {c['count']:,} | {c['nfilter'][0]:.3f} / {c['nfilter'][1]:.3f} "
              f"| {c['duckdb'][0]:.3f} / {c['duckdb'][1]:.3f} | {sp} |")
    if not a.keep and not a.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
