//! Filter throughput: `cargo bench -p flowkit-core --bench filter [-- FLOWS]`.
//!
//! Generates random flows shaped like the flow-tools benchmark in the notes (25 % of sources in
//! 10.0.0.0/12, half the destinations in 192.168/16, 70/25/5 % TCP/UDP/ICMP, half the destination
//! ports from a short list of services), once IPv4 only and once with one IPv6 flow in a hundred
//! (so address columns are 16 bytes wide), then prints flows/s for several definitions:
//! evaluation alone over blocks in memory, one thread and all threads (rayon), and what
//! flow-nfilter does with a warm archive file: a scan that maps the file and checks only the
//! filter's columns, evaluation in parallel, and the selected blocks completed for output.
//!
//! First it loads and compiles filter files of 100,000 primitives or lines (`-- compile` runs
//! only that part): loading was quadratic in the number of names once.

use flowkit_core::archive::{ArchiveFileWriter, WriterOptions};
use flowkit_core::filter::{CompileOptions, CompiledFilter, FilterFile, Variables};
use flowkit_core::pipeline::input::Input;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use flowkit_core::{ColumnSet, FlowBlock, FlowBlockBuf, FlowRecord};
use rayon::prelude::*;
use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

const FILTERS: &str = "
filter-primitive host
  type ip-address
  permit 10.3.2.1
filter-definition one-host
  match ip-source-address host
  or
  match ip-destination-address host

filter-primitive net10
  type ip-address-prefix
  permit 10.0.0.0/12
filter-primitive webports
  type ip-port
  permit 80,443
filter-definition addrport
  match ip-source-address net10
  match ip-destination-port webports

filter-primitive ssh
  type ip-port
  permit 22
filter-primitive gt1packet
  type counter
  permit gt 1
filter-definition port-counter
  match ip-destination-port ssh
  match packets gt1packet

filter-definition blocklist
  match ip-destination-address blocklist
