use super::*;
use crate::archive::{ArchiveFileWriter, WriterOptions};
use crate::model::record::FlowRecord;
use crate::pipeline::input::expand_inputs;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, starts: &[i64]) -> PathBuf {
    let p = dir.join(name);
    let mut w = ArchiveFileWriter::create(
        &p,
        WriterOptions {
            block_flows: 2,
            ..Default::default()
        },
    )
    .unwrap();
    for &s in starts {
        let r = FlowRecord {
            start_ms: s,
            end_ms: s + 10,
            ..FlowRecord::default()
        };
        w.writer().push(&r).unwrap();
    }
    w.finish().unwrap();
    p
}

fn collect(scanner: &mut Scanner<'_>, inputs: &[Input]) -> Vec<i64> {
    let mut starts = Vec::new();
    scanner
        .run(inputs, &mut |batch| {
            for b in batch {
                starts.extend_from_slice(b.start_ms);
            }
            Ok(())
        })
        .unwrap();
    starts
}

#[test]
fn directories_are_walked_in_name_order_skipping_tmp() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "2010/2010-11/2010-11-09/ft.2010-11-09.010000+0000",
        &[3000, 4000],
    );
    write(
        d.path(),
        "2010/2010-11/2010-11-09/ft.2010-11-09.000000+0000",
        &[1000, 2000],
    );
    write(
        d.path(),
        "2010/2010-11/2010-11-09/tmp-ft.2010-11-09.020000+0000",
        &[5000],
    );
    let inputs = expand_inputs(&[d.path().display().to_string()], false).unwrap();
    assert_eq!(inputs.len(), 2);
    let mut s = Scanner::new(ScanOptions::default(), |_| {});
    assert_eq!(collect(&mut s, &inputs), vec![1000, 2000, 3000, 4000]);
    let with_tmp = expand_inputs(&[d.path().display().to_string()], true).unwrap();
    assert_eq!(with_tmp.len(), 3);
}

#[test]
fn time_window_skips_blocks_and_trims_flows() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a", &[10, 20, 30, 40, 50, 60]);
    let opts = ScanOptions {
        from_ms: Some(30),
        to_ms: Some(50),
        ..Default::default()
    };
    let mut s = Scanner::new(opts, |_| {});
    assert_eq!(collect(&mut s, &[Input::File(p)]), vec![30, 40]);
    assert_eq!(s.stats.blocks_skipped, 2);
    assert_eq!(s.stats.blocks_read, 1);
}

#[test]
fn time_shift_applies_before_the_window() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a", &[10, 20, 30]);
    let opts = ScanOptions {
        time_shift_ms: 100,
        from_ms: Some(115),
        ..Default::default()
    };
    let mut s = Scanner::new(opts, |_| {});
    assert_eq!(collect(&mut s, &[Input::File(p)]), vec![120, 130]);
}

/// Batches and flows a scan of `inputs` hands out with `batch_blocks` blocks a batch.
fn batches_of(inputs: &[Input], batch_blocks: usize) -> (Vec<Vec<i64>>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut batches = Vec::new();
    let opts = ScanOptions {
        batch_blocks,
        ..ScanOptions::default()
    };
    {
        let mut s = Scanner::new(opts, |m| warnings.push(m.to_string()));
        s.run(inputs, &mut |blocks| {
            batches.push(blocks.iter().flat_map(|b| b.start_ms.to_vec()).collect());
            Ok(())
        })
        .unwrap();
        assert_eq!(s.stats.files as usize, inputs.len());
    }
    (batches, warnings)
}

