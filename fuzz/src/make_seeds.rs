//! Writes the seed corpora of every fuzz target under `CORPUS_DIR/TARGET/` from the repository's
//! `testdata/`: real export datagrams (as `decode` inputs), archives written by our writer from
//! real flows, flow-tools files, filter files and captures.
//!
//! Usage: `make-seeds CORPUS_DIR`

use flowkit_core::archive::flowtools;
use flowkit_core::archive::{ArchiveWriter, WriterOptions};
use flowkit_core::collect::import::Importer;
use flowkit_core::netflow::pcap::CaptureReader;
use flowkit_core::testing::fuzzing::push_datagram;
use flowkit_core::{testing::testdata, FlowRecord};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(testdata::path(dir))
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(suffix));
    v.sort();
    v
}

/// A copy of a stream-version-3 header with the flags' compression bit and the flow count set.
fn patch_header(head: &[u8], big: bool, compress: bool, flows: u32) -> Vec<u8> {
    let mut h = head.to_vec();
    let u16_at = |h: &[u8], o: usize| {
        let v = [h[o], h[o + 1]];
        if big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    };
    let put32 = |h: &mut [u8], o: usize, v: u32| {
        let b = if big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        h[o..o + 4].copy_from_slice(&b);
    };
    if h.len() < 8 || h[3] != 3 {
        return h;
    }
    let mut off = 8;
    while off + 4 <= h.len() {
        let (t, len) = (u16_at(&h, off), u16_at(&h, off + 2) as usize);
        if off + 4 + len > h.len() {
            break;
        }
        if t == 0x8 && len == 4 {
            put32(&mut h, off + 4, if compress { 3 } else { 1 });
        }
        if t == 0xA && len == 4 {
            put32(&mut h, off + 4, flows);
        }
        off += 4 + len;
    }
    h
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).expect("write seed");
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: make-seeds CORPUS_DIR"),
    );
    let dir = |t: &str| {
        let d = root.join(t);
        fs::create_dir_all(&d).expect("corpus dir");
        d
    };
    let mut captures = files("exports", ".pcap.gz");
    captures.extend(files("foreign", ".pcap"));
    captures.extend(files("captures", ""));

    // decode: the first datagrams of every capture (templates come first), up to 12 KB, with the
    // capture's senders mapped onto the harness's exporters; and a few multi-capture mixes.
    let d = dir("decode");
    let mut all: Vec<Vec<u8>> = Vec::new();
    for c in &captures {
        let Ok(mut r) = CaptureReader::open(c) else {
            continue;
        };
        let mut senders: HashMap<std::net::IpAddr, usize> = HashMap::new();
        let mut seed = Vec::new();
        let mut one = Vec::new();
        while let Ok(Some(g)) = r.next_datagram() {
            let n = senders.len();
            let ex = *senders.entry(g.src.ip()).or_insert(n % 4);
            if seed.len() + g.payload.len() > 12_000 {
                break;
            }
            push_datagram(&mut seed, ex, 0, g.payload);
            if one.is_empty() {
                push_datagram(&mut one, 0, 0, g.payload);
            }
        }
        let stem = c
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".pcap.gz", "");
        write(&d, &format!("{stem}"), &seed);
        all.push(one);
    }
    for (k, pair) in all.chunks(3).enumerate() {
        let mut mix = Vec::new();
        for (ex, g) in pair.iter().enumerate() {
            // Re-tag each capture's first datagram as another exporter.
            if g.len() > 3 {
                push_datagram(&mut mix, ex, 1, &g[3..]);
            }
        }
        write(&d, &format!("mix-{k}"), &mix);
    }

    // Real flows (from two captures) for archives.
    let mut flows: Vec<FlowRecord> = Vec::new();
    let mut imp = Importer::default();
    for name in [
        "exports/softflowd-ipfix-biflow.pcap.gz",
        "exports/pmacct-ipv6-v9.pcap.gz",
    ] {
        let _ = imp.import_file(&testdata::path(name), &mut |_| {}, &mut |_, b| {
            flows.extend(b.records().take(40));
            Ok(())
        });
    }
    let a = dir("archive");
    // (flows, block size, compression: none, one zstd frame a column, frames of 3 rows)
    for (k, (n, block, packed)) in [
        (1, 1, 0),
        (5, 2, 0),
        (12, 5, 0),
        (30, 8, 0),
        (40, 40, 0),
        (0, 4, 0),
        (40, 40, 1),
        (20, 20, 2),
        (30, 16, 2),
    ]
    .into_iter()
    .enumerate()
    {
        let opts = WriterOptions {
            block_flows: block,
            creator: "seed".into(),
            compress: (packed > 0).then_some(1),
            frame_rows: Some(if packed == 2 { 3 } else { 0 }),
            ..WriterOptions::default()
        };
        let mut w = ArchiveWriter::new(Vec::new(), opts).expect("writer");
        let skip = k * 7 % flows.len().max(1);
        for r in flows.iter().cycle().skip(skip).take(n) {
            w.push(r).expect("push");
        }
        let (bytes, _) = w.finish().expect("finish");
        let stem = match packed {
            0 => format!("archive-{n}-by-{block}"),
            1 => format!("packed-{n}-by-{block}"),
            _ => format!("framed-{n}-by-{block}"),
        };
        write(&a, &stem, &bytes);
        // An unfinished file: no index or trailer.
        if n > block {
            write(
                &a,
                &format!("unfinished-{stem}"),
                &bytes[..bytes.len() - 100],
            );
        }
    }

    // flow-tools: the first 20 records of each shipped file (every record version, both byte
    // orders), written back both plain and zlib-compressed with the header's flags and flow count
    // patched, so each seed is small and fast to run.
    let f = dir("flowtools");
    let mut ft = vec![testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000")];
    for v in ["v1", "v5big", "v5raw", "v6", "v7"] {
        ft.extend(files(&format!("flow-tools/variants/{v}"), ""));
    }
    for p in ft {
        let Ok(bytes) = fs::read(&p) else { continue };
        let stem = p
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let Ok(h) = flowtools::read_header("seed", &[], &mut &bytes[..]) else {
            continue;
        };
        let body = &bytes[h.header_len..];
        let records: Vec<u8> = if h.is_compressed() {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(body), &mut v);
            v
        } else {
            body.to_vec()
        };
        let size = records.len() / h.flows.unwrap_or(1).max(1) as usize;
        let n = 20.min(records.len() / size.max(1));
        let records = &records[..n * size];
        for compress in [false, true] {
            let mut out = patch_header(&bytes[..h.header_len], h.big_endian, compress, n as u32);
            if compress {
                let mut z =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut z, records).unwrap();
                out.extend(z.finish().unwrap());
            } else {
                out.extend_from_slice(records);
            }
            write(
                &f,
                &format!("{stem}-{}", if compress { "z" } else { "raw" }),
                &out,
            );
        }
    }

    // filter: the shipped filter files.
    let fl = dir("filter");
    let mut cfgs = files("filters", ".cfg");
    cfgs.push(testdata::path("flow-tools/investigation.cfg"));
    cfgs.push(testdata::path("../filters/filter.cfg"));
    for p in cfgs {
        if let Ok(bytes) = fs::read(&p) {
            write(&fl, &p.file_name().unwrap().to_string_lossy(), &bytes);
        }
    }

    // nfdump: the nfdump files of testdata up to 32 KB (uncompressed, LZO, LZ4; real exporters'
    // flows as nfcapd wrote them), and the first 16 KB of the larger ones (cut inside a block).
    let nf = dir("nfdump");
    let mut nfcapd = files("nfdump", ".nfcapd");
    nfcapd.extend(files("nfdump/vendors", ".nfcapd"));
    for p in nfcapd {
        if let Ok(bytes) = fs::read(&p) {
            let cut = bytes.len().min(if bytes.len() <= 32_768 {
                32_768
            } else {
                16_384
            });
            write(
                &nf,
                &p.file_name().unwrap().to_string_lossy(),
                &bytes[..cut],
            );
        }
    }

    // capture: the small captures as they are on disk (pcap, pcapng, nanosecond pcap).
    let cp = dir("capture");
    for p in files("captures", "")
        .into_iter()
        .chain(files("foreign", ".pcap").into_iter().take(8))
    {
        if let Ok(bytes) = fs::read(&p) {
            write(&cp, &p.file_name().unwrap().to_string_lossy(), &bytes);
        }
    }

    // expr: the expressions nfdump's answers were recorded for (one a seed).
    let ex = dir("expr");
    if let Ok(text) = testdata::read_text("nfdump/expressions.txt") {
        for (i, l) in text.lines().filter(|l| !l.starts_with('#')).enumerate() {
            write(&ex, &format!("expr-{i:03}"), l.as_bytes());
        }
    }

    // logs: the first 20 lines of each EVE and conntrack sample written by the real programs.
    let lg = dir("logs");
    let mut samples = files("other-logs/suricata", ".json");
    samples.extend(files("other-logs/ulogd", ".json"));
    for p in samples {
        if let Ok(text) = fs::read_to_string(&p) {
            let head: String = text.lines().take(20).map(|l| format!("{l}\n")).collect();
            write(&lg, &p.file_name().unwrap().to_string_lossy(), head.as_bytes());
        }
    }
}
