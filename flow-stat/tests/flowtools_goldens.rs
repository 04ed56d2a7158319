//! `flow-stat -f N` against flow-tools 0.68.5's own outputs, byte for byte.
//!
//! The goldens (testdata/flow-tools/flow-stat/, copied gzipped from
//! shared/testdata/flow-tools/flow-stat/, see its README.md) were printed by the real
//! flow-stat; each folder's `commands.txt` lists the commands, which this test parses and runs
//! with our flow-stat, input on stdin as there. Only argv[0] on the `# Args:` line is
//! normalised (flow-tools was run by bare name, we run a path). The outputs flowkit is known to
//! print differently are listed in `EXPECTED_TO_DIFFER` with the reason, and the test checks
//! that they still differ, so the list cannot go stale silently. `-n` reads flow-tools' own
//! symbol files (testdata/flow-tools/flow-stat/sym/, from flow-tools' configs/).

use flowkit_core::testing::testdata;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Folders with goldens, and where their commands' working directory is in our testdata.
const DIRS: [(&str, &str); 4] = [
    ("2010-11-09", ""),
    ("v1", "flow-tools/variants/v1"),
    (
        "extra/masked-tagged-v5",
        "flow-tools/flow-stat/extra/inputs",
    ),
    (
        "extra/flowgen-v5-n1000",
        "flow-tools/flow-stat/extra/inputs",
    ),
];

/// What differs from flow-tools, and why. `lines`: only lines starting with these differ (the
/// rest must match); empty: the whole output may differ.
struct Differs {
    dir: &'static str,
    file: &'static str,
    lines: &'static [&'static str],
    why: &'static str,
}

const REALTIME: &[&str] = &[
    "Duration of data  (realtime)",
    "Average flows / second (real)",
    "Average Kbits / second (real)",
];

const EXPECTED_TO_DIFFER: &[Differs] = &[
    Differs {
        dir: "*",
        file: "flow-stat-f0.txt",
        lines: REALTIME,
        why: "flow-tools takes realtime from the records' export time (unix_secs), which \
              flowkit does not keep; flowkit uses the seconds the flows span",
    },
    Differs {
        dir: "*",
        file: "flow-stat-f0-p.txt",
        lines: REALTIME,
        why: "as flow-stat-f0.txt",
    },
    Differs {
        dir: "extra/flowgen-v5-n1000",
        file: "flow-stat-f0.txt",
        lines: &[],
        why: "flow-gen's First/Last straddle a sysUptime wrap; flow-tools compares raw \
              sysUptime values, flowkit absolute times (read modulo 2^32)",
    },
    Differs {
        dir: "2010-11-09",
        file: "pipe-flow-cat_flow-stat-f0.txt",
        lines: REALTIME,
        why: "as flow-stat-f0.txt",
    },
    Differs {
        dir: "2010-11-09",
        file: "pipe-flow-cat_flow-stat-f0-p.txt",
        lines: &[],
        why: "flowkit's flow-cat writes a flowkit stream, which has no flow-tools header for -p \
              to print: flow-stat refuses -p on it",
    },
    Differs {
        dir: "2010-11-09",
        file: "pipe-flow-cat-p_flow-stat-f10-p-P-S3.txt",
        lines: &[],
        why: "as pipe-flow-cat_flow-stat-f0-p.txt",
    },
    Differs {
        dir: "extra/flowgen-v5-n1000",
        file: "flow-stat-f0-p.txt",
        lines: &[],
        why: "as flow-stat-f0.txt of this input",
    },
    Differs {
        dir: "extra/flowgen-v5-n1000",
        file: "flow-stat-f13.txt",
        lines: &[],
        why: "raw sysUptime First/Last (wrapping in flow-gen's data) are not kept; flowkit \
              prints ms since the earliest flow start",
    },
    Differs {
        dir: "extra/flowgen-v5-n1000",
        file: "flow-stat-f14.txt",
        lines: &[],
        why: "as f13",
    },
];

fn expected_difference(dir: &str, file: &str) -> Option<&'static Differs> {
    // The most specific entry wins.
    EXPECTED_TO_DIFFER
        .iter()
        .find(|d| d.dir == dir && d.file == file)
        .or_else(|| {
            EXPECTED_TO_DIFFER
                .iter()
                .find(|d| d.dir == "*" && d.file == file)
        })
}

