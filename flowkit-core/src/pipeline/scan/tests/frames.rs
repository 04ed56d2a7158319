//! Scans of blocks stored in frames with their address Bloom filters: the frames a host filter
//! rules out are not read, the rest read right; damaged filters (of frames or of a whole block)
//! reported.

use super::*;

/// Scans `input`, or the stream `stream` when given (what arrives on stdin), handing `consume`
/// the `wanted` columns.
fn run_scan(
    s: &mut Scanner<'_>,
    input: Input,
    stream: Option<&[u8]>,
    wanted: ColumnSet,
    consume: &mut PartialBatchFn<'_>,
) {
    match stream {
        Some(bytes) => {
            s.wanted = wanted;
            s.run_reader("(stdin)", bytes, consume).unwrap();
        }
        None => s.run_columns(&[input], wanted, consume).unwrap(),
    }
}

/// The rows of block `k` of `batch` that `filter` selects, and their flows gathered whole (the
/// columns the scan did not read are read on demand).
fn gather_selected(
    batch: &Batch<'_, '_>,
    k: usize,
    filter: &crate::filter::CompiledFilter,
) -> (Vec<u32>, Vec<FlowRecord>) {
    let mut sel = Vec::new();
    filter.select(&batch.blocks[k], &mut sel);
    let rows = crate::model::block::selected_rows(&sel);
    let mut out = crate::model::block::FlowBlockBuf::default();
    assert!(batch.gather(k, &rows, &mut out));
    let flows = out.view().records().collect();
    (rows, flows)
}

