//! `-f fmt:...` (and nfdump's named formats): flow-print's output equals nfdump 1.7.1's own
//! `-q -o ...` output, byte for byte, for every capture and case of testdata/nfdump/fmt (made by
//! testdata/nfdump/make_fmt.sh with the real nfdump); tokens it cannot print are usage errors
//! that say why.

use flowkit_core::testing::testdata;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One line of fmt/cases.txt: `NAME|TZ|nfdump options|-o value`.
struct Case {
    name: String,
    tz: String,
    options: Vec<String>,
    /// nfdump's `-o` value, flow-print's `-f` value.
    value: String,
}

fn nfdump_dir() -> PathBuf {
    testdata::dir().join("nfdump")
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(nfdump_dir().join("fmt/cases.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '|').collect();
            assert_eq!(f.len(), 4, "{l}");
            Case {
                name: f[0].to_string(),
                tz: f[1].to_string(),
                options: f[2].split_whitespace().map(String::from).collect(),
                value: f[3].to_string(),
            }
        })
        .collect()
}

/// The captures make_fmt.sh prints: its list, then every vendors/*.nfcapd.
fn captures() -> Vec<PathBuf> {
    let dir = nfdump_dir();
    let mut v: Vec<PathBuf> = [
        "scenario-ipfix",
        "scenario-v9-lzo",
        "softflowd-ipfix-biflow-lz4",
        "softflowd-v5-sampled-lz4",
        "pmacct-v9-sampled-lzo",
        "pmacct-ipv6-ipfix",
        "nat-vlan",
    ]
    .iter()
    .map(|n| dir.join(format!("{n}.nfcapd")))
    .collect();
    let mut vendors: Vec<PathBuf> = std::fs::read_dir(dir.join("vendors"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nfcapd"))
        .collect();
    vendors.sort();
    v.extend(vendors);
    v
}

fn golden(capture: &Path, case: &str) -> Vec<u8> {
    let stem = capture.file_stem().unwrap().to_str().unwrap();
    let rel = format!("nfdump/fmt/{stem}.{case}.txt.gz");
    testdata::read_text(&rel)
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
        .into_bytes()
}

fn flow_print(tz: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flow-print"))
        .args(args)
        .env("TZ", tz)
        .output()
        .unwrap()
}

fn stdout(o: Output) -> Vec<u8> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// Panics at the first line where `got` and `want` differ, showing both.
fn assert_same_text(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let (g, w) = (String::from_utf8_lossy(got), String::from_utf8_lossy(want));
    for (n, (gl, wl)) in g.lines().zip(w.lines()).enumerate() {
        assert_eq!(
            gl,
            wl,
            "{what}: line {} differs (left flowkit, right nfdump)",
            n + 1
        );
    }
    panic!(
        "{what}: flowkit wrote {} lines, nfdump {}",
        g.lines().count(),
        w.lines().count()
    );
}

#[test]
fn every_case_prints_as_nfdump_prints_it() {
    let (cases, captures) = (cases(), captures());
    assert!(cases.len() >= 11 && captures.len() >= 16);
    let mut lines = 0;
    for case in &cases {
        for capture in &captures {
            let mut args: Vec<&str> = case.options.iter().map(String::as_str).collect();
            args.extend(["-f", &case.value, capture.to_str().unwrap()]);
            let got = stdout(flow_print(&case.tz, &args));
            let want = golden(capture, &case.name);
            assert!(!want.is_empty(), "{capture:?} {}: empty golden", case.name);
            let what = format!("{} on {:?}", case.name, capture.file_name().unwrap());
            assert_same_text(&got, &want, &what);
            lines += want.iter().filter(|&&b| b == b'\n').count();
        }
    }
    // 11 cases of 11,600 flows (the all-plain-v6 case has two lines a flow).
    assert!(lines >= 12 * 11_600, "{lines} lines compared");
}

/// `--utc` prints what nfdump prints with TZ=UTC, whatever TZ is; without it TZ counts.
#[test]
fn utc_and_tz_are_honoured_as_nfdump_honours_tz() {
    let capture = nfdump_dir().join("vendors/netflow-9-h3c.nfcapd");
    let capture = capture.to_str().unwrap();
    let format = "fmt:%ts %te %tfs %tsr %td <%pr>";
    let utc_golden: Vec<u8> = {
        // The local-times case in UTC is the first five columns of the `all` case.
        let all = String::from_utf8(golden(Path::new(capture), "all")).unwrap();
        all.lines()
            .map(|l| {
                let c: Vec<&str> = l.split('|').collect();
                format!("{} {} {} {} {} <{}>\n", c[0], c[1], c[2], c[3], c[4], c[6])
            })
            .collect::<String>()
            .into_bytes()
    };
    let got = stdout(flow_print(
        "America/New_York",
        &["--utc", "-f", format, capture],
    ));
    assert_same_text(&got, &utc_golden, "--utc in New York");
    let local = stdout(flow_print("America/New_York", &["-f", format, capture]));
    assert_same_text(
        &local,
        &golden(Path::new(capture), "local-times"),
        "TZ=America/New_York",
    );
    assert_ne!(local, got);
}

fn usage_error(args: &[&str]) -> String {
    let o = flow_print("UTC", args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    assert!(o.stdout.is_empty());
    String::from_utf8(o.stderr).unwrap()
}

#[test]
fn unknown_tokens_are_named_with_their_column_and_the_nearest_token() {
    let capture = nfdump_dir().join("netflow5-mikrotik.nfcapd");
    let capture = capture.to_str().unwrap();
    let err = usage_error(&["-f", "fmt:%ts %sap -> %dapp", capture]);
    assert!(
        err.contains("unknown token %dapp at column 17; did you mean %dap?"),
        "{err}"
    );
    let err = usage_error(&["-f", "fmt:%TS", capture]);
    assert!(
        err.contains("unknown token %TS at column 5; did you mean %ts?"),
        "{err}"
    );
    let err = usage_error(&["-f", "fmt:100%", capture]);
    assert!(err.contains("unknown token % at column 8"), "{err}");
}

#[test]
fn tokens_of_fields_flowkit_lacks_are_refused_with_the_reason() {
    let err = usage_error(&["-f", "fmt:%ts %tr"]);
    assert!(
        err.contains("%tr at column 9 prints the time the collector received the flow"),
        "{err}"
    );
    let err = usage_error(&["-f", "fmt:%mpls5 %sa"]);
    assert!(
        err.contains("%mpls5 at column 5 prints MPLS labels below the third"),
        "{err}"
    );
    let err = usage_error(&["-f", "fmt:%ter"]);
    assert!(err.contains("wrong milliseconds"), "{err}");
}

#[test]
fn nfdump_options_need_a_fmt_format() {
    assert!(usage_error(&["-N", "-f", "3"]).contains("-N (plain numbers) applies to fmt:"));
    assert!(usage_error(&["-6", "-f", "csv"]).contains("-6 (whole IPv6 addresses) applies to fmt:"));
    assert!(usage_error(&["-f", "fmt:"]).contains("fmt: needs a format"));
}