#[test]
fn small_files_are_scanned_in_batches_across_files() {
    let d = tempfile::tempdir().unwrap();
    // Ten files of one block (two flows) each, then one of three blocks, then one more small.
    let mut inputs: Vec<Input> = (0..10)
        .map(|i| Input::File(write(d.path(), &format!("f{i:02}"), &[2 * i, 2 * i + 1])))
        .collect();
    inputs.push(Input::File(write(d.path(), "g", &[20, 21, 22, 23, 24, 25])));
    inputs.push(Input::File(write(d.path(), "h", &[26])));
    let (batches, warnings) = batches_of(&inputs, 4);
    assert!(warnings.is_empty(), "{warnings:?}");
    let flows: Vec<i64> = batches.concat();
    assert_eq!(flows, (0..27).collect::<Vec<i64>>());
    // Four one-block files a batch (not one file a batch); the last two one-block files and
    // the three-block one fill a batch and leave one block; the last file alone.
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, [8, 8, 8, 2, 1], "{batches:?}");
    // Without grouping (one block a batch) the flows are the same.
    assert_eq!(batches_of(&inputs, 1).0.concat(), flows);
}

#[test]
fn files_with_nothing_to_read_are_not_held_open() {
    let d = tempfile::tempdir().unwrap();
    // Many small files the window rules out, between two it keeps: a group never holds them.
    let mut inputs = vec![Input::File(write(d.path(), "a", &[100, 110]))];
    for i in 0..50 {
        inputs.push(Input::File(write(d.path(), &format!("n{i:02}"), &[1, 2])));
    }
    inputs.push(Input::File(write(d.path(), "z", &[120])));
    let opts = ScanOptions {
        from_ms: Some(100),
        ..ScanOptions::default()
    };
    let mut s = Scanner::new(opts, |_| {});
    let mut held = Vec::new();
    let mut group = Vec::new();
    for input in &inputs {
        let Input::File(p) = input else {
            unreachable!()
        };
        s.run_path_grouped(p, &mut group, &mut |_| Ok(())).unwrap();
        held.push(group.len());
    }
    // Only "a" and then "z" wait in the group; the fifty others were closed as they came.
    assert_eq!(held.iter().max(), Some(&2), "{held:?}");
    assert!(held[..51].iter().all(|&n| n == 1), "{held:?}");
    assert_eq!(
        collect(&mut Scanner::new(s.opts.clone(), |_| {}), &inputs),
        vec![100, 110, 120]
    );
}

#[test]
fn damage_in_one_of_several_small_files_skips_only_the_rest_of_that_file() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a", &[1, 2]);
    let bad = write(d.path(), "b", &[3, 4, 5, 6, 7]);
    let c = write(d.path(), "c", &[8, 9]);
    // Damage the second of b's three blocks in place.
    let blk = ArchiveFile::open(&bad, false).unwrap().blocks()[1];
    let mut bytes = std::fs::read(&bad).unwrap();
    bytes[(blk.offset + blk.len) as usize - 20] ^= 0x40;
    std::fs::write(&bad, &bytes).unwrap();
    let inputs = [Input::File(a), Input::File(bad.clone()), Input::File(c)];
    for batch_blocks in [16, 3, 1] {
        let (batches, warnings) = batches_of(&inputs, batch_blocks);
        assert_eq!(
            batches.concat(),
            [1, 2, 3, 4, 8, 9],
            "{batch_blocks} a batch"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(&bad.display().to_string()),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("rest of file skipped"), "{warnings:?}");
    }
}

#[test]
fn damaged_file_is_reported_and_the_scan_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let bad = write(d.path(), "a", &[1, 2, 3, 4]);
    let good = write(d.path(), "b", &[5]);
    let mut bytes = std::fs::read(&bad).unwrap();
    bytes.truncate(bytes.len() - 168 - 20); // tail is 168 bytes: cut into the last block
    std::fs::write(&bad, &bytes).unwrap();
    let mut warnings = Vec::new();
    let got = {
        let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
        collect(&mut s, &[Input::File(bad.clone()), Input::File(good)])
    };
    assert_eq!(got, vec![1, 2, 5]);
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].starts_with(&bad.display().to_string()),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("byte"), "{}", warnings[0]);
}

