//! flow-import end to end: the built binary reads captures and writes archives that read back
//! with the same flows the library decodes; damaged captures import the rest and say where.

use flowkit_core::archive::ArchiveFile;
use flowkit_core::model::record::FlowRecord;
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::netflow::Decoder;
use flowkit_core::FlowBlockBuf;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/exports")
}

/// Gunzips a shipped capture into `dir`.
fn capture(dir: &Path, name: &str) -> (PathBuf, Vec<u8>) {
    let gz = std::fs::read(testdata().join(format!("{name}.pcap.gz"))).expect("capture");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut bytes)
        .expect("gunzip");
    let path = dir.join(format!("{name}.pcap"));
    std::fs::write(&path, &bytes).expect("write");
    (path, bytes)
}

/// The flows of a capture per packet number, decoded by the library directly.
fn library_flows(bytes: &[u8]) -> Vec<(u64, Vec<FlowRecord>)> {
    let mut r = CaptureReader::from_bytes("x", bytes.to_vec()).expect("capture");
    let mut d = Decoder::default();
    let mut out = Vec::new();
    while let Some(g) = r.next_datagram().expect("intact") {
        let mut buf = FlowBlockBuf::default();
        let _ = d.decode(g.payload, g.src, g.ts_ms, &mut buf);
        out.push((g.packet, buf.view().records().collect()));
    }
    out
}

