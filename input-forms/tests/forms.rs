//! Every tool reads every input form alike: the same flows give byte-identical output whether
//! they come as an archive path, a directory, a glob, a flow-tools file, a pipe from flow-cat
//! (with block references or without), a selection passed on by flow-nfilter as references to
//! rows, `cat ARCHIVE |`, a FIFO, or concatenated archives and streams (read whole, like gzip
//! members). The matrix is [`TOOLS`] × [`FORMS`]: adding a tool or a form is one line.
//!
//! The baselines are anchored to flow-tools' own output on the sample day
//! (testdata/2010-11-09, 3498 flows): flow-print's default format and the published
//! investigation pipeline, both printed by flow-tools 0.68.5.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Each tool's representative command; `{IN}` is where the form puts its input (nothing for a
/// form that pipes flows in). `$CFG` is the investigation's filter file.
const TOOLS: &[&str] = &[
    "flow-print {IN}",
    "flow-nfilter -f $CFG -F ip-addr -v ADDR=189.22.36.165 {IN} | flow-nfilter -f $CFG -F victim-browsing | flow-nfilter -f $CFG -F gt1packet | flow-print",
    "flow-nfilter -F udp --count {IN}",
    "flow-stat {IN}",
    "flow-hunt irc-after-ssh {IN}",
    "flow-cat {IN} | flow-print",
    "flow-sort -k octets,sa -r {IN} | flow-print",
    "flow-anon -K anon.key {IN} | flow-print",
    "flow-export --flow-tools {IN} | flow-print",
    "flow-nat --utc 127.0.0.3 {IN}",
];

/// flow-nat's line of [`TOOLS`]: only the conntrack log holds NAT translations; on the other
/// flows it finds none, says so and exits 1, the same for every form.
const NAT: &str = "flow-nat --utc 127.0.0.3 {IN}";

/// Which flows a form carries; each is compared with the tools' output on its archive file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Data {
    /// The sample day (`day.fk`, made by `flow-cat 2010-11-09/ft* -o day.fk`).
    Day,
    /// Its TCP flows (`tcp.fk`, made by `flow-nfilter -F tcp day.fk -o tcp.fk`).
    Tcp,
    /// The day twice (`twice.fk`, made by `flow-cat day.fk day.fk -o twice.fk`).
    Twice,
    /// Suricata's EVE `flow` events of a real sensor (`$EVE`; `eve.fk`, made by `flow-cat $EVE -o`;
    /// that these are the flows flow-import's readers make is flow-print/tests/logs.rs's test).
    Eve,
    /// ulogd2's conntrack events of a real NAT gateway (`$CT`; `ct.fk`, made by `flow-cat $CT -o`).
    Conntrack,
}

/// Every kind of flows the forms carry.
const DATA: [Data; 5] = [
    Data::Day,
    Data::Tcp,
    Data::Twice,
    Data::Eve,
    Data::Conntrack,
];