#[test]
fn partial_scans_check_only_the_columns_asked_for() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a", &[10, 20, 30, 40]); // two blocks of two flows
                                                     // Damage the end_ms column of the second block (its first value byte).
    let f = ArchiveFile::open(&p, true).unwrap();
    let b1 = f.blocks()[1];
    let dir = crate::archive::format::BLOCK_HEADER_LEN
        + crate::archive::format::le_u32(&std::fs::read(&p).unwrap(), b1.offset as usize + 4)
            as usize
            * crate::archive::format::COLUMN_ENTRY_LEN;
    let bytes = std::fs::read(&p).unwrap();
    let e = b1.offset as usize + crate::archive::format::BLOCK_HEADER_LEN + 24; // entry 1: end_ms
    let end_off = u32::from_le_bytes(bytes[e + 4..e + 8].try_into().unwrap()) as usize;
    let mut bad = bytes.clone();
    bad[b1.offset as usize + dir + end_off] ^= 1;
    std::fs::write(&p, &bad).unwrap();

    let mut warnings = Vec::new();
    let mut seen = Vec::new();
    let mut whole = Vec::new();
    {
        let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
        let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
        s.run_columns(&[Input::File(p.clone())], wanted, &mut |batch| {
            for (k, b) in batch.blocks.iter().enumerate() {
                assert!(b.end_ms.is_empty(), "unrequested column handed out");
                seen.extend_from_slice(b.start_ms);
                if let Some(full) = batch.full(k) {
                    whole.extend_from_slice(full.end_ms);
                }
            }
            Ok(())
        })
        .unwrap();
    }
    // The damaged column is not read by a scan of start_ms alone ...
    assert_eq!(seen, vec![10, 20, 30, 40]);
    // ... and asking for the whole damaged block reports it and skips only that block.
    assert_eq!(whole, vec![20, 30]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("end_ms"), "{}", warnings[0]);
}

/// A stream holding references to the blocks of `file` (as flow-cat sends into a pipe).
fn stream_of_refs(file: &Path) -> Vec<u8> {
    let f = ArchiveFile::open(file, false).unwrap();
    let mut w = crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    for i in 0..f.blocks().len() {
        w.write_ref(
            &f.block_ref(i)
                .expect("a published file's blocks have references"),
        )
        .unwrap();
    }
    w.finish().unwrap().0
}

fn scan_stream(bytes: &[u8]) -> (Vec<i64>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut starts = Vec::new();
    {
        let mut s = Scanner::new(ScanOptions::default(), |m| warnings.push(m.to_string()));
        s.run_reader("(stdin)", bytes, &mut |batch| {
            for b in batch.blocks {
                starts.extend_from_slice(b.start_ms);
            }
            assert!(batch.refs.is_some_and(|r| r.iter().all(|r| r.is_some())));
            Ok(())
        })
        .unwrap();
    }
    (starts, warnings)
}

/// Scans `input` (a file, or a stream of references to one) for start_ms only, reading its
/// blocks `block_read`'s way; a consumer that `wants_whole` blocks asks for every one in
/// full. Returns the start and end times seen and the scan's counts.
fn partial_scan(
    input: &[u8],
    file: Option<&Path>,
    block_read: BlockRead,
    wants_whole: bool,
) -> (Vec<i64>, Vec<i64>, ScanStats) {
    let opts = ScanOptions {
        block_read,
        batch_blocks: 3,
        stream_batch_blocks: 3,
        ..ScanOptions::default()
    };
    let (mut starts, mut ends) = (Vec::new(), Vec::new());
    let mut s = Scanner::new(opts, |m| panic!("{m}"));
    let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
    let mut consume = |batch: &Batch<'_, '_>| {
        for (k, b) in batch.blocks.iter().enumerate() {
            starts.extend_from_slice(b.start_ms);
            if wants_whole {
                ends.extend_from_slice(batch.full(k).unwrap().end_ms);
            }
        }
        Ok(())
    };
    match file {
        Some(p) => s.run_columns(&[Input::File(p.to_path_buf())], wanted, &mut consume),
        None => {
            s.wanted = wanted;
            s.run_reader("(stdin)", input, &mut consume)
        }
    }
    .unwrap();
    (starts, ends, s.stats)
}