fn read_archive(path: &Path) -> Vec<FlowRecord> {
    let f = ArchiveFile::open(path, false).expect("archive");
    (0..f.blocks().len())
        .flat_map(|i| f.block(i).expect("block").records().collect::<Vec<_>>())
        .collect()
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_flow-import"))
        .args(args)
        .output()
        .expect("run flow-import");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sorted(mut v: Vec<FlowRecord>) -> Vec<FlowRecord> {
    v.sort_by_key(|r| {
        (
            r.start_ms, r.end_ms, r.src_addr, r.dst_addr, r.src_port, r.dst_port,
        )
    });
    v
}

#[test]
fn capture_to_file_reads_back_the_same_flows() {
    let dir = tempfile::tempdir().unwrap();
    let (v5, v5_bytes) = capture(dir.path(), "scenario-v5");
    let (ipfix, ipfix_bytes) = capture(dir.path(), "pmacct-ipv6-ipfix");
    let out = dir.path().join("flows.fk");
    let (code, err) = run(&[
        v5.to_str().unwrap(),
        ipfix.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-v",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("3518 flows"), "summary: {err}");
    let mut want: Vec<FlowRecord> = library_flows(&v5_bytes)
        .into_iter()
        .chain(library_flows(&ipfix_bytes))
        .flat_map(|(_, f)| f)
        .collect();
    want = sorted(want);
    let got = sorted(read_archive(&out));
    assert_eq!(got.len(), 3498 + 20, "nfdump's counts for the two captures");
    assert_eq!(got, want);
}

/// `--check` decodes and reports like an import (nfdump's flow counts) and writes nothing.
#[test]
fn check_reports_the_flows_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (v5, _) = capture(dir.path(), "scenario-v5");
    let (ipfix, _) = capture(dir.path(), "pmacct-ipv6-ipfix");
    let before: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    let out = Command::new(env!("CARGO_BIN_EXE_flow-import"))
        .args(["--check", v5.to_str().unwrap(), ipfix.to_str().unwrap()])
        .output()
        .expect("run flow-import");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(out.stdout.is_empty(), "--check writes no flows");
    assert!(err.contains("3518 flows"), "summary: {err}");
    let after: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(before.len(), after.len(), "no file written");
    let (code, err) = run(&["--check", v5.to_str().unwrap(), "-o", "x.fk"]);
    assert_eq!(code, 2, "--check with -o is a usage error: {err}");
}

#[test]
fn capture_to_dated_tree_by_export_time() {
    let dir = tempfile::tempdir().unwrap();
    let (v9, bytes) = capture(dir.path(), "scenario-v9");
    let tree = dir.path().join("tree");
    let tree_arg = format!("{}/", tree.display());
    let (code, err) = run(&[
        v9.to_str().unwrap(),
        "-o",
        &tree_arg,
        "--utc",
        "--rotate",
        "1h",
    ]);
    assert_eq!(code, 0, "{err}");
    // softflowd exported the 2010 story with the story's own clock: the 2010 tree.
    let day = tree.join("2010/2010-11/2010-11-09");
    let mut files: Vec<_> = std::fs::read_dir(&day)
        .expect("2010 tree")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for f in &files {
        let n = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            n.starts_with("ft.2010-11-09.") && n.ends_with("0000+0000"),
            "{n}"
        );
    }
    let got: Vec<FlowRecord> = files.iter().flat_map(|f| read_archive(f)).collect();
    let want: Vec<FlowRecord> = library_flows(&bytes)
        .into_iter()
        .flat_map(|(_, f)| f)
        .collect();
    assert_eq!(sorted(got), sorted(want));
}

#[test]
fn a_corrupted_packet_is_reported_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut bytes) = capture(dir.path(), "scenario-v9");
    let per_packet = library_flows(&bytes);
    let total: usize = per_packet.iter().map(|(_, f)| f.len()).sum();
    // Walk the pcap records (Ethernet, IPv4, UDP: payload at +42) to the first packet after
    // the first whose first set is a data set, and make that set's length lie.
    let mut off = 24;
    let mut number = 0u64;
    let (victim, victim_flows) = loop {
        number += 1;
        let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
        let payload = off + 16 + 42;
        let set_id = u16::from_be_bytes([bytes[payload + 20], bytes[payload + 21]]);
        if number > 1 && set_id >= 256 {
            bytes[payload + 22] = 0xFF;
            let flows = per_packet
                .iter()
                .find(|(n, _)| *n == number)
                .unwrap()
                .1
                .len();
            break (number, flows);
        }
        off += 16 + incl;
    };
    assert!(victim_flows > 0);
    let bad = dir.path().join("bad.pcap");
    std::fs::write(&bad, &bytes).unwrap();
    let out = dir.path().join("out.fk");
    let (code, err) = run(&[bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(
        code, 0,
        "skipped packets are a warning, not a failure: {err}"
    );
    assert!(
        // The exporter is named with its source port (its template scope).
        err.contains(&format!(
            "bad.pcap: packet {victim}: skipped v9 from 127.0.0.1:"
        )) && err.contains(": byte 22:"),
        "{err}"
    );
    assert!(
        err.contains("warning:") && err.contains("1 malformed packets"),
        "{err}"
    );
    assert_eq!(read_archive(&out).len(), total - victim_flows);

    // A capture cut in the middle of a packet: the packets before it are imported.
    let cut_at = bytes.len() - 100;
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..cut_at]).unwrap();
    let (code, err) = run(&[cut.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let last = per_packet.last().unwrap();
    assert!(
        err.contains(&format!("cut.pcap: packet {}", last.0))
            && err.contains("capture ends in the middle of this packet"),
        "{err}"
    );
    assert_eq!(
        read_archive(&out).len(),
        total - victim_flows - last.1.len()
    );
}

#[test]
fn nothing_readable_is_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pcap");
    std::fs::write(&junk, b"this is not a capture").unwrap();
    let out = dir.path().join("out.fk");
    let (code, err) = run(&[junk.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("junk.pcap: not a pcap or pcapng capture"),
        "{err}"
    );
    let (code, _) = run(&["--rotate", "5m"]);
    assert_eq!(code, 2, "no capture given is a usage error");
}

#[test]
fn pcapng_and_nanosecond_pcap_give_the_same_flows_as_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let other = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/captures");
    for (converted, original) in [
        ("pmacct-ipv6-v9.pcapng", "pmacct-ipv6-v9"),
        ("pmacct-ipv6-ipfix.nsec.pcap", "pmacct-ipv6-ipfix"),
    ] {
        let (_, bytes) = capture(dir.path(), original);
        let want: Vec<FlowRecord> = library_flows(&bytes)
            .into_iter()
            .flat_map(|(_, f)| f)
            .collect();
        let conv = std::fs::read(other.join(converted)).unwrap();
        let got: Vec<FlowRecord> = library_flows(&conv)
            .into_iter()
            .flat_map(|(_, f)| f)
            .collect();
        assert_eq!(got.len(), 20, "{converted}");
        assert_eq!(got, want, "{converted}");
        // Capture times survive the conversion (the first packet, to the millisecond).
        let t = |b: Vec<u8>| {
            let mut r = CaptureReader::from_bytes("t", b).unwrap();
            r.next_datagram().unwrap().unwrap().ts_ms
        };
        assert_eq!(t(conv), t(bytes), "{converted}");
    }
}

