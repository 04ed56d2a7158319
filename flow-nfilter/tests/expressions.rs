//! `flow-nfilter -e EXPR` as a user runs it: nfdump's answers on a real nfcapd file, `-F` and
//! `-e` together as one filter (the same flows as chaining them), and mistakes named at their
//! column with nothing written.

use flowkit_core::testing::testdata;
use std::process::{Command, Output, Stdio};

fn flow_nfilter(args: &[&str], stdin: &[u8]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-nfilter"))
        .env_remove("FLOWKIT_FILTERS")
        .env("TZ", "UTC")
        .current_dir(testdata::dir())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = c.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        let _ = input.write_all(&data);
    });
    let out = c.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

fn count(args: &[&str], stdin: &[u8]) -> u64 {
    let o = flow_nfilter(args, stdin);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
}

/// How many flows nfdump selected with `expr` from testdata/nfdump/NAME.nfcapd
/// (testdata/nfdump/expr/NAME.txt, made by make_expr.sh).
fn nfdump_count(name: &str, expr: &str) -> u64 {
    let text = testdata::read_text(&format!("nfdump/expr/{name}.txt")).unwrap();
    let list = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{expr}\t")))
        .unwrap_or_else(|| panic!("`{expr}` not in expr/{name}.txt"));
    list.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

#[test]
fn counts_equal_nfdump_on_a_real_capture() {
    for (file, expr) in [
        ("softflowd-ipfix-biflow-lz4", "dst port 22"),
        ("softflowd-ipfix-biflow-lz4", "out bytes > 1000"),
        (
            "softflowd-v5-sampled-lz4",
            "packets >= 10 and packets <= 20",
        ),
        (
            "scenario-ipfix",
            "(src host 83.202.74.106 or dst host 83.202.74.106) and not flags R",
        ),
        ("scenario-ipfix", "duration > 1000"),
    ] {
        let path = format!("nfdump/{file}.nfcapd");
        let want = nfdump_count(file, expr);
        assert!(want > 0, "{file}: `{expr}` selects something");
        assert_eq!(
            count(&["-e", expr, "--count", &path], b""),
            want,
            "{file}: {expr}"
        );
        // The same through a pipe: flow-cat's stream, filtered on stdin.
        let flow_cat =
            std::path::Path::new(env!("CARGO_BIN_EXE_flow-nfilter")).with_file_name("flow-cat");
        if flow_cat.exists() {
            let stream = Command::new(&flow_cat)
                .current_dir(testdata::dir())
                .arg(&path)
                .output()
                .unwrap();
            assert!(stream.status.success());
            assert_eq!(
                count(&["-e", expr, "--count"], &stream.stdout),
                want,
                "{file}: {expr} (pipe)"
            );
        }
    }
}

/// `-F NAME -e EXPR` passes what `-F NAME | -e EXPR` passes, on the investigation's day.
#[test]
fn definition_and_expression_are_one_filter() {
    let day = "2010-11-09";
    let both = flow_nfilter(
        &[
            "-F",
            "ip-addr",
            "-v",
            "ADDR=189.22.36.165",
            "-e",
            "dst port 80 and packets > 1",
            day,
        ],
        b"",
    );
    assert!(
        both.status.success(),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    let first = flow_nfilter(&["-F", "ip-addr", "-v", "ADDR=189.22.36.165", day], b"");
    assert!(first.status.success());
    let chained = flow_nfilter(&["-e", "dst port 80 and packets > 1"], &first.stdout);
    assert!(chained.status.success());
    let n_both = count(&["-e", "any", "--count"], &both.stdout);
    assert_eq!(n_both, count(&["-e", "any", "--count"], &chained.stdout));
    assert!(n_both > 100, "{n_both} flows");
    assert!(n_both < count(&["-e", "any", "--count"], &first.stdout));
}

#[test]
fn mistakes_exit_2_naming_the_column_and_write_nothing() {
    for (expr, want) in [
        ("dst prot 22", "-e: unknown word `prot` at column 5; did you mean `port`?\n  dst prot 22\n      ^^^^\n"),
        ("mpls label4 4", "-e: `mpls label4` is not available at column 6; flowkit keeps the top three MPLS labels (label1 to label3)\n"),
    ] {
        let o = flow_nfilter(&["-e", expr, "2010-11-09"], b"");
        assert_eq!(o.status.code(), Some(2), "{expr}");
        assert!(o.stdout.is_empty(), "{expr}");
        let err = String::from_utf8(o.stderr).unwrap();
        assert!(err.starts_with("flow-nfilter: "), "{err}");
        assert!(err.contains(want), "{expr}: {err}");
    }
    let o = flow_nfilter(&["-e", "dst prot 22", "--sql", "duckdb"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("-e: unknown word `prot` at column 5"));
}

fn stdout_of(args: &[&str]) -> String {
    let o = flow_nfilter(args, b"");
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// `-e EXPR --sql D` prints the expression's translation; with `-F` the definition's and the
/// expression's, AND-ed. (That DuckDB then selects flow-nfilter's flows is
/// flow-export/tests/duckdb_expressions.rs.)
#[test]
fn sql_of_an_expression_alone_and_beside_a_definition() {
    use flowkit_core::filter::expr::{sql::expr_to_sql, Expression};
    use flowkit_core::filter::sql::Dialect;
    let expr = "proto udp and (dst port 53 or pps > 100)";
    let e = Expression::parse(expr).unwrap();
    for name in Dialect::NAMES {
        let d = Dialect::from_name(name).unwrap();
        let alone = stdout_of(&["-e", expr, "--sql", name]);
        assert_eq!(
            alone,
            format!("{}\n", expr_to_sql(&e, d).unwrap()),
            "{name}"
        );
        let def = stdout_of(&["-F", "gt1packet", "--sql", name]);
        let both = stdout_of(&["-F", "gt1packet", "-e", expr, "--sql", name]);
        assert_eq!(
            both,
            format!(
                "({}) AND ({})\n",
                def.trim_end(),
                expr_to_sql(&e, d).unwrap()
            ),
            "{name}"
        );
    }
}