/// A block stored in frames (here of 64 rows) carries each frame's address Bloom filter: a host
/// filter's scan reads only the rows of the frames that may hold the host, and a consumer sees
/// exactly them, the filter's columns first and the rest of those rows on demand (`full`,
/// `gather`), as from the uncompressed file of the same flows; blocks whose every frame is ruled
/// out are pruned whole. A stream of references to some rows gives those rows the same way.
#[test]
fn frames_their_filters_rule_out_are_not_read_and_the_rest_read_right() {
    use crate::filter::{CompileOptions, FilterFile, Variables};
    use crate::gen::{FlowGen, GenConfig};
    let d = tempfile::tempdir().unwrap();
    let mut recs: Vec<FlowRecord> = FlowGen::new(GenConfig {
        flows: 3000,
        ipv6_permille: 50,
        ..GenConfig::default()
    })
    .collect();
    let host: std::net::IpAddr = "10.99.0.1".parse().unwrap();
    // Blocks of 1000: the host in the first (rows 5, 700) and the last (2999, as destination).
    for (i, src) in [(5, true), (700, true), (2999, false)] {
        match src {
            true => recs[i].src_addr = host,
            false => recs[i].dst_addr = host,
        }
    }
    let file = |name: &str, compress: Option<i32>| {
        let p = d.path().join(name);
        let opts = WriterOptions {
            block_flows: 1000,
            compress,
            frame_rows: Some(64),
            ..Default::default()
        };
        let mut w = ArchiveFileWriter::create(&p, opts).unwrap();
        recs.iter().for_each(|r| w.writer().push(r).unwrap());
        w.finish().unwrap();
        p
    };
    let (plain, framed) = (file("plain.fk", None), file("framed.fk", Some(3)));
    let text = "filter-primitive h\n type ip-address\n permit 10.99.0.1\n\
                filter-definition host\n match ip-source-address h\n or\n match ip-destination-address h\n";
    let filters = FilterFile::parse(text, "t.cfg", &Variables::new()).unwrap();
    let opts = CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let filter = filters.compile("host", &opts).unwrap();
    let wanted = ColumnSet::of(&filter.columns());
    let want: Vec<FlowRecord> = [5, 700, 2999].map(|i| recs[i].clone()).to_vec();
    // (records selected, gathered; the same whole; flows read; flows pruned; blocks pruned)
    let scan = |input: Input, refs: Option<&[u8]>| {
        let opts = ScanOptions {
            prune: Some(Arc::new(filter.block_prune().unwrap())),
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| panic!("{m}"));
        let (mut gathered, mut whole) = (Vec::new(), Vec::new());
        let mut consume = |batch: &Batch<'_, '_>| {
            for (k, b) in batch.blocks.iter().enumerate() {
                let (rows, flows) = gather_selected(batch, k, &filter);
                gathered.extend(flows);
                let full = batch.full(k).unwrap();
                assert_eq!(full.len, b.len);
                whole.extend(rows.iter().map(|&r| full.get(r as usize)));
            }
            Ok(())
        };
        run_scan(&mut s, input, refs, wanted, &mut consume);
        let st = s.stats;
        (
            gathered,
            whole,
            st.flows_read,
            st.flows_pruned,
            st.blocks_pruned,
        )
    };
    let (g, w, read, pruned, blocks) = scan(Input::File(plain.clone()), None);
    assert_eq!((&g, &w), (&want, &want));
    assert_eq!((read, pruned), (2000, 0), "no frames' filters: blocks only");
    assert_eq!(blocks, 1);
    let (g, w, read, pruned, blocks) = scan(Input::File(framed.clone()), None);
    assert_eq!((&g, &w), (&want, &want));
    assert_eq!(blocks, 1, "the middle block: every frame ruled out");
    // The three frames holding the host (64 + 64 + 40 rows) and a few false positives.
    assert!((168..700).contains(&read), "{read} read");
    assert_eq!(read + pruned, 2000);
    // A stream of references to the whole blocks (`flow-cat framed.fk | ...`): the frames are
    // pruned as when the file is read.
    let (g, w, read, pruned, blocks) = scan(Input::Stdin, Some(&stream_of_refs(&framed)));
    assert_eq!((&g, &w), (&want, &want));
    assert_eq!(
        (read + pruned, blocks),
        (2000, 1),
        "{read} read, {pruned} pruned"
    );
    assert!(read < 700, "{read} read");
    // References to some rows of each block (every third), as a filter upstream sends them.
    let f = ArchiveFile::open(&framed, false).unwrap();
    let mut w = crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    let picked: Vec<u32> = (0..1000).filter(|r| r % 3 == 0 || *r == 5).collect();
    for i in 0..f.blocks().len() {
        w.write_ref(&f.block_ref(i).unwrap().select(&picked))
            .unwrap();
    }
    let refs = w.finish().unwrap().0;
    let (g, w, read, pruned, _) = scan(Input::Stdin, Some(&refs));
    let want_refs: Vec<FlowRecord> = [5, 2999].map(|i| recs[i].clone()).to_vec();
    assert!(pruned > 0 && read < 700, "{read} read, {pruned} pruned");
    assert_eq!(
        (&g, &w),
        (&want_refs, &want_refs),
        "row 700 was not referred to"
    );
}

/// Writes 1000 flows as one block (compressed in frames of 64 rows when `compress`), sources
/// cycling over 10.0.0.0-6, and flips a byte of the block's directory entry `id` (a Bloom
/// filter); returns the file and the byte offset where that entry's words start.
fn one_block_with_a_damaged_filter(dir: &Path, compress: Option<i32>, id: u16) -> (PathBuf, usize) {
    use crate::archive::format::{le_u16, le_u32, BLOCK_HEADER_LEN, COLUMN_ENTRY_LEN};
    let p = dir.join("damaged.fk");
    let opts = WriterOptions {
        compress,
        frame_rows: Some(64),
        ..Default::default()
    };
    let mut w = ArchiveFileWriter::create(&p, opts).unwrap();
    for i in 0..1000u32 {
        let r = FlowRecord {
            src_addr: std::net::Ipv4Addr::from(0x0a00_0000 + i % 7).into(),
            ..FlowRecord::default()
        };
        w.writer().push(&r).unwrap();
    }
    w.finish().unwrap();
    let mut bytes = std::fs::read(&p).unwrap();
    let at = ArchiveFile::open(&p, false).unwrap().blocks()[0].offset as usize;
    let cols = le_u32(&bytes, at + 4) as usize;
    let e = (0..cols)
        .map(|k| at + BLOCK_HEADER_LEN + k * COLUMN_ENTRY_LEN)
        .find(|&e| le_u16(&bytes, e) == id)
        .expect("the block has the filter");
    let words = at + BLOCK_HEADER_LEN + cols * COLUMN_ENTRY_LEN + le_u32(&bytes, e + 4) as usize;
    bytes[words + 1] ^= 1; // in the first word: a filter of few hosts may have one
    std::fs::write(&p, &bytes).unwrap();
    (p, words)
}