/// The forms: (the flows they carry, shell run before the tool (ending in `|` for a pipe),
/// the tool's input arguments). Run by bash in a directory holding the files named here; `$FT`
/// is the flow-tools file of the sample day, `$FTDIR` its directory. `day.fk` and `day-v1.fk`
/// are not compressed (version 1, the default and `--compress none`); `dayz.fk` is, in frames of
/// 64 rows with their address Bloom filters (version 3, as `--compress on` writes frames of
/// 1024), so the host filter of the investigation skips some frames; `$V1DAY` is the day as the
/// version-1 writer wrote it (testdata/archive-v1).
const FORMS: &[(Data, &str, &str)] = &[
    (Data::Day, "", "day.fk"),
    (Data::Day, "", "--no-mmap day.fk"),
    (Data::Day, "", "dir/"),
    (Data::Day, "", "'dir/*.fk'"),
    (Data::Day, "", "$FT"),
    (Data::Day, "", "$FTDIR"),
    (Data::Day, "cat $FT |", ""),
    (Data::Day, "flow-cat day.fk |", ""),
    (Data::Day, "flow-cat day.fk |", "--no-mmap"),
    (Data::Day, "flow-cat day.fk |", "-"),
    (Data::Day, "flow-cat $FT |", ""),
    (Data::Day, "FLOWKIT_PIPE_REFS=0 flow-cat day.fk |", ""),
    (Data::Day, "cat day.fk |", ""),
    (Data::Day, "", "< day.fk"),
    (Data::Day, "", "<(flow-cat day.fk)"),
    (Data::Day, "f=$(fifo); flow-cat day.fk > $f & ", "$f"),
    (
        Data::Day,
        "flow-cat day.fk | flow-nfilter -F udptcp-or-icmp -f all.cfg |",
        "",
    ),
    (Data::Day, "", "day-v1.fk"),
    (Data::Day, "", "$V1DAY"),
    (Data::Day, "flow-cat day-v1.fk |", ""),
    (Data::Day, "cat $V1DAY |", ""),
    (Data::Day, "flow-cat --compress 1 day.fk |", ""),
    (Data::Day, "", "dayz.fk"),
    (Data::Day, "", "--no-mmap dayz.fk"),
    (Data::Day, "flow-cat dayz.fk |", ""),
    (Data::Day, "cat dayz.fk |", ""),
    (Data::Day, "FLOWKIT_PIPE_REFS=0 flow-cat dayz.fk |", ""),
    (Data::Tcp, "", "tcp.fk"),
    (Data::Tcp, "flow-cat day.fk | flow-nfilter -F tcp |", ""),
    (
        Data::Tcp,
        "flow-cat day.fk | flow-nfilter -F tcp | flow-nfilter -F tcp |",
        "",
    ),
    (
        Data::Tcp,
        "flow-cat day.fk | flow-nfilter -F tcp |",
        "--no-mmap",
    ),
    (
        Data::Tcp,
        "FLOWKIT_PIPE_REFS=0 flow-nfilter -F tcp day.fk |",
        "",
    ),
    (Data::Twice, "", "twice.fk"),
    (Data::Twice, "", "day.fk day.fk"),
    (Data::Twice, "", "catted.fk"),
    (Data::Twice, "", "--no-mmap catted.fk"),
    (Data::Twice, "cat day.fk day.fk |", ""),
    (Data::Twice, "(flow-cat day.fk; flow-cat day.fk) |", ""),
    (
        Data::Twice,
        "(flow-cat day.fk; FLOWKIT_PIPE_REFS=0 flow-cat day.fk) |",
        "",
    ),
    (
        Data::Twice,
        "(flow-cat day.fk | flow-nfilter -F all -f all.cfg; cat day.fk) |",
        "",
    ),
    (Data::Twice, "cat twice.fk |", ""),
    (Data::Twice, "cat $FT day.fk |", ""),
    (Data::Twice, "cat day.fk $FT |", ""),
    (Data::Twice, "cat $FT $FT |", ""),
    (Data::Twice, "", "v1v2.fk"),
    (Data::Twice, "cat day-v1.fk day.fk |", ""),
    (
        Data::Twice,
        "(flow-cat day.fk; flow-cat --compress none day.fk) |",
        "",
    ),
    (Data::Twice, "", "mixed"),
    (Data::Twice, "", "--no-mmap mixed2"),
    // Flow logs read directly, as flow-import reads them.
    (Data::Eve, "", "$EVE"),
    (Data::Eve, "", "--no-mmap $EVE"),
    (Data::Eve, "cat $EVE |", ""),
    (Data::Eve, "", "< $EVE"),
    (Data::Eve, "flow-cat $EVE |", ""),
    (Data::Conntrack, "", "$CT"),
    (Data::Conntrack, "cat $CT |", ""),
    (Data::Conntrack, "flow-cat $CT |", ""),
];

/// A filter file whose definitions pass every flow of the sample day (all of them TCP, UDP or
/// ICMP), so a filter stage carries the whole day on.
const ALL_CFG: &str =
    "filter-primitive any-proto\n  type ip-protocol\n  permit tcp\n  permit udp\n  permit icmp\n\
filter-definition udptcp-or-icmp\n  match ip-protocol any-proto\n\
filter-definition all\n  match ip-protocol any-proto\n";