#[test]
fn scans_copy_blocks_out_once_their_consumer_wants_them_whole() {
    let d = tempfile::tempdir().unwrap();
    let starts: Vec<i64> = (0..40).map(|i| i * 100).collect();
    let ends: Vec<i64> = starts.iter().map(|s| s + 10).collect();
    let p = write(d.path(), "a", &starts); // 20 blocks of 2 flows
    let refs = stream_of_refs(&p);
    for file in [Some(p.as_path()), None] {
        let input = if file.is_some() { &[][..] } else { &refs[..] };
        // A consumer that wants whole blocks: the first batch is viewed in the map, the
        // rest copied out; the flows are those of reading in place throughout.
        let mapped = partial_scan(input, file, BlockRead::Map, true);
        let auto = partial_scan(input, file, BlockRead::Auto, true);
        let copied = partial_scan(input, file, BlockRead::Copy, true);
        assert_eq!((&mapped.0, &mapped.1), (&starts, &ends));
        assert_eq!((&auto.0, &auto.1), (&starts, &ends));
        assert_eq!((&copied.0, &copied.1), (&starts, &ends));
        assert_eq!(mapped.2.blocks_copied, 0);
        assert_eq!(auto.2.blocks_copied, 20 - 3, "{file:?}");
        assert_eq!(copied.2.blocks_copied, 20);
        // One that needs only the column it asked for: nothing is copied.
        let few = partial_scan(input, file, BlockRead::Auto, false);
        assert_eq!((&few.0, few.1.len()), (&starts, 0));
        assert_eq!(few.2.blocks_copied, 0, "{file:?}");
    }
}