";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn flows(n: usize, v6_percent: u64) -> Vec<FlowBlockBuf> {
    let mut rng = Rng(42);
    let ports = [80u16, 443, 22, 53, 25, 123, 3389, 6667, 8080, 993];
    let mut blocks = Vec::new();
    let mut cur = FlowBlockBuf::default();
    for i in 0..n {
        let r = rng.next();
        let src = if r.is_multiple_of(4) {
            0x0a00_0000 | (rng.next() as u32 & 0x000f_ffff)
        } else {
            rng.next() as u32
        };
        let dst = if r.is_multiple_of(2) {
            0xc0a8_0000 | (rng.next() as u32 & 0xffff)
        } else {
            rng.next() as u32
        };
        let proto = match (r >> 8) % 20 {
            0 => 1,
            1..=5 => 17,
            _ => 6,
        };
        let dport = if (r >> 16).is_multiple_of(2) {
            ports[(rng.next() % 10) as usize]
        } else {
            rng.next() as u16
        };
        let start = 1_289_260_800_000 + (i as i64) * 20;
        let src_addr = if rng.next() % 100 < v6_percent {
            IpAddr::V6((0x2001_0db8_u128 << 96 | rng.next() as u128).into())
        } else {
            IpAddr::V4(src.into())
        };
        cur.push(&FlowRecord {
            start_ms: start,
            end_ms: start + (rng.next() % 60_000) as i64,
            src_addr,
            dst_addr: IpAddr::V4(dst.into()),
            src_port: rng.next() as u16,
            dst_port: dport,
            protocol: proto,
            packets: 1 + rng.next() % 100,
            octets: 40 + rng.next() % 100_000,
            ..FlowRecord::default()
        });
        if cur.len() == 8192 {
            blocks.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

/// A list file (`permit file PATH`) of `n` entries: IPv4 prefixes /16 to /32 and, one in five,
/// IPv6 prefixes /32 to /128, as blocklists mix them.
fn list_file(n: usize) -> String {
    let mut rng = Rng(11);
    let mut s = String::from("# bench list\n");
    for i in 0..n {
        if i % 5 == 4 {
            let len = 32 + rng.next() % 97;
            let a = std::net::Ipv6Addr::from((rng.next() as u128) << 64 | rng.next() as u128);
            s.push_str(&format!("{a}/{len}\n"));
        } else {
            let len = 16 + rng.next() % 17;
            let a = std::net::Ipv4Addr::from(rng.next() as u32);
            s.push_str(&format!("{a}/{len} ; entry {i}\n"));
        }
    }
    s
}

fn blocklist(n: usize) -> String {
    let mut rng = Rng(7);
    let mut s = String::from("filter-primitive blocklist\n  type ip-address-prefix\n");
    for _ in 0..n {
        let len = 16 + rng.next() % 17;
        let a = std::net::Ipv4Addr::from(rng.next() as u32);
        s.push_str(&format!("  permit {a}/{len}\n"));
    }
    s
}

/// Best of `runs` timings of `f`, in seconds.
fn best(runs: usize, mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut best = f64::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, n)
}

fn one_thread(f: &CompiledFilter, views: &[FlowBlock<'_>]) -> usize {
    let mut sel = Vec::new();
    views.iter().map(|b| f.select(b, &mut sel)).sum()
}

fn all_threads(f: &CompiledFilter, views: &[FlowBlock<'_>]) -> usize {
    views
        .par_iter()
        .map_init(Vec::new, |sel, b| f.select(b, sel))
        .sum()
}

/// What flow-nfilter does with an archive file, minus writing: returns the flows selected.
fn archive_scan(f: &CompiledFilter, path: &Path) -> usize {
    let wanted = ColumnSet::of(&f.columns());
    let mut scanner = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    let mut total = 0;
    scanner
        .run_columns(&[Input::File(path.to_path_buf())], wanted, &mut |batch| {
            total += batch
                .blocks
                .par_iter()
                .enumerate()
                .map_init(Vec::new, |sel, (k, b)| {
                    let n = f.select(b, sel);
                    if n > 0 {
                        batch.full(k).expect("bench archive is intact");
                    }
                    n
                })
                .sum::<usize>();
            Ok(())
        })
        .expect("scan");
    total
}

/// The four shapes of large filter file: (what, text, definition to compile).
fn large_files(n: u32) -> Vec<(&'static str, String, &'static str)> {
    let ip = |i: u32| std::net::Ipv4Addr::from(0x0a00_0000 + i);
    let mut defs = String::new();
    let mut one_def = String::new();
    let mut one_prim = String::from("filter-primitive hosts\n  type ip-address\n");
    let mut ports = String::from("filter-primitive ports\n  type ip-port\n");
    for i in 0..n {
        let p = format!(
            "filter-primitive p{i}\n  type ip-address-prefix\n  permit {}/32\n",
            ip(i)
        );
        defs.push_str(&p);
        defs.push_str(&format!(
            "filter-definition d{i}\n  match ip-source-address p{i}\n"
        ));
        one_def.push_str(&p);
        one_prim.push_str(&format!("  permit {}\n", ip(i)));
        let port = i % 65_000;
        ports.push_str(&format!("  permit {port},{}-{}\n", port / 2, port / 2 + 3));
    }
    one_def.push_str("filter-definition all\n");
    for i in 0..n {
        one_def.push_str(&format!(
            "{}  match ip-source-address p{i}\n",
            if i > 0 { "  or\n" } else { "" }
        ));
    }
    one_prim.push_str("filter-definition all\n  match ip-source-address hosts\n");
    ports.push_str("filter-definition all\n  match ip-destination-port ports\n");
    let last = Box::leak(format!("d{}", n - 1).into_boxed_str());
    vec![
        ("primitives+definitions", defs, &*last),
        ("one definition, n matches", one_def, "all"),
        ("one primitive, n addresses", one_prim, "all"),
        ("one primitive, n port lines", ports, "all"),
    ]
}

/// Loads and compiles each large file (best of 3) and prints the times.
fn compile_large(n: u32) {
    println!("loading and compiling filter files of {n} primitives or lines, best of 3");
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "file", "MB", "load s", "compile s"
    );
    let opts = CompileOptions::default();
    for (what, text, def) in large_files(n) {
        let mut file = None;
        let (load, _) = best(3, || {
            let f = FilterFile::parse(&text, "large", &Variables::new()).expect("loads");
            let k = f.primitives.len();
            file = Some(f);
            k
        });
        let file = file.expect("loaded");
        let (compile, _) = best(3, || {
            file.compile(def, &opts).expect("compiles").columns().len()
        });
        println!(
            "{what:<28} {:>10.1} {load:>10.3} {compile:>10.3}",
            text.len() as f64 / 1e6
        );
    }
}

fn main() {
    compile_large(100_000);
    if std::env::args().any(|a| a == "compile") {
        return;
    }
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("list-100k.txt");
    std::fs::write(&list, list_file(100_000)).expect("write the list");
    let text = format!(
        "{FILTERS}\n{}\nfilter-primitive biglist\n  type ip-address-prefix\n  permit file {}\n\
         filter-definition list-100k\n  match ip-source-address biglist\n  or\n  \
         match ip-destination-address biglist\n",
        blocklist(1000),
        list.display()
    );
    let t = Instant::now();
    let file = FilterFile::parse(&text, "bench", &Variables::new()).expect("bench filters parse");
    let opts = CompileOptions::default();
    file.compile("list-100k", &opts).expect("compiles");
    println!(
        "a 100,000-entry list file (permit file) read, parsed and compiled in {:.3} s",
        t.elapsed().as_secs_f64()
    );
    println!("{n} flows, {} threads", rayon::current_num_threads());
    for v6_percent in [0, 1] {
        let bufs = flows(n, v6_percent);
        let views: Vec<FlowBlock<'_>> = bufs.iter().map(|b| b.view()).collect();
        let path = dir.path().join(format!("bench-{v6_percent}.fk"));
        let mut w = ArchiveFileWriter::create(&path, WriterOptions::default()).expect("create");
        for v in &views {
            w.writer().write_block(v, None).expect("write");
        }
        w.finish().expect("finish");
        println!(
            "\n{} blocks, {v6_percent} % IPv6 flows; flows/s, best of 5",
            views.len()
        );
        println!(
            "{:<14} {:>10} {:>16} {:>16} {:>18}",
            "definition", "selected", "1 thread", "all threads", "archive+filter"
        );
        for def in [
            "one-host",
            "addrport",
            "port-counter",
            "blocklist",
            "list-100k",
        ] {
            let f = file.compile(def, &opts).expect("compiles");
            let (t1, sel) = best(5, || one_thread(&f, &views));
            let (tn, sel2) = best(5, || all_threads(&f, &views));
            let (ta, sel3) = best(5, || archive_scan(&f, &path));
            assert_eq!(sel, sel2);
            assert_eq!(sel, sel3);
            let rate = |t: f64| format!("{:.0} M", n as f64 / t / 1e6);
            println!(
                "{def:<14} {sel:>10} {:>16} {:>16} {:>18}",
                rate(t1),
                rate(tn),
                rate(ta)
            );
        }
    }
}