/// Scans `input` (or the stream `bytes`) with a filter for source 10.0.0.3 and its prune test:
/// (flows the filter passed, flows read, errors counted, the warnings).
fn host_scan(input: Input, bytes: Option<&[u8]>) -> (usize, u64, u64, Vec<String>) {
    let text = "filter-primitive h\n type ip-address\n permit 10.0.0.3\n\
                filter-definition host\n match ip-source-address h\n";
    let filters =
        crate::filter::FilterFile::parse(text, "t.cfg", &crate::filter::Variables::new()).unwrap();
    let opts = crate::filter::CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let filter = filters.compile("host", &opts).unwrap();
    let opts = ScanOptions {
        prune: Some(Arc::new(filter.block_prune().unwrap())),
        ..ScanOptions::default()
    };
    let mut warnings = Vec::new();
    let mut s = Scanner::new(opts, |m| warnings.push(m.to_string()));
    let mut passed = 0;
    let wanted = ColumnSet::of(&filter.columns());
    let mut consume = |batch: &Batch<'_, '_>| {
        for b in batch.blocks {
            passed += filter.select(b, &mut Vec::new());
        }
        Ok(())
    };
    run_scan(&mut s, input, bytes, wanted, &mut consume);
    let (read, errors) = (s.stats.flows_read, s.stats.errors);
    drop(s);
    (passed, read, errors, warnings)
}

/// A block whose frames' Bloom filters are damaged is read whole, its flows all seen by the
/// filter, and the damage is reported once, naming the file and offset.
#[test]
fn damaged_frame_filters_are_reported_and_their_block_read_whole() {
    let d = tempfile::tempdir().unwrap();
    let id = crate::archive::bloom::FRAME_BLOOM_ID;
    let (p, words) = one_block_with_a_damaged_filter(d.path(), Some(3), id);
    let (passed, read, errors, warnings) = host_scan(Input::File(p), None);
    assert_eq!((passed, read, errors), (143, 1000, 1), "{warnings:?}");
    let want = format!("byte {words}: checksum mismatch in the frames' address Bloom filters");
    assert!(warnings[0].contains(&want), "{warnings:?}");
}

/// A block whose own address Bloom filter is damaged is read, not skipped and not passed over
/// in silence: the filter sees all its flows and the damage is reported once, naming the file
/// and offset, whether the file is read itself, as a stream (`cat FILE |`), or through a
/// stream of references to its blocks (`flow-cat FILE |`).
#[test]
fn a_damaged_block_filter_is_reported_and_its_block_read() {
    let d = tempfile::tempdir().unwrap();
    let id = crate::archive::bloom::BLOOM_ID;
    let (p, words) = one_block_with_a_damaged_filter(d.path(), None, id);
    let want = format!("byte {words}: checksum mismatch in the address Bloom filter");
    let bytes = std::fs::read(&p).unwrap();
    let refs = stream_of_refs(&p);
    for (form, input, stream, name) in [
        ("file", Input::File(p.clone()), None, "damaged.fk"),
        ("cat", Input::Stdin, Some(&bytes[..]), "(stdin)"),
        ("refs", Input::Stdin, Some(&refs[..]), "damaged.fk"),
    ] {
        let (passed, read, errors, warnings) = host_scan(input, stream);
        assert_eq!(
            (passed, read, errors),
            (143, 1000, 1),
            "{form}: {warnings:?}"
        );
        assert!(warnings[0].contains(&want), "{form}: {warnings:?}");
        assert!(warnings[0].contains(name), "{form}: {warnings:?}");
    }
}

