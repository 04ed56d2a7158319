//! Printing speed: lines per second of the flow-tools formats, CSV and JSON over generated flows
//! (flowkit_core::gen, 2% IPv6), formatted batch by batch in parallel as flow-print does and
//! written to a sink, so the figure is formatting alone (no input decoding, no pipe).
//!
//!   cargo bench -p flowkit-core --bench print [-- FLOWS]        (default 3,000,000 flows)
//!   RAYON_NUM_THREADS=1 cargo bench -p flowkit-core --bench print   (one core)

use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::print::{Format, PrintOptions, Printer};
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
    while let Some(r) = gen.next_flow() {
        cur.push(&r);
        if cur.len() == BLOCK_FLOWS {
            blocks.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    let views: Vec<FlowBlock<'_>> = blocks.iter().map(|b| b.view()).collect();
    let batch = 4 * rayon::current_num_threads();
    println!(
        "{flows} generated flows, {} blocks of {BLOCK_FLOWS}, batches of {batch} blocks, {} threads",
        views.len(),
        rayon::current_num_threads()
    );
    println!(
        "{:<14} {:>12} {:>10} {:>12}",
        "format", "lines/s", "MB/s", "bytes/line"
    );
    let nfdump_line = "fmt:%ts %td %pr %sap -> %dap %pkt %byt %fl";
    let cases: [(&str, Format, bool); 8] = [
        ("-f 3", Format::FlowTools(3), false),
        ("-f 3 -n", Format::FlowTools(3), true),
        ("-f 5 (UTC)", Format::FlowTools(5), false),
        ("-f 5 (local)", Format::FlowTools(5), false),
        ("-f 0", Format::FlowTools(0), false),
        ("csv", Format::Csv, false),
        ("json", Format::Json, false),
        ("fmt: line", nfdump_line.parse().unwrap(), false),
    ];
    for (name, format, names) in cases {
        let mut opts = PrintOptions::new(format);
        opts.names = names;
        if name.contains("local") {
            opts.tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
        }
        let printer = Printer::new(opts).unwrap();
        let mut bufs = Vec::new();
        let mut runs = Vec::new();
        let mut bytes = 0u64;
        for _ in 0..4 {
            let mut sink = CountingSink(0);
            let t = Instant::now();
            for chunk in views.chunks(batch) {
                printer.write_batch(chunk, &mut bufs, &mut sink).unwrap();
            }
            runs.push(t.elapsed().as_secs_f64());
            bytes = sink.0;
        }
        runs.remove(0); // warm-up
        runs.sort_by(|a, b| a.total_cmp(b));
        let secs = runs[runs.len() / 2];
        println!(
            "{name:<14} {:>12.0} {:>10.0} {:>12.1}",
            flows as f64 / secs,
            bytes as f64 / secs / 1e6,
            bytes as f64 / flows as f64
        );
    }
}

/// Counts the bytes written, as a stand-in for stdout redirected to /dev/null.
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += std::hint::black_box(buf).len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
