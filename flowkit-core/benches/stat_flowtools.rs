//! flow-stat `-f N` speed: flows per second accumulated by the flow-tools reports over generated
//! IPv4 flows (flowkit_core::gen; its IPv6 flows are left out, flow-tools' reports are IPv4),
//! from column blocks as flow-stat feeds them, plus the time to print each report to a sink.
//!
//!   cargo bench -p flowkit-core --bench stat_flowtools [-- FLOWS]   (default 3,000,000 flows)

use flowkit_core::analyze::stat::flowtools::{Options, StatReport};
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::{FlowBlock, FlowBlockBuf};
use std::time::Instant;

const BLOCK_FLOWS: usize = 8192;

fn main() {
    let flows: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .unwrap_or(3_000_000);
    let mut gen = FlowGen::new(GenConfig {
        flows,
        ..GenConfig::default()
    });
    let mut blocks = Vec::new();
    let mut cur = FlowBlockBuf::default();
    let mut kept = 0u64;
    while let Some(r) = gen.next_flow() {
        if !(r.src_addr.is_ipv4() && r.dst_addr.is_ipv4()) {
            continue;
        }
        kept += 1;
        cur.push(&r);
        if cur.len() == BLOCK_FLOWS {
            blocks.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    let views: Vec<FlowBlock<'_>> = blocks.iter().map(|b| b.view()).collect();
    println!(
        "{kept} generated IPv4 flows, {} blocks of {BLOCK_FLOWS}",
        views.len()
    );
    println!("{:<22} {:>14} {:>12}", "report", "flows/s", "print s");
    let cases: [(&str, usize, i32); 8] = [
        ("-f 0 summary", 0, 0),
        ("-f 5 dst port", 5, 0),
        ("-f 8 dst addr", 8, 0),
        ("-f 9 -S 2 src addr", 9, 3),
        ("-f 10 src/dst pair", 10, 0),
        ("-f 12 protocol", 12, 0),
        ("-f 24 src prefix", 24, 0),
        ("-f 32 tags", 32, 0),
    ];
    for (name, format, sort_order) in cases {
        let mut runs = Vec::new();
        let mut print_secs = 0.0;
        for _ in 0..4 {
            let mut rep = StatReport::new(Options {
                format,
                sort_order,
                cc: '#',
                ..Options::default()
            });
            let t = Instant::now();
            for b in &views {
                rep.observe(b).unwrap();
            }
            runs.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            rep.write(&mut std::io::sink()).unwrap();
            print_secs = t.elapsed().as_secs_f64();
        }
        runs.remove(0); // warm-up
        runs.sort_by(|a, b| a.total_cmp(b));
        let secs = runs[runs.len() / 2];
        println!(
            "{name:<22} {:>14.0} {:>12.3}",
            kept as f64 / secs,
            print_secs
        );
    }
}
