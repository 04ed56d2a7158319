//! nfdump file reading throughput (flows/s, one core): the shipped nfcapd 1.7.1 file of the
//! shared traffic story (3518 flows, testdata/nfdump/) uncompressed and with each codec, read
//! from memory into reused `FlowBlockBuf`s as the input layer reads it.
//!
//! `cargo bench -p flowkit-core --bench nfdump`

use divan::counter::ItemsCount;
use divan::Bencher;
use flowkit_core::archive::format::DEFAULT_BLOCK_FLOWS;
use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::FlowBlockBuf;

fn main() {
    divan::main();
}

const FILES: [&str; 5] = [
    "scenario-ipfix.nfcapd",
    "scenario-ipfix-lz4.nfcapd",
    "scenario-ipfix-lzo.nfcapd",
    "scenario-ipfix-zstd.nfcapd",
    "scenario-ipfix-bz2.nfcapd",
];

fn read_all(bytes: &[u8], buf: &mut FlowBlockBuf) -> usize {
    let mut r = NfdumpReader::new("bench", &[], bytes).expect("nfdump file");
    let mut n = 0;
    loop {
        match r.next_block(buf, DEFAULT_BLOCK_FLOWS).expect("intact") {
            0 => return n,
            k => n += k,
        }
    }
}

#[divan::bench(args = FILES)]
fn read(bencher: Bencher, name: &str) {
    let bytes = std::fs::read(flowkit_core::testing::testdata::path(&format!(
        "nfdump/{name}"
    )))
    .unwrap();
    let mut buf = FlowBlockBuf::default();
    let flows = read_all(&bytes, &mut buf);
    bencher
        .counter(ItemsCount::new(flows))
        .bench_local(|| read_all(&bytes, &mut buf));
}