#[test]
fn block_references_in_a_stream_read_the_referenced_file() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a", &[10, 20, 30, 40, 50]);
    let refs = stream_of_refs(&p);
    // The stream header (its schema of 4 bytes a column) and five references of 64 bytes.
    assert!(
        refs.len() < 700,
        "references, not blocks: {} bytes",
        refs.len()
    );
    let (starts, warnings) = scan_stream(&refs);
    assert_eq!(starts, vec![10, 20, 30, 40, 50]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// A stream mixing whole-block references, references to some rows of a block (as
/// flow-nfilter sends a selection) and one to rows of a block already selected from gives
/// exactly those rows, in order, complete; a consumer passing them on gets no raw bytes (they
/// would be the whole block) but the references, selection included.
#[test]
fn references_to_rows_give_those_rows_and_no_raw_bytes() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ft.2024-06-03.000000+0000");
    let mut w = ArchiveFileWriter::create(
        &p,
        WriterOptions {
            block_flows: 10,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..30i64 {
        let r = FlowRecord {
            start_ms: i,
            end_ms: 1000 + i,
            packets: 7 * i as u64,
            ..FlowRecord::default()
        };
        w.writer().push(&r).unwrap();
    }
    w.finish().unwrap();
    let f = ArchiveFile::open(&p, false).unwrap();
    let whole = f.block_ref(0).unwrap();
    let some = f.block_ref(1).unwrap().select(&[0, 3, 9]);
    let fewer = f
        .block_ref(2)
        .unwrap()
        .select(&[1, 2, 5, 8])
        .select(&[0, 3]);
    assert_eq!(fewer.rows.as_deref(), Some(&[21 - 20, 28 - 20][..]));
    let mut stream =
        crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    for r in [&whole, &some, &fewer] {
        stream.write_ref(r).unwrap();
    }
    let (bytes, summary) = stream.finish().unwrap();
    assert_eq!(summary.flows, 10 + 3 + 2);
    let (mut starts, mut ends, mut packets) = (Vec::new(), Vec::new(), Vec::new());
    let mut passed_on = Vec::new();
    let mut s = Scanner::new(ScanOptions::default(), |m| panic!("{m}"));
    s.wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
    s.run_reader("(stdin)", &bytes[..], &mut |batch| {
        assert!(batch.raw.is_none(), "raw bytes would pass whole blocks on");
        for (k, b) in batch.blocks.iter().enumerate() {
            starts.extend_from_slice(b.start_ms);
            let full = batch.full(k).unwrap();
            ends.extend_from_slice(full.end_ms);
            packets.extend_from_slice(full.packets);
            passed_on.push(batch.refs.unwrap()[k].clone().unwrap());
        }
        Ok(())
    })
    .unwrap();
    let want: Vec<i64> = (0..10).chain([10, 13, 19, 21, 28]).collect();
    assert_eq!(starts, want);
    assert_eq!(ends, want.iter().map(|s| s + 1000).collect::<Vec<_>>());
    assert_eq!(
        packets,
        want.iter().map(|&s| 7 * s as u64).collect::<Vec<_>>()
    );
    assert_eq!(passed_on, vec![whole, some, fewer]);
    assert_eq!(s.stats.flows_read, 15);
}

/// A reference to rows of a block whose columns were damaged since: the reader reports the
/// block (file and byte) and keeps the flows before it.
#[test]
fn references_to_rows_of_a_damaged_block_are_reported() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "ft.a", &[10, 20, 30, 40, 50, 60]);
    let f = ArchiveFile::open(&p, false).unwrap();
    let refs: Vec<BlockRef> = (0..3)
        .map(|i| f.block_ref(i).unwrap().select(&[1]))
        .collect();
    let b = f.blocks()[1];
    drop(f);
    let mut stream =
        crate::archive::ArchiveWriter::new(Vec::new(), WriterOptions::default()).unwrap();
    refs.iter().for_each(|r| stream.write_ref(r).unwrap());
    let bytes = stream.finish().unwrap().0;
    // Damage block 1 in place (same inode, size and time: the reference still holds).
    let mut file = std::fs::read(&p).unwrap();
    let meta = std::fs::metadata(&p).unwrap();
    file[(b.offset + b.len) as usize - 20] ^= 0x40;
    {
        use std::io::{Seek, Write};
        let mut h = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        h.seek(std::io::SeekFrom::Start(0)).unwrap();
        h.write_all(&file).unwrap();
        h.set_modified(meta.modified().unwrap()).unwrap();
    }
    let mut warnings = Vec::new();
    let mut starts = Vec::new();
    {
        let opts = ScanOptions {
            stream_batch_blocks: 1,
            batch_blocks: 1,
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| warnings.push(m.to_string()));
        s.run_reader("(stdin)", &bytes[..], &mut |batch| {
            batch
                .blocks
                .iter()
                .for_each(|b| starts.extend_from_slice(b.start_ms));
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(starts, vec![20]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&*p.to_string_lossy()),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("corrupt"), "{}", warnings[0]);
}

/// A host filter's prune test drops the same blocks of a stream of references (as they
/// arrive) as of the file itself, and the blocks left give the same flows; a scan for a
/// tool that passes blocks on by reference hands out every block unread, with references.
#[test]
fn pruned_reference_streams_and_unread_reference_scans() {
    use crate::filter::{CompileOptions, FilterFile, Variables};
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ft.2024-06-03.000000+0000");
    let mut w = ArchiveFileWriter::create(
        &p,
        WriterOptions {
            block_flows: 4,
            ..Default::default()
        },
    )
    .unwrap();
    // 30 blocks of 4 flows; host 10.0.0.7 is in blocks 1, 17 and 29 only.
    for i in 0..120u32 {
        let host = if [5, 70, 119].contains(&i) {
            7
        } else {
            100 + i
        };
        let r = FlowRecord {
            start_ms: i as i64,
            end_ms: i as i64 + 1,
            src_addr: std::net::Ipv4Addr::from(0x0a00_0000 + host).into(),
            dst_addr: std::net::Ipv4Addr::new(192, 0, 2, 1).into(),
            ..FlowRecord::default()
        };
        w.writer().push(&r).unwrap();
    }
    w.finish().unwrap();
    let text = "filter-primitive h\n type ip-address\n permit 10.0.0.7\n\
                filter-definition host\n match ip-source-address h\n";
    let filters = FilterFile::parse(text, "t.cfg", &Variables::new()).unwrap();
    let opts = CompileOptions {
        tz: jiff::tz::TimeZone::UTC,
    };
    let prune = filters
        .compile("host", &opts)
        .unwrap()
        .block_prune()
        .unwrap();
    let refs = stream_of_refs(&p);
    let wanted = ColumnSet::of(&[crate::ColumnId::StartMs]);
    let mut results = Vec::new();
    for from_refs in [false, true] {
        let opts = ScanOptions {
            prune: Some(Arc::new(prune.clone())),
            stream_batch_blocks: 2,
            batch_blocks: 2,
            ..ScanOptions::default()
        };
        let mut s = Scanner::new(opts, |m| panic!("{m}"));
        let mut starts = Vec::new();
        let mut consume = |batch: &Batch<'_, '_>| {
            batch
                .blocks
                .iter()
                .for_each(|b| starts.extend_from_slice(b.start_ms));
            Ok(())
        };
        if from_refs {
            s.wanted = wanted;
            s.run_reader("(stdin)", &refs[..], &mut consume).unwrap();
        } else {
            s.run_columns(&[Input::File(p.clone())], wanted, &mut consume)
                .unwrap();
        }
        results.push((starts, s.stats.blocks_pruned));
    }
    assert_eq!(results[0], results[1]);
    let (starts, pruned) = &results[0];
    assert!(starts.contains(&5) && starts.contains(&70) && starts.contains(&119));
    assert!(
        *pruned >= 20,
        "most of the 30 blocks are ruled out: {pruned}"
    );

    // Passing blocks on by reference: every block, unread, each with its reference.
    let opts = ScanOptions {
        refs_only: true,
        ..ScanOptions::default()
    };
    let mut s = Scanner::new(opts, |m| panic!("{m}"));
    let (mut flows, mut with_refs) = (0, 0);
    s.run_columns(&[Input::File(p.clone())], ColumnSet::EMPTY, &mut |batch| {
        for (k, b) in batch.blocks.iter().enumerate() {
            assert!(b.start_ms.is_empty(), "not read");
            flows += b.len;
            with_refs += batch.refs.is_some_and(|r| r[k].is_some()) as usize;
            assert_eq!(
                batch.full(k).unwrap().len,
                b.len,
                "readable whole on demand"
            );
        }
        Ok(())
    })
    .unwrap();
    assert_eq!((flows, with_refs), (120, 30));
}

#[test]
fn a_reference_to_a_changed_file_is_refused_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "a", &[10, 20, 30]);
    let refs = stream_of_refs(&p);
    // The file is replaced (as a new collection would): same name, another file.
    std::fs::remove_file(&p).unwrap();
    write(d.path(), "a", &[10, 20, 30]);
    let (starts, warnings) = scan_stream(&refs);
    assert!(starts.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&*p.to_string_lossy()),
        "{}",
        warnings[0]
    );
    assert!(
        warnings[0].contains("FLOWKIT_PIPE_REFS=0"),
        "{}",
        warnings[0]
    );
}

#[test]
fn missing_inputs_are_errors() {
    assert!(expand_inputs(&["/nonexistent/x".into()], false).is_err());
    assert!(expand_inputs(&["/nonexistent/*.fk".into()], false).is_err());
    assert_eq!(expand_inputs(&[], false).unwrap(), vec![Input::Stdin]);
}

/// Blocks stored in frames, read by their frames' Bloom filters.
mod frames;
