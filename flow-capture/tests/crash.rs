//! Crash safety of flow-capture (the built binary on 127.0.0.1, real captures replayed to it):
//! `kill -9` in the middle of an interval, then recovery (a restart, and `--recover`); and a disk
//! that fills up and then has space again.
//!
//! A full disk is a real one where the test may mount a small tmpfs (root); otherwise, and in the
//! first test always, the collector runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored),
//! so its writes fail with EFBIG exactly as they fail with ENOSPC (the same `write` error path),
//! and the limit is lifted from outside (prlimit) to give the space back.

mod common;

use common::*;
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
fn kill_9_loses_only_the_open_interval_and_recovery_publishes_every_whole_block() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = capture_paths(&["scenario-v5"]);
    let b = capture_paths(&["pmacct-ipfix"]);
    let c = capture_paths(&["scenario-v9"]);
    let e = capture_paths(&["fprobe-v5"]);
    let (want_a, want_b, want_c) = (imported(&a), imported(&b), imported(&c));
    let c1 = start(d, &["--rotate", "3s", "--flush", "1s"]);
    // A: sent, then its intervals close, so its flows are in published files.
    send(&a, c1.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(3300));
    wait_for("a published file", Duration::from_secs(5), || {
        !published(d).is_empty()
    });
    // B: sent at the start of an interval, and flushed (within about a second) into that
    // interval's tmp- file as whole blocks, well before the interval ends.
    wait_for("an interval to start", Duration::from_secs(4), || {
        now_ms() % 3000 < 100
    });
    send(&b, c1.port, "127.0.0.1:0");
    wait_for("B flushed", Duration::from_secs(3), || {
        is_subset(&want_b, &read_tree_with(d, true).0)
    });
    // C: sent, and the collector killed at once, in the middle of the interval: C is the open
    // interval (never flushed), the only loss.
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
    assert!(
        is_subset(&want_a, &finished_flows),
        "A's flows are all in published files"
    );

    // The unfinished files: `flow-cat -a` reads them up to their last complete block and warns,
    // naming each; nothing read is a flow that was not sent.
    let unfinished = tmp_files(d);
    assert!(!unfinished.is_empty());
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
    let sent: Vec<FlowRecord> = [&want_a, &want_b, &want_c]
        .iter()
        .flat_map(|x| x.iter().cloned())
        .collect();
    assert!(is_subset(&all, &sent), "only flows that were sent are read");
    assert!(is_subset(&want_b, &all), "all of B survived the kill");
    assert!(
        sent.len() - all.len() <= want_c.len(),
        "at most the open interval (C, {} flows) is lost: {} sent, {} kept",
        want_c.len(),
        sent.len(),
        all.len()
    );

    // `flow-capture --recover` on a copy: every whole block published, the tmp- files gone.
    let copy = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("cp")
        .args(["-a", &format!("{}/.", d.display())])
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(st.success());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_flow-capture"))
        .arg("--recover")
        .arg(copy.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    let kept_flows = all.len() - finished_flows.len();
    assert!(
        report.contains(&format!(
            "recovered {} unfinished files ({} published)",
            unfinished.len(),
            unfinished.len()
        )) && report.contains(&format!("{kept_flows} flows kept")),
        "{report}"
    );
    assert!(tmp_files(copy.path()).is_empty());
    let (recovered, problems) = read_tree_with(copy.path(), false);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(sorted(recovered) == sorted(all.clone()));

    // A restart recovers them too, before writing new files (names never reused).
    let c2 = start(d, &["--rotate", "3s", "--flush", "1s"]);
    wait_for("the recovery", Duration::from_secs(5), || {
        tmp_files(d).is_empty()
    });
    let (after_recovery, problems) = read_tree_with(d, false);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(sorted(after_recovery.clone()) == sorted(all.clone()));
    send(&e, c2.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(200));
    let log = c2.stop();
    assert!(
        log.iter().any(|l| l.contains("no allow-list set")),
        "says that it accepts any exporter: {log:?}"
    );
    assert!(
        log.iter().filter(|l| l.contains("published as")).count() == unfinished.len(),
        "{log:?}"
    );
    for p in &done {
        assert!(p.exists(), "{} still there", p.display());
    }
    let (end, problems) = read_tree_with(d, false);
    assert!(problems.is_empty(), "{problems:?}");
    let mut want = all;
    want.extend(imported(&e));
    assert!(sorted(end) == sorted(want), "E's flows are in new files");
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

/// A small filesystem the test fills and empties: a real tmpfs when the test may mount one
/// (root), else the file-size limit of the collector (the injected write error). Never neither.
enum Disk {
    Tmpfs { mount: PathBuf, filler: PathBuf },
    Limit,
}

impl Disk {
    /// A 2 MiB tmpfs at `at`, when mounting is permitted.
    fn tmpfs(at: &Path) -> Option<Disk> {
        std::fs::create_dir_all(at).unwrap();
        let c = |s: &str| std::ffi::CString::new(s).unwrap();
        let target = c(at.to_str().unwrap());
        let (src, fs, data) = (c("tmpfs"), c("tmpfs"), c("size=2m"));
        // SAFETY: mount(2) with valid NUL-terminated strings.
        let r = unsafe {
            libc::mount(
                src.as_ptr(),
                target.as_ptr(),
                fs.as_ptr(),
                0,
                data.as_ptr().cast(),
            )
        };
        (r == 0).then(|| Disk::Tmpfs {
            mount: at.to_path_buf(),
            filler: at.join("filler"),
        })
    }

    /// Takes all the space left: a filler file on the tmpfs, or a file-size limit of 256 bytes
    /// (no file may grow past it: the collector's writes fail, and so does finishing a recovered
    /// file, which is then published later, when the space is back).
    fn fill(&self, collector: &Collector) {
        match self {
            Disk::Tmpfs { filler, .. } => {
                use std::io::Write;
                let mut f = std::fs::File::create(filler).unwrap();
                let chunk = vec![0u8; 4096];
                while f.write_all(&chunk).and_then(|_| f.sync_all()).is_ok() {}
            }
            Disk::Limit => set_file_size_limit(collector, 256),
        }
    }

    /// Gives the space back.
    fn free(&self, collector: &Collector) {
        match self {
            Disk::Tmpfs { filler, .. } => std::fs::remove_file(filler).unwrap(),
            Disk::Limit => set_file_size_limit(collector, libc::RLIM_INFINITY),
        }
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if let Disk::Tmpfs { mount, .. } = self {
            let c = std::ffi::CString::new(mount.to_str().unwrap()).unwrap();
            // SAFETY: umount2(2) of the mount this test made; detached if still busy.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
    }
}

fn set_file_size_limit(c: &Collector, bytes: u64) {
    let lim = libc::rlimit {
        rlim_cur: bytes,
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
}

/// A disk to fill under `dir`: a real tmpfs when the test may mount one, else the file-size
/// limit (said on stderr). FLOWKIT_TEST_NO_TMPFS=1 forces the limit where a tmpfs could be mounted.
fn small_disk(dir: &Path) -> (PathBuf, Disk) {
    let disk = match std::env::var_os("FLOWKIT_TEST_NO_TMPFS") {
        Some(_) => None,
        None => Disk::tmpfs(&dir.join("mnt")),
    };
    match disk {
        Some(t) => {
            eprintln!("the full disk is a 2 MiB tmpfs");
            (dir.join("mnt/tree"), t)
        }
        None => {
            eprintln!("cannot mount a tmpfs here: the full disk is a file-size limit");
            (dir.join("tree"), Disk::Limit)
        }
    }
}

/// The disk fills while the open file holds flushed blocks: they are published (recovered at
/// once), counted as written, and only the flows that never reached a whole block are counted
/// unwritten; written + unwritten + pending = decoded, exactly.
#[test]
fn a_full_disk_keeps_the_flushed_blocks_and_counts_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (d, disk) = small_disk(dir.path());
    let d = d.as_path();
    std::fs::create_dir_all(d).unwrap();
    let a = capture_paths(&["scenario-v5"]);
    let b = capture_paths(&["pmacct-v9"]);
    let c = capture_paths(&["pmacct-ipfix"]);
    let (want_a, want_b, want_c) = (imported(&a), imported(&b), imported(&c));
    let col = start_with(
        d,
        &["--rotate", "1h", "--flush", "1s"],
        with_file_size_limit(libc::RLIM_INFINITY),
    );
    send(&a, col.port, "127.0.0.1:0");
    wait_for("A flushed", Duration::from_secs(5), || {
        let (got, _) = read_tree_with(d, true);
        got.len() == want_a.len()
    });
    disk.fill(&col);
    send(&b, col.port, "127.0.0.1:0");
    wait_for("the write error", Duration::from_secs(10), || {
        col.log().iter().any(|l| l.contains("write error"))
    });
    disk.free(&col);
    std::thread::sleep(Duration::from_millis(1200)); // past the retry time
    send(&c, col.port, "127.0.0.1:0");
    wait_for("the resumption", Duration::from_secs(10), || {
        col.log().iter().any(|l| l.contains("collection resumed"))
    });
    let log = col.stop();
    let exit = log.iter().find(|l| l.contains("exit:")).unwrap();
    let written = number_before(exit, "flows written");
    let unwritten = number_before(exit, "unwritten");
    let pending = number_before(exit, "pending");
    let decoded = number_before(exit, "flows, ");
    let sent = (want_a.len() + want_b.len() + want_c.len()) as u64;
    assert_eq!(decoded, sent, "{exit}");
    assert_eq!(written + unwritten + pending, decoded, "{exit}");
    assert_eq!(pending, 0, "{exit}");
    // B never reached a whole block; A's flushed block was recovered and published.
    assert_eq!(unwritten, want_b.len() as u64, "{exit}");
    assert_eq!(written, (want_a.len() + want_c.len()) as u64, "{exit}");
    assert!(
        log.iter()
            .any(|l| l.contains("unfinished file recovered") && l.contains("published as")),
        "{log:?}"
    );
    let (got, problems) = read_tree_with(d, false);
    assert!(problems.is_empty(), "{problems:?}");
    let mut want = want_a;
    want.extend(want_c);
    assert!(sorted(got) == sorted(want), "A and C in published files");
    assert!(tmp_files(d).is_empty(), "{:?}", tmp_files(d));
}

/// The disk fills after files were published by rotation but before the next flush (here an
/// hour away): the published flows are written, not lost (they were once counted unwritten,
/// with every flow given to the files since the last flush).
#[test]
fn a_full_disk_after_a_rotation_counts_published_flows_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let (d, disk) = small_disk(dir.path());
    let d = d.as_path();
    std::fs::create_dir_all(d).unwrap();
    let a = capture_paths(&["scenario-v5"]);
    let b = capture_paths(&["pmacct-v9"]);
    let (want_a, want_b) = (imported(&a), imported(&b));
    let col = start_with(
        d,
        &["--rotate", "2s", "--flush", "1h"],
        with_file_size_limit(libc::RLIM_INFINITY),
    );
    send(&a, col.port, "127.0.0.1:0");
    wait_for("A published", Duration::from_secs(8), || {
        read_tree_with(d, false).0.len() == want_a.len()
    });
    disk.fill(&col);
    send(&b, col.port, "127.0.0.1:0");
    wait_for("the write error", Duration::from_secs(10), || {
        col.log().iter().any(|l| l.contains("write error"))
    });
    let log = col.stop();
    let exit = log.iter().find(|l| l.contains("exit:")).unwrap();
    let written = number_before(exit, "flows written");
    let unwritten = number_before(exit, "unwritten");
    let pending = number_before(exit, "pending");
    let decoded = number_before(exit, "flows, ");
    assert_eq!(decoded, (want_a.len() + want_b.len()) as u64, "{exit}");
    assert_eq!(written + unwritten + pending, decoded, "{exit}");
    assert_eq!(written, want_a.len() as u64, "{exit}");
    assert_eq!(unwritten, want_b.len() as u64, "{exit}");
    eprintln!("{exit}");
    assert!(
        !log.iter().any(|l| l.contains("collection resumed")),
        "it never resumed (the retry is a flush interval away): {log:?}"
    );
    let (got, problems) = read_tree_with(d, true);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(sorted(got) == sorted(want_a));
    drop(disk);
}
