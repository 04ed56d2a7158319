//! Crash safety of flow-capture (the built binary on 127.0.0.1, real captures replayed to it):
//! `kill -9` in the middle of an interval, and a disk that fills up and then has space again.
//!
//! The disk is "filled" without root or a special mount: the collector runs with a file-size
//! limit (RLIMIT_FSIZE, SIGXFSZ ignored), so its writes fail with EFBIG exactly as they fail with
//! ENOSPC on a full disk (the same `write` error path), and the limit is lifted from outside
//! (prlimit) to give the space back.

mod common;

use common::*;
use flowkit_core::archive::reader::has_complete_block;
use flowkit_core::archive::ArchiveFile;
use flowkit_core::FlowRecord;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn count(flows: &[FlowRecord]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for f in flows {
        *m.entry(format!("{f:?}")).or_insert(0) += 1;
    }
    m
}

/// True when every flow of `part` is in `whole` (as many times).
fn is_subset(part: &[FlowRecord], whole: &[FlowRecord]) -> bool {
    let w = count(whole);
    count(part)
        .iter()
        .all(|(k, n)| w.get(k).copied().unwrap_or(0) >= *n)
}

fn tmp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("tmp"))
        .collect()
}

fn published(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("ft."))
        .collect()
}

fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_9_keeps_finished_files_intact_and_the_unfinished_one_readable() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = capture_paths(&["scenario-v5"]);
    let b = capture_paths(&["pmacct-ipfix"]);
    let c = capture_paths(&["scenario-v9"]);
    let e = capture_paths(&["fprobe-v5"]);
    let c1 = start(d, &["--rotate", "3s", "--flush", "1s"]);
    // A: sent, then its intervals close, so its flows are in published files.
    send(&a, c1.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(3300));
    wait_for("a published file", Duration::from_secs(5), || {
        !published(d).is_empty()
    });
    // B: sent at the start of an interval, and flushed (within about a second) into that
    // interval's tmp- file as complete blocks, well before the interval ends.
    wait_for("an interval to start", Duration::from_secs(4), || {
        now_ms() % 3000 < 100
    });
    send(&b, c1.port, "127.0.0.1:0");
    wait_for("a flushed block", Duration::from_secs(5), || {
        tmp_files(d).iter().any(|p| has_complete_block(p))
    });
    // C: sent, and the collector killed at once, in the middle of the interval: C is lost
    // (never flushed), nothing else.
    send(&c, c1.port, "127.0.0.1:0");
    assert!(now_ms() % 3000 < 2500, "still inside the interval");
    c1.kill9();

    // Every published file is intact: complete, indexed, every block checks.
    let done = published(d);
    assert!(!done.is_empty());
    for p in &done {
        let f = ArchiveFile::open(p, false).unwrap();
        assert!(
            f.is_complete() && f.tail_error().is_none(),
            "{}",
            p.display()
        );
        for i in 0..f.blocks().len() {
            f.block(i).unwrap();
        }
    }
    let (finished_flows, problems) = read_tree_with(d, false);
    assert!(problems.is_empty(), "{problems:?}");
    let want_a = imported(&a);
    assert!(
        is_subset(&want_a, &finished_flows),
        "A's flows are all in published files"
    );

    // The unfinished files: `flow-cat -a` reads them up to their last complete block and warns,
    // naming each; nothing read is a flow that was not sent.
    let unfinished = tmp_files(d);
    assert!(!unfinished.is_empty());
    let before: Vec<Vec<u8>> = unfinished
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let (all, problems) = read_tree_with(d, true);
    assert_eq!(problems.len(), unfinished.len(), "{problems:?}");
    for m in &problems {
        assert!(
            unfinished
                .iter()
                .any(|p| m.starts_with(&p.display().to_string())),
            "{m}"
        );
        assert!(m.contains("truncated at byte"), "{m}");
    }
    let sent: Vec<FlowRecord> = [&a, &b, &c].iter().flat_map(|x| imported(x)).collect();
    assert!(is_subset(&all, &sent), "only flows that were sent are read");
    let want_b = imported(&b);
    assert!(
        all.len() > finished_flows.len(),
        "the flushed blocks are read from the tmp- file: {} flows, {} in published files; {:?} {problems:?}",
        all.len(),
        finished_flows.len(),
        walk(d)
    );
    assert!(
        all.iter().filter(|f| want_b.contains(f)).count() > 0,
        "some of B survived the kill"
    );

    // A restart continues in new files; the unfinished files of the crashed run are left as
    // they are (names never reused).
    let c2 = start(d, &["--rotate", "3s", "--flush", "1s"]);
    send(&e, c2.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(200));
    let log = c2.stop();
    assert!(log.iter().any(|l| l.contains("exit:")), "{log:?}");
    for (p, bytes) in unfinished.iter().zip(&before) {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} changed", p.display());
    }
    let (after, problems) = read_tree_with(d, false);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        is_subset(&imported(&e), &after),
        "E's flows are in new files"
    );
    assert!(published(d).len() > done.len());
}

