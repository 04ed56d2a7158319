//! `flow-stat -f N` as a user runs it: the same report from a flow-tools file, a flowkit archive
//! and a pipe; and the errors for what it cannot do.

use flowkit_core::testing::testdata;
use std::process::{Command, Output, Stdio};

const FT: &str = "2010-11-09/ft-v05.2010-11-09.000000+0000";

fn stat(args: &[&str], stdin: Option<&std::path::Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_flow-stat"));
    c.args(args).env("TZ", "UTC");
    match stdin {
        Some(p) => c.stdin(Stdio::from(std::fs::File::open(p).unwrap())),
        None => c.stdin(Stdio::null()),
    };
    c.output().unwrap()
}

/// The report below the `# Args:` line (which echoes the command line).
fn body(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8(o.stdout.clone()).unwrap();
    let at = s.find("# Args:").unwrap();
    s[at..].split_once('\n').unwrap().1.to_string()
}

#[test]
fn a_flowtools_file_a_flowkit_archive_and_a_pipe_give_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("day.fk");
    // flow-cat lives in another crate: write the archive with the library's writer.
    let inputs = flowkit_core::pipeline::input::expand_inputs(
        &[testdata::path(FT).display().to_string()],
        false,
    )
    .unwrap();
    let mut out = flowkit_cli::open_output(Some(&archive), "test").unwrap();
    let mut sc = flowkit_core::pipeline::scan::Scanner::new(Default::default(), |m| panic!("{m}"));
    sc.run(&inputs, &mut |blocks| {
        for b in blocks {
            out.write_block(b, None).unwrap();
        }
        Ok(())
    })
    .unwrap();
    out.finish().unwrap();
    let ft = testdata::path(FT);
    for args in [
        ["-f", "9", "-S", "2"],
        ["-f", "24", "-P", "-w"],
        ["-f", "0", "-s", "0"],
    ] {
        let from_file = body(&stat(&[&args[..], &[ft.to_str().unwrap()]].concat(), None));
        let from_archive = body(&stat(
            &[&args[..], &[archive.to_str().unwrap()]].concat(),
            None,
        ));
        let from_pipe = body(&stat(&args, Some(&ft)));
        assert_eq!(from_file, from_archive, "{args:?}");
        assert_eq!(from_file, from_pipe, "{args:?}");
        assert!(from_file.lines().count() > 10, "{args:?}");
    }
}

#[test]
fn refused_options_say_why() {
    let ft = testdata::path(FT);
    let ft = ft.to_str().unwrap();
    let o = stat(&["-f", "5", "-S", "7", ft], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("report 5 sorts on fields 0 to 4"));
    let o = stat(&["-f", "33", ft], None);
    assert_eq!(o.status.code(), Some(2));
    let o = stat(&["-f", "5", "-n", "--sym-dir", "/nonexistent", ft], None);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(err.contains("/nonexistent/tcp-port.sym"), "{err}");
    let o = stat(&["-f", "0", "-p", ft, ft], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exactly one input"));
    // -f does not mix with flowkit's own reports.
    let o = stat(&["-f", "5", "--top", "srcaddr", ft], None);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_report_needing_a_field_the_records_lack_prints_flowtools_error() {
    // NetFlow v1 records have no AS numbers: flow-tools prints the preamble only.
    let v1 = testdata::path("flow-tools/variants/v1/ft-v01.2026-11-22.165936+0000");
    let o = stat(&["-f", "19"], Some(&v1));
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "flow-stat: Flow record missing required field for format.\n"
    );
    assert_eq!(body(&o), "#\n");
}
