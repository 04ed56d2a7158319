//! Helpers shared by the integration tests: reading the shipped captures and the independent
//! collectors' views of them.

#![allow(dead_code)]

use flowkit_core::collect::import::{ImportSummary, Importer};
use flowkit_core::model::record::FlowRecord;
use flowkit_core::netflow::pcap::CaptureReader;
use std::io::Read;
use std::path::PathBuf;

/// The repository's testdata directory.
pub fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .join("testdata")
}

/// Reads a file, gunzipping `.gz` files.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        raw
    }
}

/// Imports a capture held in memory; returns the flows, the summary and the messages.
pub fn import_bytes(name: &str, bytes: Vec<u8>) -> (Vec<FlowRecord>, ImportSummary, Vec<String>) {
    let mut flows = Vec::new();
    let mut msgs = Vec::new();
    let mut imp = Importer::default();
    match CaptureReader::from_bytes(name, bytes) {
        Ok(r) => imp
            .import(r, &mut |m| msgs.push(m.to_string()), &mut |_, b| {
                flows.extend(b.records());
                Ok(())
            })
            .expect("sink never fails"),
        Err(e) => msgs.push(e.to_string()),
    }
    (flows, imp.finish(), msgs)
}

/// Formats UTC ms as nfdump prints times in its CSV (`YYYY-MM-DD HH:MM:SS`, whole seconds).
pub fn nf_time(ms: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms.div_euclid(1000) * 1000).expect("time");
    ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// nfdump's protocol names.
pub fn nf_proto(p: u8) -> String {
    match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "ICMP6".into(),
        47 => "GRE".into(),
        50 => "ESP".into(),
        p => p.to_string(),
    }
}

/// nfdump's TCP flag string (`CEUAPRSF`, dots for unset bits).
pub fn nf_flags(f: u8) -> String {
    "CEUAPRSF"
        .chars()
        .enumerate()
        .map(|(i, c)| if f & (0x80 >> i) != 0 { c } else { '.' })
        .collect()
}

/// Parses a CSV file (no header) into rows of fields.
pub fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|s| s.trim().to_string()).collect())
        .collect()
}