/// The directory the binaries are in, built up to date (this crate's tests run the binaries of
/// the tool crates, which `cargo test -p input-forms` alone would not build).
fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let target = profile_dir.parent().unwrap();
        let mut cmd = Command::new(env!("CARGO"));
        // All the workspace's binaries, as install.sh builds them (flowkit-dist's test), so the
        // two tests share one build of the library.
        cmd.args(["build", "--quiet", "--workspace", "--bins", "--target-dir"])
            .arg(target)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        let st = cmd.status().unwrap();
        assert!(st.success(), "building the tools failed");
        profile_dir
    })
}

/// The work directory with the archives the forms name.
fn work() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        let setup = "flow-cat $FTDIR/ft* -o day.fk && mkdir dir && cp day.fk dir/ \
            && flow-nfilter -F tcp day.fk -o tcp.fk && flow-cat day.fk day.fk -o twice.fk \
            && cat day.fk day.fk > catted.fk && cat $FT day.fk > mixed && cat day.fk $FT > mixed2 \
            && flow-anon --new-key anon.key \
            && flow-cat --compress none day.fk -o day-v1.fk && cat day-v1.fk day.fk > v1v2.fk \
            && FLOWKIT_FRAME_ROWS=64 flow-cat --compress on day.fk -o dayz.fk \
            && flow-cat $EVE -o eve.fk && flow-cat $CT -o ct.fk";
        std::fs::write(d.path().join("all.cfg"), ALL_CFG).unwrap();
        let o = sh(d.path(), setup);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        d
    })
    .path()
}

/// Runs a command line with bash (pipefail: a failing stage fails the line) in `dir`, the
/// built tools first on PATH, times in UTC.
fn sh(dir: &Path, line: &str) -> Output {
    let ft = flowkit_core::testing::testdata::path("2010-11-09/ft-v05.2010-11-09.000000+0000");
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A stage that never opens a FIFO must not leave its writer behind: background jobs are
    // killed at the end, and the whole line is stopped after a minute.
    let script = format!(
        "set -o pipefail; fifo() {{ local f; f=$(mktemp -u -p .); mkfifo \"$f\"; echo \"$f\"; }}\n\
         [ -f twice.fk ] && CUT=$(( $(stat -c %s twice.fk) * 3 / 4 ))\n\
         {line}\nrc=$?; kill $(jobs -p) 2>/dev/null; exit $rc"
    );
    Command::new("timeout")
        .args(["-k", "5", "60", "bash", "-c", &script])
        .current_dir(dir)
        .env("PATH", path)
        .env("TZ", "UTC")
        .env_remove("FLOWKIT_PIPE_REFS")
        .env_remove("FLOWKIT_FILTERS")
        .env("FT", &ft)
        .env("FTDIR", ft.parent().unwrap())
        .env(
            "V1DAY",
            flowkit_core::testing::testdata::path("archive-v1/day.v1.fk"),
        )
        .env(
            "EVE",
            flowkit_core::testing::testdata::path("other-logs/suricata/eve-flow.json"),
        )
        .env(
            "CT",
            flowkit_core::testing::testdata::path(
                "other-logs/ulogd/nfct-events-new-destroy-utc.json",
            ),
        )
        .env(
            "CFG",
            flowkit_core::testing::testdata::path("flow-tools/investigation.cfg"),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn command(tool: &str, before: &str, input: &str) -> String {
    format!("{before} {}", tool.replace("{IN}", input))
}

fn file_of(d: Data) -> &'static str {
    match d {
        Data::Day => "day.fk",
        Data::Tcp => "tcp.fk",
        Data::Twice => "twice.fk",
        Data::Eve => "eve.fk",
        Data::Conntrack => "ct.fk",
    }
}

/// The output of `tool` on the archive file of `d` (what every form of `d` must give).
fn baseline(tool: &str, d: Data) -> &'static Output {
    static CACHE: OnceLock<Vec<Output>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        let cells: Vec<(&str, Data)> = TOOLS.iter().flat_map(|t| DATA.map(|d| (*t, d))).collect();
        run_all(&cells, |(t, d)| command(t, "", file_of(*d)))
    });
    let k = TOOLS.iter().position(|t| *t == tool).unwrap();
    let j = DATA.iter().position(|x| *x == d).unwrap();
    &all[k * DATA.len() + j]
}