/// Runs the collector with a file-size limit of `bytes` (soft; the hard limit stays unlimited so
/// it can be lifted), SIGXFSZ ignored so a write past it fails with EFBIG instead of killing.
fn with_file_size_limit(bytes: u64) -> impl FnOnce(&mut std::process::Command) {
    move |cmd| {
        use std::os::unix::process::CommandExt;
        // SAFETY: between fork and exec only async-signal-safe calls (setrlimit, signal).
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: libc::RLIM_INFINITY,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
    }
}

/// The number before `word` in `line` (`... 3498 flows written ...`).
fn number_before(line: &str, word: &str) -> u64 {
    let head = &line[..line
        .find(word)
        .unwrap_or_else(|| panic!("{word} in {line}"))];
    head.split_whitespace()
        .last()
        .unwrap()
        .trim_start_matches('(')
        .parse()
        .unwrap()
}

#[test]
fn a_full_disk_is_reported_counted_and_survived() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = capture_paths(&["scenario-v5"]);
    let b = capture_paths(&["pmacct-v9"]);
    let c = start_with(
        d,
        &["--rotate", "1h", "--flush", "1s"],
        with_file_size_limit(16 << 10),
    );
    send(&a, c.port, "127.0.0.1:0");
    wait_for("the write error", Duration::from_secs(10), || {
        c.log().iter().any(|l| l.contains("write error"))
    });
    // Space returns.
    let lim = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: prlimit on our own child with a valid rlimit.
    let r = unsafe {
        libc::prlimit(
            c.child.id() as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &lim,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(r, 0, "{}", std::io::Error::last_os_error());
    std::thread::sleep(Duration::from_millis(1200)); // past the retry time
    send(&b, c.port, "127.0.0.1:0");
    wait_for("the resumption", Duration::from_secs(10), || {
        c.log().iter().any(|l| l.contains("collection resumed"))
    });
    let log = c.stop();
    let errors: Vec<&String> = log.iter().filter(|l| l.contains("write error")).collect();
    assert_eq!(errors.len(), 1, "reported once: {log:?}");
    assert!(errors[0].contains("File too large"), "{}", errors[0]);
    let exit = log.iter().find(|l| l.contains("exit:")).unwrap();
    let (want_a, want_b) = (imported(&a), imported(&b));
    let written = number_before(exit, "flows written");
    let unwritten = number_before(exit, "unwritten");
    let decoded = number_before(exit, "flows, ");
    assert_eq!(decoded, (want_a.len() + want_b.len()) as u64, "{exit}");
    assert_eq!(
        written + unwritten,
        decoded,
        "every flow is written or counted: {exit}"
    );
    assert_eq!(unwritten, want_a.len() as u64, "{exit}");
    // What was written after the space came back is all there, in published files; the file
    // that failed held no complete block and was removed.
    let (got, problems) = read_tree_with(d, true);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(got.len() as u64, written);
    assert!(sorted(got) == sorted(want_b));
    assert!(tmp_files(d).is_empty(), "{:?}", tmp_files(d));
}