/// For random definitions over random flows, a compressed file in frames (of random sizes, in
/// blocks of random sizes) gives exactly the flows, in order, that the uncompressed file gives
/// read in full without any pruning: read as a file, as a stream (`cat FILE |`), as a stream of
/// references to its blocks (`flow-cat FILE |`) and to some rows of them (a filter upstream).
#[test]
fn random_filters_over_frames_give_what_a_full_read_gives() {
    use crate::filter::tests::random::{random_filter, random_record, Rng};
    use crate::filter::{CompileOptions, FilterFile, Variables};
    let d = tempfile::tempdir().unwrap();
    let opts = CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let (mut checked, mut frames_pruned, mut selected) = (0, 0, 0);
    for seed in 0..1500u64 {
        let mut rng = Rng(seed);
        let text = random_filter(&mut rng);
        let filter = FilterFile::parse(&text, "random.cfg", &Variables::new())
            .and_then(|f| f.compile("d", &opts))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let Some(prune) = filter.block_prune() else {
            continue;
        };
        let prune = Arc::new(prune);
        let recs: Vec<FlowRecord> = (0..100 + rng.below(400))
            .map(|_| random_record(&mut rng))
            .collect();
        let frame_rows = 1 + rng.below(40) as usize;
        let block_flows =
            frame_rows * (1 + rng.below(5) as usize) + rng.below(frame_rows as u64) as usize;
        let write = |name: &str, compress: Option<i32>| {
            let p = d.path().join(name);
            let opts = WriterOptions {
                block_flows,
                compress,
                frame_rows: Some(frame_rows),
                ..Default::default()
            };
            let mut w = ArchiveFileWriter::create(&p, opts).unwrap();
            recs.iter().for_each(|r| w.writer().push(r).unwrap());
            w.finish().unwrap();
            p
        };
        let (plain, framed) = (write("plain.fk", None), write("framed.fk", Some(1)));
        // The flows `filter` selects, each block's rows gathered, reading `input` or `stream`.
        let scan = |input: Input, stream: Option<&[u8]>, prune: Option<Arc<_>>| {
            let mut s = Scanner::new(
                ScanOptions {
                    prune,
                    ..ScanOptions::default()
                },
                |m| panic!("{m}"),
            );
            let mut got = Vec::new();
            let mut consume = |batch: &Batch<'_, '_>| {
                for k in 0..batch.blocks.len() {
                    got.extend(gather_selected(batch, k, &filter).1);
                }
                Ok(())
            };
            let wanted = ColumnSet::of(&filter.columns());
            run_scan(&mut s, input, stream, wanted, &mut consume);
            let pruned = s.stats.flows_pruned;
            (got, pruned)
        };
        let (want, _) = scan(Input::File(plain.clone()), None, None);
        let some_rows = |p: &Path| {
            let f = ArchiveFile::open(p, false).unwrap();
            let mut w =
                crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
            for i in 0..f.blocks().len() {
                let picked: Vec<u32> = (0..f.blocks()[i].flows).filter(|r| r % 3 != 1).collect();
                w.write_ref(&f.block_ref(i).unwrap().select(&picked))
                    .unwrap();
            }
            w.finish().unwrap().0
        };
        let bytes = std::fs::read(&framed).unwrap();
        let refs = stream_of_refs(&framed);
        for (form, input, stream) in [
            ("file", Input::File(framed.clone()), None),
            ("cat", Input::Stdin, Some(&bytes[..])),
            ("refs", Input::Stdin, Some(&refs[..])),
        ] {
            let (got, pruned) = scan(input, stream, Some(prune.clone()));
            assert_eq!(
                got, want,
                "{form}, seed {seed}, frames of {frame_rows}:\n{text}"
            );
            frames_pruned += pruned;
        }
        let (want_some, _) = scan(Input::Stdin, Some(&some_rows(&plain)), None);
        let (got_some, _) = scan(Input::Stdin, Some(&some_rows(&framed)), Some(prune));
        assert_eq!(got_some, want_some, "some rows, seed {seed}:\n{text}");
        checked += 1;
        selected += want.len();
    }
    assert!(
        checked > 100 && frames_pruned > 300 && selected > 100,
        "{checked} filters, {frames_pruned} flows pruned by frames, {selected} selected"
    );
}