/// Runs the command lines of `cells` two at a time (the machine's tests share few cores).
fn run_all<T: Sync>(cells: &[T], line: impl Fn(&T) -> String + Sync) -> Vec<Output> {
    let dir = work();
    let mut out: Vec<Option<Output>> = (0..cells.len()).map(|_| None).collect();
    let chunk = cells.len().div_ceil(2).max(1);
    std::thread::scope(|s| {
        for (cs, os) in cells.chunks(chunk).zip(out.chunks_mut(chunk)) {
            let line = &line;
            s.spawn(move || {
                for (c, o) in cs.iter().zip(os.iter_mut()) {
                    *o = Some(sh(dir, &line(c)));
                }
            });
        }
    });
    out.into_iter().map(Option::unwrap).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn baselines_match_flow_tools_and_count_right() {
    let golden = |n: &str| {
        flowkit_core::testing::testdata::read_text(&format!("flow-tools/expected/{n}.gz"))
    };
    for t in TOOLS {
        for d in DATA {
            let o = baseline(t, d);
            if *t == NAT && d != Data::Conntrack {
                assert_eq!(o.status.code(), Some(1), "{t} on {d:?}");
                assert_eq!(
                    text(&o.stderr),
                    "flow-nat: no connection in the log held 127.0.0.3\n",
                    "{t} on {d:?}"
                );
                continue;
            }
            assert!(o.status.success(), "{t} on {d:?}: {}", text(&o.stderr));
            // The logs hold IPv6 and biflow records, which flow-export --flow-tools says it
            // cannot carry; every form must then say the same (below).
            let warned = matches!(d, Data::Eve | Data::Conntrack) && t.contains("--flow-tools");
            assert!(
                o.stderr.is_empty() || warned,
                "{t} on {d:?}: {}",
                text(&o.stderr)
            );
        }
    }
    // flow-print of the sample day is what flow-tools' flow-print printed for the same file.
    let day_print = text(&baseline(TOOLS[0], Data::Day).stdout);
    assert_eq!(day_print, golden("flow-print.txt").unwrap());
    // The investigation's pipeline of filters is what flow-tools printed (864 flows).
    let investigation = text(&baseline(TOOLS[1], Data::Day).stdout);
    assert_eq!(investigation, golden("investigation.txt").unwrap());
    // Twice the day is twice the flows; the TCP flows are flow-stat's count of them.
    let lines = |t: &str, d| text(&baseline(t, d).stdout).lines().count();
    assert_eq!(lines(TOOLS[0], Data::Day), 3498 + 1);
    assert_eq!(lines(TOOLS[0], Data::Twice), 2 * 3498 + 1);
    assert_eq!(lines(TOOLS[5], Data::Twice), 2 * 3498 + 1);
    assert_eq!(lines(TOOLS[6], Data::Twice), 2 * 3498 + 1);
    let count = |d| {
        text(&baseline(TOOLS[2], d).stdout)
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(count(Data::Day), 594, "flow-stat's udp row of the day");
    assert_eq!(count(Data::Twice), 2 * count(Data::Day));
    assert_eq!(count(Data::Tcp), 0);
    let stat = text(&baseline(TOOLS[3], Data::Day).stdout);
    assert!(stat.contains("flows        3498"), "{stat}");
    let stat = text(&baseline(TOOLS[3], Data::Tcp).stdout);
    assert!(stat.contains("flows        2874"), "{stat}");
    let stat = text(&baseline(TOOLS[3], Data::Twice).stdout);
    assert!(stat.contains("flows        6996"), "{stat}");
    // The gateway's log NATs three connections to 127.0.0.3 (six events whose
    // `reply.ip.daddr.str` is 127.0.0.3, a NEW and a DESTROY each), among them 127.0.0.1:45328
    // as 127.0.0.3:40525 to 127.0.0.4:8000.
    let nat = text(&baseline(NAT, Data::Conntrack).stdout);
    assert_eq!(nat.lines().count(), 3, "{nat}");
    assert!(
        nat.contains("internal 127.0.0.1:45328 -> public 127.0.0.3:40525 -> server 127.0.0.4:8000"),
        "{nat}"
    );
}

/// The pipe forms carry what they claim: flow-cat passes the day's block as a reference, and
/// flow-nfilter passes its selection on as a reference to rows of that block.
/// README.md's investigation command, exactly as written there (the part after `cd testdata &&
/// export PATH=...`), run in testdata/ with $FLOWKIT_FILTERS naming another file: the sample's
/// testdata/filter.cfg is found in the current directory, and the output is byte for byte what
/// flow-tools printed.
#[test]
fn readme_investigation_command_prints_what_flow_tools_printed() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("flow-nfilter -F victim-browsing"))
        .expect("README.md has the investigation command");
    let (_, after_path) = line
        .split_once(":$PATH\" && ")
        .expect("the command sets PATH, then runs the pipeline");
    let pipeline = after_path.strip_suffix(')').expect("in a subshell");
    assert!(
        pipeline.starts_with("flow-cat 2010-11-09/ft* | "),
        "{pipeline}"
    );
    let other = work().join("other-filters.cfg");
    std::fs::write(&other, "filter-definition default\n  invert\n").unwrap();
    let o = sh(
        &flowkit_core::testing::testdata::dir(),
        &format!("export FLOWKIT_FILTERS='{}'; {pipeline}", other.display()),
    );
    assert!(o.status.success(), "{pipeline}: {}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    let want =
        flowkit_core::testing::testdata::read_text("flow-tools/expected/investigation.txt.gz")
            .unwrap();
    assert!(
        text(&o.stdout) == want,
        "{pipeline}: not flow-tools' output"
    );
}

#[test]
fn pipe_forms_carry_block_references() {
    let o = sh(
        work(),
        "flow-cat -v day.fk 2>err1 | flow-print >/dev/null; cat err1",
    );
    assert!(
        text(&o.stdout).contains("1 blocks passed by reference"),
        "{}",
        text(&o.stdout)
    );
    let line =
        "flow-cat day.fk | flow-nfilter -F tcp --verbose 2>err2 | flow-print >/dev/null; cat err2";
    let out = text(&sh(work(), line).stdout);
    assert!(
        out.contains(
            "2874 flows passed; 0 whole blocks and 1 blocks' selected rows passed by reference"
        ),
        "{out}"
    );
}

/// The investigation's host filter on the day compressed in frames skips the frames whose
/// Bloom filters rule the host out (its output is checked in every form by the test below).
#[test]
fn a_host_filter_skips_frames_without_the_host() {
    let line = "flow-nfilter --verbose -f $CFG -F ip-addr -v ADDR=189.22.36.165 dayz.fk \
                2>&1 >/dev/null | tee /dev/stderr | grep -o 'flows pruned [0-9]*'";
    let out = text(&sh(work(), line).stdout);
    let pruned: u64 = out
        .trim()
        .strip_prefix("flows pruned ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        (64..3498).contains(&pruned),
        "{pruned} of 3,498 flows pruned"
    );
}

#[test]
fn every_tool_reads_every_form_alike() {
    let cells: Vec<(&str, &(Data, &str, &str))> = TOOLS
        .iter()
        .flat_map(|t| FORMS.iter().map(move |f| (*t, f)))
        .collect();
    let outs = run_all(&cells, |(t, (_, before, input))| command(t, before, input));
    let mut wrong = Vec::new();
    for ((tool, (d, before, input)), o) in cells.iter().zip(&outs) {
        let want = baseline(tool, *d);
        let line = command(tool, before, input);
        if o.stdout != want.stdout {
            wrong.push(format!(
                "{line}: output differs from `{}` ({} vs {} bytes)\n{}",
                command(tool, "", file_of(*d)),
                o.stdout.len(),
                want.stdout.len(),
                text(&o.stderr)
            ));
        } else if o.status.code() != want.status.code() || o.stderr != want.stderr {
            wrong.push(format!(
                "{line}: status {:?} (want {:?}), stderr: {}",
                o.status.code(),
                want.status.code(),
                text(&o.stderr)
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cells wrong:\n{}",
        wrong.len(),
        cells.len(),
        wrong.join("\n")
    );
}

/// An empty input holds not even a stream header: every tool treats an empty file, an empty
/// pipe, `< /dev/null` and an empty FIFO alike (same output, same status, reported as empty).
#[test]
fn empty_stdin_and_empty_file_are_treated_alike() {
    let forms = [
        ("", "empty.fk"),
        ("", "--no-mmap empty.fk"),
        ("", "< /dev/null"),
        ("true |", ""),
        ("f=$(fifo); : > $f & ", "$f"),
    ];
    std::fs::write(work().join("empty.fk"), b"").unwrap();
    let cells: Vec<(&str, &(&str, &str))> = TOOLS
        .iter()
        .flat_map(|t| forms.iter().map(move |f| (*t, f)))
        .collect();
    let outs = run_all(&cells, |(t, (before, input))| command(t, before, input));
    for (k, ((tool, (before, input)), o)) in cells.iter().zip(&outs).enumerate() {
        let first = &outs[k - k % forms.len()];
        let line = command(tool, before, input);
        let err = text(&o.stderr);
        assert!(!o.status.success(), "{line}: {err}");
        assert!(err.contains(": empty: "), "{line}: {err}");
        assert_eq!(o.stdout, first.stdout, "{line}");
        assert_eq!(o.status.code(), first.status.code(), "{line}");
    }
}

/// A stream cut short by the program writing it (here flow-cat, stopped by `head`) is reported
/// by the next tool as the upstream stopping, never as a truncated archive; the flows before
/// the cut are read, and the tool exits non-zero.
#[test]
fn a_stream_cut_upstream_is_reported_as_the_upstream_stopping() {
    let cells: Vec<(&str, &str)> = TOOLS
        .iter()
        .flat_map(|t| {
            [
                (*t, "FLOWKIT_PIPE_REFS=0 flow-cat twice.fk | head -c $CUT |"),
                (*t, "flow-cat twice.fk | head -c 300 |"),
            ]
        })
        .collect();
    let outs = run_all(&cells, |(t, before)| command(t, before, ""));
    for ((tool, before), o) in cells.iter().zip(&outs) {
        let line = command(tool, before, "");
        let err = text(&o.stderr);
        assert!(!o.status.success(), "{line}");
        assert!(
            err.contains("(stdin): the upstream stopped at byte "),
            "{line}: {err}"
        );
        assert!(!err.contains("truncated"), "{line}: {err}");
    }
    // The flows before the cut were read: the day's first block (all 3498 flows) is whole
    // within the first three quarters of the stream (the day is one block, twice.fk two).
    let o = sh(
        work(),
        "FLOWKIT_PIPE_REFS=0 flow-cat twice.fk | head -c $CUT | flow-print",
    );
    assert_eq!(text(&o.stdout).lines().count(), 3498 + 1);
}

/// A tool whose stdin is a terminal says so on stderr instead of waiting silently (run under
/// `script`, which gives it a terminal; skipped where `script` is missing).
#[test]
fn a_terminal_on_stdin_gets_a_hint() {
    if sh(work(), "command -v script").stdout.is_empty() {
        eprintln!("script(1) not installed: terminal hint not tested");
        return;
    }
    for tool in [
        "flow-print",
        "flow-stat",
        "flow-nfilter -F tcp --count",
        "flow-hunt scan",
        "flow-cat | cat",
        "flow-sort | cat",
        "flow-anon -K anon.key | cat",
    ] {
        let o = sh(
            work(),
            &format!("script -qec '{tool}' /dev/null < /dev/null"),
        );
        let out = text(&o.stdout);
        let name = tool.split(' ').next().unwrap();
        let hint = format!(
            "{name}: reading flows from standard input (a terminal); give a file or pipe flows in"
        );
        assert!(out.contains(&hint), "{tool}: {out}");
    }
    // Not on a pipe.
    let o = sh(work(), "flow-print < day.fk");
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}
