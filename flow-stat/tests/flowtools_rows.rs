//! `flow-stat -f N --csv` and `--json`: the rows of flow-tools 0.68.5's own report N (its
//! printed goldens in testdata/flow-tools/flow-stat/, see flowtools_goldens.rs), key for key
//! in the same order with the same flows, octets and packets, one value per column (a prefix
//! `10.1/16` is `10.1.0.0` and `16`).

use flowkit_core::testing::testdata;
use std::process::Command;

/// Golden folders and the directory their commands ran in (as flowtools_goldens.rs).
const DIRS: [(&str, &str); 2] = [
    ("2010-11-09", ""),
    (
        "extra/masked-tagged-v5",
        "flow-tools/flow-stat/extra/inputs",
    ),
];

/// Reports that are tables (keys and counts); 0, 4 and 15 are not, 13/14 are plot data.
fn is_table(n: usize) -> bool {
    matches!(n, 1..=3 | 5..=12 | 16..=32)
}

/// flow-tools' `fmt_ipv4prefix` of a network and length: trailing zero octets dropped (one
/// kept), then `/len`.
fn ft_prefix(addr: &str, len: &str) -> String {
    let mut parts: Vec<&str> = addr.split('.').collect();
    while parts.len() > 1 && parts.last() == Some(&"0") {
        parts.pop();
    }
    format!("{}/{len}", parts.join("."))
}

/// A CSV row as flow-tools' words: keys (prefixes joined back), flows, octets, packets.
fn as_flowtools_words(head: &[String], row: &csv::StringRecord) -> Vec<String> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < head.len() {
        let h = head[i].as_str();
        if h == "duration_ms" {
            break;
        }
        if head.get(i + 1).is_some_and(|n| n.ends_with("_mask")) {
            words.push(ft_prefix(&row[i], &row[i + 1]));
            i += 2;
        } else {
            words.push(row[i].to_string());
            i += 1;
        }
    }
    words
}

fn run(cwd: &std::path::Path, args: &[String], input: &str, format: &str) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(args)
        .arg(format)
        .arg(input)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{args:?} {format}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

#[test]
fn csv_and_json_rows_are_flow_tools_report_rows() {
    let mut checked = Vec::new();
    for (dir, cwd) in DIRS {
        let rel = format!("flow-tools/flow-stat/{dir}");
        let commands = testdata::read_text(&format!("{rel}/commands.txt")).unwrap();
        let cwd = testdata::path(cwd);
        for line in commands.lines().filter(|l| !l.starts_with('#')) {
            let (file, cmd) = line.split_once('\t').unwrap();
            let Some((cmd, input)) = cmd.split_once(" < ") else {
                continue; // pipes
            };
            let words: Vec<String> = cmd.split(' ').skip(1).map(String::from).collect();
            // Only -f N with -S/-s: -P, -w, -n, -p and -T change the look, not the rows.
            let plain = words.len() == 2 || (words.len() == 4 && matches!(&*words[2], "-S" | "-s"));
            let Some(Ok(n)) = words.get(1).map(|w| w.parse::<usize>()) else {
                continue;
            };
            let stderr = testdata::path(&format!(
                "{rel}/{}.stderr.gz",
                file.trim_end_matches(".txt")
            ));
            if words[0] != "-f" || !plain || !is_table(n) || stderr.exists() {
                continue;
            }
            let golden = testdata::read_text(&format!("{rel}/{file}.gz")).unwrap();
            let want: Vec<Vec<String>> = golden
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .map(|l| l.split_whitespace().map(String::from).collect())
                .collect();

            let out = run(&cwd, &words, input, "--csv");
            let mut r = csv::Reader::from_reader(out.as_slice());
            let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
            assert!(head.len() > 4, "{dir}/{file}: {head:?}");
            assert_eq!(
                head[head.len() - 4..],
                ["flows", "octets", "packets", "duration_ms"],
                "{dir}/{file}"
            );
            let got: Vec<Vec<String>> = r
                .records()
                .map(|row| as_flowtools_words(&head, &row.unwrap()))
                .collect();
            assert_eq!(got, want, "{dir}/{file}: --csv rows");

            // JSON: the same rows, named as the CSV columns.
            let doc: serde_json::Value =
                serde_json::from_slice(&run(&cwd, &words, input, "--json")).expect("--json parses");
            assert_eq!(doc["report"], n);
            let rows = doc["rows"].as_array().unwrap();
            assert_eq!(rows.len(), want.len(), "{dir}/{file}: --json rows");
            let out = run(&cwd, &words, input, "--csv");
            let mut r = csv::Reader::from_reader(out.as_slice());
            for (j, row) in r.records().enumerate() {
                let row = row.unwrap();
                for (h, v) in head.iter().zip(row.iter()) {
                    let cell = &rows[j][h];
                    let text = cell
                        .as_u64()
                        .map_or_else(|| cell.as_str().unwrap().to_string(), |n| n.to_string());
                    assert_eq!(text, v, "{dir}/{file} row {j} {h}");
                }
            }
            checked.push(format!("{dir}/{file}"));
        }
    }
    // Every kind of key: ports, addresses, pairs, protocol, interfaces, AS, ToS, prefixes,
    // exporter, engine, tags.
    for n in [5, 7, 9, 10, 11, 12, 17, 21, 22, 24, 26, 27, 29, 32] {
        let f = format!("flow-stat-f{n}.txt");
        assert!(
            checked.iter().any(|c| c.ends_with(&f)),
            "{f} not checked: {checked:?}"
        );
    }
}

/// Reports that are not tables are refused with --csv, naming what to use.
#[test]
fn reports_that_are_not_tables_are_refused() {
    let day = testdata::path("2010-11-09");
    for n in ["0", "4", "15"] {
        let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
            .args(["-f", n, "--csv"])
            .arg(&day)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "-f {n}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("not a table") && err.contains("without -f"),
            "{err}"
        );
    }
}

/// f13/f14 as rows: one per flow, absolute start and end in ms, octets or packets.
#[test]
fn plot_data_is_one_row_per_flow() {
    let day = testdata::path("2010-11-09");
    let o = Command::new(env!("CARGO_BIN_EXE_flow-stat"))
        .args(["-f", "14", "--csv"])
        .arg(&day)
        .output()
        .unwrap();
    assert!(o.status.success());
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(head, ["start_ms", "end_ms", "packets"]);
    let rows: Vec<Vec<u64>> = r
        .records()
        .map(|x| x.unwrap().iter().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 3498);
    assert_eq!(rows.iter().map(|x| x[2]).sum::<u64>(), 12466);
    // The first flow flow-tools printed (flow-print -f 5): 1109.00:01:09.227 .. 09.979, 7 packets.
    assert_eq!(rows[0], [1289260869227, 1289260869979, 7]);
}
