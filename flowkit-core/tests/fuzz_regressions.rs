//! Every input a fuzzer found crashing (`testdata/fuzz-regressions/TARGET/NAME`), replayed through
//! the same harness the fuzz target runs (`flowkit_core::testing::fuzzing`), so a fixed bug stays fixed.
//! docs/reliability.md lists what each one was. The harnesses are also run over a few inputs
//! made here, so that they themselves are exercised by the normal test suite.

use flowkit_core::testing::testdata;
use flowkit_core::testing::{fuzz_text, fuzzing};

/// Replays every crash found for `target`, then its kept corpus (`testdata/fuzz-corpus/TARGET.corpus`:
/// the last long run's corpus minimized with `-merge=1`, its inputs up to 4 KiB, packed by
/// `fuzz/corpus-pack.py`), so the paths the fuzzer reached stay exercised by the normal tests;
/// returns how many crashes were replayed.
fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let packed = std::fs::read(testdata::path(&format!("fuzz-corpus/{target}.corpus")))
        .unwrap_or_else(|e| panic!("no kept corpus for {target} in testdata/fuzz-corpus/: {e}"));
    let inputs = unpack(&packed);
    assert!(!inputs.is_empty(), "empty kept corpus for {target}");
    for input in inputs {
        harness(input);
    }
    replay_dir(&format!("fuzz-regressions/{target}"), harness)
}

/// The inputs of a packed corpus: each a little-endian u32 length, then that many bytes.
fn unpack(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        assert!(4 + n <= b.len(), "packed corpus cut short");
        out.push(&b[4..4 + n]);
        b = &b[4 + n..];
    }
    assert!(b.is_empty(), "packed corpus has {} stray bytes", b.len());
    out
}

/// Runs `harness` over every file of `testdata/REL`, in name order.
fn replay_dir(rel: &str, harness: fn(&[u8])) -> usize {
    let dir = testdata::path(rel);
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

#[test]
fn nfdump_regressions() {
    replay("nfdump", fuzzing::nfdump);
}

#[test]
fn expr_regressions() {
    replay("expr", fuzz_text::expr);
}

/// One crash so far: conntrack seconds near `i64::MAX` overflowed the milliseconds (ulogd writes
/// u32 seconds; a larger number is now a malformed line).
#[test]
fn logs_regressions() {
    assert_eq!(replay("logs", fuzz_text::logs), 1);
}

/// The `nfdump` harness on real files: every flow of a small file is read, and the same with 64
/// or 1,000 flows a read; a large file stops at the cap; a cut file ends in an error naming a
/// byte inside it.
#[test]
fn nfdump_harness_reads_real_files() {
    use fuzzing::{nfdump_read, NFDUMP_MAX_FLOWS};
    let small = std::fs::read(testdata::path("nfdump/pmacct-ipv6-ipfix.nfcapd")).unwrap();
    let (flows, end) = nfdump_read(&small, 64);
    let truth = testdata::read_text("nfdump/pmacct-ipv6-ipfix.truth.txt").unwrap();
    assert!(end.is_none(), "{end:?}");
    assert!(!flows.is_empty());
    assert_eq!(
        flows.len(),
        truth.lines().filter(|l| !l.trim().is_empty()).count()
    );
    fuzzing::nfdump(&small);

    let big = std::fs::read(testdata::path("nfdump/scenario-ipfix.nfcapd")).unwrap();
    let (flows, end) = nfdump_read(&big, 1000);
    assert_eq!((flows.len(), end), (NFDUMP_MAX_FLOWS, None));
    let (flows, end) = nfdump_read(&big[..20_000], 64);
    let e = end.expect("a cut file ends in an error");
    assert!(e.starts_with("fuzz.nfcapd"), "{e}");
    assert!(!flows.is_empty() && flows.len() < NFDUMP_MAX_FLOWS);
    fuzzing::nfdump(&big[..20_000]);
}

/// The harnesses over real inputs (what the seed corpora hold), so they are known to pass on
/// good data.
#[test]
fn harnesses_accept_real_inputs() {
    use flowkit_core::netflow::pcap::CaptureReader;
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

/// The `flowtools` harness stops at `FLOWTOOLS_MAX_FLOWS` yet still reaches the end of the data,
/// truncation and damage: a real compressed file stops at the cap; its first records alone reach
/// the end of the data (where the header's flow count is checked); their zlib stream cut short
/// or damaged ends in an error after the records before the cut.
#[test]
fn flowtools_harness_reaches_end_damage_and_cap() {
    use flowkit_core::archive::flowtools;
    use fuzzing::{FlowToolsEnd, FLOWTOOLS_MAX_FLOWS};
    use std::io::{Read, Write};
    let bytes = std::fs::read(testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000")).unwrap();
    let h = flowtools::read_header("t", &[], &mut &bytes[..]).unwrap();
    assert!(h.is_compressed() && h.is_done());
    assert!(h.flows.unwrap() as usize > FLOWTOOLS_MAX_FLOWS);
    assert_eq!(
        fuzzing::flowtools_read(&bytes),
        (FLOWTOOLS_MAX_FLOWS, FlowToolsEnd::Cap)
    );

    // The first 500 records, compressed again after the same header (which counts all 3498).
    let mut records = Vec::new();
    flate2::read::ZlibDecoder::new(&bytes[h.header_len..])
        .read_to_end(&mut records)
        .unwrap();
    let size = records.len() / h.flows.unwrap() as usize;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&records[..500 * size]).unwrap();
    let mut first = bytes[..h.header_len].to_vec();
    first.extend(z.finish().unwrap());
    let error = |data: &[u8]| match fuzzing::flowtools_read(data) {
        (n, FlowToolsEnd::Error(e)) => (n, e),
        other => panic!("{other:?}"),
    };
    let (n, e) = error(&first);
    assert_eq!(n, 500);
    assert!(
        e.contains("data ends after 500 flows; the header says 3498"),
        "{e}"
    );

    // Cut in the zlib header, in the middle of the records; damaged in the middle.
    let mid = h.header_len + (first.len() - h.header_len) / 2;
    let (n, e) = error(&first[..h.header_len + 1]);
    assert_eq!(n, 0);
    assert!(e.contains("cannot read records after record 0"), "{e}");
    let (n, e) = error(&first[..mid]);
    assert!(n > 0 && n < 500, "{n}");
    assert!(
        e.contains(&format!("cannot read records after record {n}")),
        "{e}"
    );
    let mut damaged = first.clone();
    damaged[mid] ^= 0x55;
    let (n, e) = error(&damaged);
    assert!(n > 0 && n < 500, "records before the damage are read: {n}");
    assert!(e.contains(&format!("after record {n}")), "{e}");
}
