//! Building a block's address Bloom filter, which every archive writer does for every block
//! (flow-import, flow-capture, `-o` of any tool): `cargo bench -p flowkit-core --bench bloom`.
//!
//! Blocks of 8,192 generated flows (flow-gen's mix: internal and external hosts), IPv4 only and
//! with 2% IPv6 flows (whose blocks keep 16-byte address columns); divan prints flows/s.

use divan::counter::ItemsCount;
use divan::Bencher;
use flowkit_core::archive::bloom;
use flowkit_core::gen::{FlowGen, GenConfig};
use flowkit_core::FlowBlockBuf;

fn main() {
    divan::main();
}

const FLOWS: usize = 8192;

fn block(ipv6_permille: u32) -> FlowBlockBuf {
    let recs: Vec<_> = FlowGen::new(GenConfig {
        flows: FLOWS as u64,
        ipv6_permille,
        ..GenConfig::default()
    })
    .collect();
    FlowBlockBuf::from_records(&recs)
}

#[divan::bench(args = [0, 20])]
fn build(bencher: Bencher, ipv6_permille: u32) {
    let block = block(ipv6_permille);
    let mut words = Vec::new();
    bencher
        .counter(ItemsCount::new(FLOWS))
        .bench_local(|| bloom::build(&divan::black_box(block.view()), &mut words));
}