/// Flows whose times are far from their export packet's time (1985; three days ahead) are
/// kept, and `--check` names the packet and the exporter (with its port) and counts them.
#[test]
fn flows_with_times_far_from_the_export_time_are_reported_by_check() {
    use flowkit_core::gen::{FlowGen, GenConfig};
    use flowkit_core::netflow::encode::{ExportEncoder, ExportVersion};
    use flowkit_core::netflow::exporter::PcapDatagramWriter;
    let mut flows: Vec<FlowRecord> = FlowGen::new(GenConfig {
        flows: 20,
        ipv6_permille: 0,
        ..GenConfig::default()
    })
    .collect();
    let mut enc = ExportEncoder::new(ExportVersion::Ipfix, 0);
    flows.truncate(enc.fitting(&flows).min(20));
    let n = flows.len();
    let export = flows.iter().map(|f| f.end_ms).max().unwrap() + 1000;
    flows[3].start_ms = 473_385_600_000;
    flows[7].end_ms = export + 3 * 86_400_000;
    let mut g = Vec::new();
    enc.encode(&flows, export, &mut g).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("times.pcap");
    let (from, to) = flowkit_core::netflow::exporter::loopback_endpoints();
    let mut w = PcapDatagramWriter::new(std::fs::File::create(&path).unwrap(), from, to).unwrap();
    w.write(export, &g).unwrap();
    drop(w.into_inner());
    let (code, err) = run(&["--check", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "times.pcap: packet 1: v10 from {from}: 2 flows with times before 1990"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{n} flows;")), "kept: {err}");
    assert!(
        err.contains("warning: ") && err.contains("; 2 flows with times before 1990"),
        "{err}"
    );
}

/// A capture of traffic instead of export packets (the first 1000 packets of the shared traffic
/// story) is not a silent import of 0 flows: each command says what the capture held, with the
/// counts tcpdump gives for it (`tcp` 969, `udp` 30 of which 15 to port 53, 1 other).
#[test]
fn a_capture_of_traffic_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let gz = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/captures/story-first1000.pcap.gz"),
    )
    .expect("capture");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut bytes)
        .expect("gunzip");
    let story = dir.path().join("story.pcap");
    std::fs::write(&story, &bytes).unwrap();
    let out = dir.path().join("flows.fk");
    for args in [
        vec!["--check", story.to_str().unwrap()],
        vec![story.to_str().unwrap(), "-o", out.to_str().unwrap()],
    ] {
        let (code, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        let want = format!(
            "{}: no NetFlow v5/v9 or IPFIX export packet on any UDP port in 1000 packets \
             (969 TCP, 30 UDP, 1 other IP, 0 not IP, fragments or cut short); \
             UDP went to ports 53 (15)",
            story.display()
        );
        assert!(err.contains(&want), "{err}");
        assert!(err.contains("softflowd -r FILE"), "{err}");
        assert!(
            err.contains("warning: ") && err.contains("1 capture(s) without export packets"),
            "the summary is printed and counts it: {err}"
        );
    }
    assert!(read_archive(&out).is_empty());
    // A capture of export packets gets no such message.
    let (v5, _) = capture(dir.path(), "scenario-v5");
    let (code, err) = run(&["--check", v5.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !err.contains("no NetFlow") && !err.contains("without export"),
        "{err}"
    );
}
