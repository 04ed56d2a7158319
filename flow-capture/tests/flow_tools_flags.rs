//! flow-tools' flow-capture command line on 127.0.0.1: `localip/remoteip/port`, `-n`
//! rotations per day, `-p PIDFILE`, `-E`/`-e` expiry, and the notes for `-V` and `-b big`.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run_once(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flow-capture"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn endpoint_rotations_and_pidfile_as_flow_tools_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dir.path().join("flow-capture.pid");
    let tree = dir.path().join("tree");
    let c = start_args(
        &[
            "-w",
            tree.to_str().unwrap(),
            "--utc",
            "-n",
            "1439",
            "-p",
            pid.to_str().unwrap(),
            "127.0.0.1/127.0.0.1/0",
        ],
        |_| {},
    );
    // flow-tools writes the pid to PIDFILE.PORT.
    let pidfile = dir.path().join(format!("flow-capture.pid.{}", c.port));
    let text = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(text, format!("{}\n", c.child.id()));
    let v5 = capture_paths(&["scenario-v5"]);
    send(&v5, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    assert!(!pidfile.exists(), "the pid file is removed at exit");
    assert!(
        log.iter()
            .any(|l| l.ends_with("accepting exporters only from 127.0.0.1/32")),
        "{log:?}"
    );
    let got = read_tree(&tree);
    assert_eq!(sorted(got), sorted(imported(&v5)));
    // -n 1439: one file a minute, named after whole minutes.
    for f in files(&tree) {
        let secs = &f[f.len() - 7..f.len() - 5];
        assert_eq!(secs, "00", "{f}");
    }
}

#[test]
fn remote_address_of_the_endpoint_filters_exporters() {
    let dir = tempfile::tempdir().unwrap();
    let c = start_args(
        &[
            "-w",
            dir.path().to_str().unwrap(),
            "--utc",
            "127.0.0.1/127.0.0.9/0",
        ],
        |_| {},
    );
    let v5 = capture_paths(&["scenario-v5"]);
    let refused = send(&v5, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    assert!(read_tree(dir.path()).is_empty());
    let exit = log.iter().find(|l| l.contains("exit:")).expect("exit line");
    assert!(exit.contains(&format!("{refused} not allowed")), "{exit}");
}

/// Files of `len` bytes with flow-file names, oldest first, under the default nesting.
fn old_files(root: &Path, names: &[&str], len: usize) {
    for n in names {
        let day = &n[3..13];
        let p = root.join(&day[..4]).join(&day[..7]).join(day).join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, vec![0u8; len]).unwrap();
    }
}

#[test]
fn expiry_keeps_the_tree_under_the_size_at_start_and_after_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    const MB: usize = 1 << 20;
    old_files(
        root,
        &[
            "ft.2010-11-08.235500+0000",
            "ft.2010-11-09.000000+0000",
            "ft.2010-11-09.000500+0000",
            "ft.2010-11-09.001000+0000",
            "ft.2010-11-09.001500+0000",
        ],
        MB,
    );
    std::fs::write(root.join("notes.txt"), vec![0u8; 3 * MB]).unwrap();
    let c = start(root, &["-E", "2M"]);
    let v5 = capture_paths(&["scenario-v5"]);
    send(&v5, c.port, "127.0.0.1:0");
    std::thread::sleep(Duration::from_millis(300));
    let log = c.stop();
    // At start: 5 MiB of flow files, 3 oldest deleted; other files neither counted nor deleted.
    assert!(
        log.iter()
            .any(|l| l.contains("expired 3 files (3145728 bytes); 2 files (2097152 bytes) kept")),
        "{log:?}"
    );
    // At exit the new file is published: one more old file goes.
    assert!(
        log.iter()
            .any(|l| l.contains("expired 1 files (1048576 bytes); 2 files")),
        "{log:?}"
    );
    let mut left = files(root);
    left.sort();
    assert_eq!(left.len(), 3, "{left:?}");
    assert_eq!(left[0], "ft.2010-11-09.001500+0000");
    assert!(
        left[1].starts_with("ft.20") && !left[1].starts_with("ft.2010"),
        "{left:?}"
    );
    assert_eq!(left[2], "notes.txt");
    assert!(
        !root.join("2010/2010-11/2010-11-08").exists(),
        "emptied directories go"
    );
    let new = walk(root)
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy() == left[1])
        .unwrap();
    assert_eq!(
        sorted(read_tree(&new)),
        sorted(imported(&v5)),
        "the new file holds the flows"
    );
}

#[test]
fn expire_count_keeps_the_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    old_files(
        root,
        &["ft.2010-11-09.000000+0000", "ft.2010-11-09.000500+0000"],
        10,
    );
    let c = start(root, &["-e", "1"]);
    let log = c.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("expired 1 files (10 bytes); 1 files (10 bytes) kept")),
        "{log:?}"
    );
    assert_eq!(files(root), ["ft.2010-11-09.000500+0000"]);
}

#[test]
fn version_and_byte_order_get_a_note_and_bad_forms_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = start_args(
        &[
            "-w",
            dir.path().to_str().unwrap(),
            "-V",
            "5",
            "-b",
            "big",
            "127.0.0.1/0/0",
        ],
        |_| {},
    );
    let log = c.stop();
    assert!(
        log.iter()
            .any(|l| l.contains("note: -V 5 is flow-tools' stored export version")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("note: -b big is flow-tools' byte order")),
        "{log:?}"
    );
    let w = dir.path().to_str().unwrap();
    for args in [
        vec!["-w", w, "-n", "6", "127.0.0.1/0/0"],
        vec!["-w", w, "-n", "1440", "127.0.0.1/0/0"],
        vec!["-w", w, "-n", "95", "--rotate", "5m", "127.0.0.1/0/0"],
        vec!["-w", w, "-b", "127.0.0.1", "127.0.0.1/0/0"],
        vec!["-w", w, "-p", "2055", "127.0.0.1/0/0"],
        vec!["-w", w, "0/0"],
        vec!["-w", w, "-E", "10Q", "127.0.0.1/0/0"],
    ] {
        let o = run_once(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