/// Splits a command line of commands.txt (words, single quotes, `< FILE`).
fn words(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Our output with argv[0] on the `# Args:` line written as flow-tools' bare `flow-stat`.
fn normalise_args(out: &str, argv0: &str) -> String {
    out.replacen(
        &format!("# Args:      {argv0} "),
        "# Args:      flow-stat ",
        1,
    )
}

fn without(text: &str, prefixes: &[&str]) -> String {
    text.lines()
        .filter(|l| !prefixes.iter().any(|p| l.starts_with(p)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes the flows of `cat`'s inputs (globs relative to `cwd`) as a flowkit archive, as
/// `flow-cat` would stream them; returns its path.
fn flowkit_stream(cwd: &Path, cat: &str, tmp: &tempfile::TempDir, name: &str) -> PathBuf {
    let globs: Vec<String> = words(cat)[1..]
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| cwd.join(a).display().to_string())
        .collect();
    let inputs = flowkit_core::pipeline::input::expand_inputs(&globs, false).unwrap();
    assert!(!inputs.is_empty(), "{cat}: no input");
    let path = tmp.path().join(name);
    let mut out = flowkit_cli::open_output(Some(&path), "test").unwrap();
    let mut sc = flowkit_core::pipeline::scan::Scanner::new(Default::default(), |m| panic!("{m}"));
    sc.run(&inputs, &mut |blocks| {
        for b in blocks {
            out.write_block(b, None).unwrap();
        }
        Ok(())
    })
    .unwrap();
    out.finish().unwrap();
    path
}

#[test]
fn every_flow_stat_golden_matches_byte_for_byte() {
    let bin = env!("CARGO_BIN_EXE_flow-stat");
    let (mut matched, mut partly, mut differ, mut failures) = (0, 0, 0, Vec::new());
    let tmp = tempfile::tempdir().unwrap();
    for (dir, cwd) in DIRS {
        let rel = format!("flow-tools/flow-stat/{dir}");
        let commands = testdata::read_text(&format!("{rel}/commands.txt"))
            .unwrap_or_else(|e| panic!("{rel}/commands.txt: {e} (testdata missing?)"));
        let cwd: PathBuf = testdata::path(cwd);
        let mut ran = 0;
        for line in commands.lines().filter(|l| !l.starts_with('#')) {
            let (file, cmd) = line.split_once('\t').expect("FILE<TAB>COMMAND");
            // `flow-cat FILES | flow-stat ...`: flowkit's flow-cat writes a flowkit stream of
            // the same flows; flow-report is not flow-stat's.
            let (stat_cmd, piped) = match cmd.split_once(" | ") {
                Some((cat, st)) if cat.starts_with("flow-cat ") => (st, Some(cat)),
                _ => (cmd, None),
            };
            if !stat_cmd.starts_with("flow-stat ") {
                continue;
            }
            let mut w = words(stat_cmd);
            let input = match piped {
                None => {
                    let lt = w.iter().position(|x| x == "<").expect("input on stdin");
                    let input = cwd.join(&w[lt + 1]);
                    w.truncate(lt);
                    input
                }
                Some(cat) => flowkit_stream(&cwd, cat, &tmp, file),
            };
            let stdin =
                std::fs::File::open(&input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let run = Command::new(bin)
                .args(&w[1..])
                .current_dir(&cwd)
                .env("TZ", "UTC")
                .env(
                    "FLOWKIT_SYM_DIR",
                    testdata::path("flow-tools/flow-stat/sym"),
                )
                .stdin(Stdio::from(stdin))
                .output()
                .unwrap();
            ran += 1;
            let ours = normalise_args(&String::from_utf8_lossy(&run.stdout), bin);
            let golden = testdata::read_text(&format!("{rel}/{file}.gz")).unwrap();
            let stderr_name = format!("{rel}/{}.stderr.gz", file.trim_end_matches(".txt"));
            let golden_err = if Path::new(&testdata::path(&stderr_name)).exists() {
                testdata::read_text(&stderr_name).unwrap()
            } else {
                String::new()
            };
            let same = ours == golden && String::from_utf8_lossy(&run.stderr) == golden_err;
            match expected_difference(dir, file) {
                None if same => matched += 1,
                None => failures.push(format!(
                    "{dir}/{file}: `{cmd}` differs from flow-tools (stderr: {})",
                    String::from_utf8_lossy(&run.stderr).trim()
                )),
                Some(d) if d.lines.is_empty() => {
                    if same {
                        failures.push(format!(
                            "{dir}/{file} now matches: drop it from EXPECTED_TO_DIFFER"
                        ));
                    }
                    differ += 1;
                }
                Some(d) => {
                    if without(&ours, d.lines) != without(&golden, d.lines) {
                        failures.push(format!(
                            "{dir}/{file}: differs beyond {:?} ({})",
                            d.lines, d.why
                        ));
                    } else if same {
                        failures.push(format!(
                            "{dir}/{file} now matches: drop it from EXPECTED_TO_DIFFER"
                        ));
                    }
                    partly += 1;
                }
            }
        }
        assert!(
            ran >= 64,
            "{dir}: only {ran} flow-stat commands in commands.txt"
        );
        eprintln!("{dir}: {ran} flow-stat runs");
    }
    eprintln!(
        "flow-stat goldens: {matched} byte-identical, {partly} identical apart from listed lines, \
         {differ} expected to differ"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
