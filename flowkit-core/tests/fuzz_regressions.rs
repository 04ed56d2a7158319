//! Every input a fuzzer found crashing (`testdata/fuzz-regressions/TARGET/NAME`), replayed through
//! the same harness the fuzz target runs (`flowkit_core::fuzzing`), so a fixed bug stays fixed.
//! docs/reliability.md lists what each one was. The harnesses are also run over a few inputs
//! made here, so that they themselves are exercised by the normal test suite.

use flowkit_core::fuzzing;
use flowkit_core::testdata;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let dir = testdata::path(&format!("fuzz-regressions/{target}"));
    let mut n = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    for p in entries.into_iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(&p).unwrap();
        eprintln!("replaying {}", p.display());
        harness(&bytes);
        n += 1;
    }
    n
}

#[test]
fn decode_regressions() {
    replay("decode", fuzzing::decode);
}

#[test]
fn archive_regressions() {
    assert!(replay("archive", fuzzing::archive) > 0);
}

#[test]
fn flowtools_regressions() {
    replay("flowtools", fuzzing::flowtools);
}

#[test]
fn filter_regressions() {
    replay("filter", fuzzing::filter);
}

#[test]
fn capture_regressions() {
    replay("capture", fuzzing::capture);
}

/// The harnesses over real inputs (what the seed corpora hold), so they are known to pass on
/// good data.
#[test]
fn harnesses_accept_real_inputs() {
    use flowkit_core::capture::CaptureReader;
    let mut input = Vec::new();
    for (k, name) in [
        "exports/pmacct-v9.pcap.gz",
        "exports/softflowd-ipfix-biflow.pcap.gz",
    ]
    .iter()
    .enumerate()
    {
        let mut r = CaptureReader::open(&testdata::path(name)).unwrap();
        for _ in 0..20 {
            let Some(g) = r.next_datagram().unwrap() else {
                break;
            };
            fuzzing::push_datagram(&mut input, k, 0, g.payload);
        }
    }
    assert_eq!(fuzzing::split_datagrams(&input).count(), 40);
    fuzzing::decode(&input);
    fuzzing::flowtools(
        &std::fs::read(testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000")).unwrap(),
    );
    fuzzing::filter(
        testdata::read_text("flow-tools/investigation.cfg")
            .unwrap()
            .as_bytes(),
    );
    fuzzing::capture(&std::fs::read(testdata::path("captures/pmacct-ipv6-v9.pcapng")).unwrap());
}
