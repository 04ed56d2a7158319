#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS, one after another, then prints the
# executions per target. Crashing inputs land in fuzz/artifacts/TARGET/; copy each into
# testdata/fuzz-regressions/TARGET/ (the normal test suite replays them) and fix the library.
#
# usage: fuzz/run-all.sh SECONDS [TARGET...]
#   env: FUZZ_JOBS (default 1) parallel jobs per target; FUZZ_ARGS extra libFuzzer flags;
#        FUZZ_SANITIZER (default address; `none` runs about ten times faster and still has debug
#        assertions and overflow checks: for targets whose code under test is safe Rust).
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). Only stable Rust is assumed: cargo-fuzz passes
# nightly flags (-Z sanitizer, -C passes=sancov...), so RUSTC_BOOTSTRAP=1 lets stable rustc take
# them. The address sanitizer is used as cargo-fuzz does by default.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run-all.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode archive flowtools filter capture nfdump expr logs)
jobs=${FUZZ_JOBS:-1}
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is needed: cargo install cargo-fuzz" >&2; exit 1; }

# Seeds from testdata (a plain build of the seed maker, no sanitizer).
cargo run --quiet --release --bin make-seeds -- corpus
# Optimised, with debug assertions and overflow checks (cargo-fuzz's default): an arithmetic
# overflow on hostile input is a finding too.
san=${FUZZ_SANITIZER:-address}
for t in "${targets[@]}"; do cargo fuzz build -s "$san" "$t"; done

declare -A maxlen=([decode]=16384 [archive]=16384 [flowtools]=16384 [filter]=8192 [capture]=16384 [nfdump]=32768 [expr]=4096 [logs]=16384)
mkdir -p logs artifacts
summary=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="logs/$t.log"
  start=$(date +%s)
  # A crash stops the target (and is reported below); rerun it after the fix.
  set +e
  par=()
  [ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
  cargo fuzz run -s "$san" "$t" "corpus/$t" -- \
    -max_total_time="$secs" -max_len="${maxlen[$t]:-16384}" "${par[@]}" \
    -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  # With -jobs>1 each job writes fuzz-N.log, and the main log repeats their final stats: count
  # the jobs' logs when there are any, else the main log (never both).
  if ls fuzz-*.log >/dev/null 2>&1; then counted=(fuzz-*.log); else counted=("$log"); fi
  execs=$(cat "${counted[@]}" |
    sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s+=$1} END {print s+0}')
  rm -f fuzz-*.log
  crashes=$(ls "artifacts/$t" 2>/dev/null | grep -c -E '^(crash|oom|timeout|leak)-' || true)
  corpus=$(ls "corpus/$t" | wc -l)
  summary+=("$(printf '%-10s %14s execs  %6s s  %9s exec/s  corpus %6s  findings %s  (exit %s)' \
    "$t" "$execs" "$took" "$(( execs / (took > 0 ? took : 1) ))" "$corpus" "$crashes" "$rc")")
done
echo
echo "target          executions      time       rate"
printf '%s\n' "${summary[@]}"
