//! `install.sh` into a temporary prefix: every tool, a man page per tool and subcommand naming
//! each flag its `--help` lists, completions for three shells, no progress on a piped stderr,
//! and `--uninstall`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (install.sh lives there).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

/// The tools of the workspace: every `flow-*` crate with a `src/main.rs`.
fn tools() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("flow-") && root().join(n).join("src/main.rs").is_file())
        .collect();
    v.sort();
    v
}

/// The target directory and cargo profile these tests were built with (install.sh then only
/// links what is already built, instead of a release build).
fn target_and_profile() -> (PathBuf, &'static str) {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
        "debug" => "dev",
        "release" => "release",
        other => Box::leak(other.to_string().into_boxed_str()),
    };
    (profile_dir.parent().unwrap().into(), profile)
}

/// The flags (`-o`, `--output`) a `--help` text lists in its option lines.
fn help_flags(help: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for line in help.lines().map(str::trim_start) {
        if !line.starts_with('-') {
            continue;
        }
        for tok in line.split([' ', ',', '=']).filter(|t| !t.is_empty()) {
            if !tok.starts_with('-') {
                break;
            }
            let tok = tok.split('[').next().unwrap();
            flags.push(tok.to_string());
        }
    }
    flags
}

/// The subcommands a `--help` text lists under `Commands:` (without `help`).
fn help_subcommands(help: &str) -> Vec<String> {
    let Some(rest) = help.split("Commands:\n").nth(1) else {
        return Vec::new();
    };
    rest.lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(String::from)
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Checks one installed man page against the flags `--help` lists, and renders it with `man -l`
/// when man is installed.
fn check_page(page: &Path, help: &str) {
    let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let flags = help_flags(help);
    assert!(!flags.is_empty(), "no flags in help:\n{help}");
    for f in flags {
        let roff = f.replace('-', "\\-");
        assert!(
            text.contains(&roff),
            "{} does not mention {f}",
            page.display()
        );
    }
    if Command::new("man").arg("--version").output().is_ok() {
        let out = Command::new("man")
            .arg("-l")
            .arg(page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && shown.contains("OPTIONS"),
            "man -l {}: {out:?}",
            page.display()
        );
    }
}

#[test]
fn install_sh_installs_every_tool_with_man_pages_and_completions() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    let (target, profile) = target_and_profile();
    let install = |extra: &[&str]| {
        let st = Command::new("sh")
            .arg(root().join("install.sh"))
            .args(extra)
            .arg(p)
            .env("FLOWKIT_PROFILE", profile)
            .env("FLOWKIT_LINK_BINARIES", "1")
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .unwrap();
        assert!(st.success(), "install.sh {extra:?} failed");
    };
    install(&[]);
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("note: man is not installed; pages are checked as text only, not rendered");
    }
    let tools = tools();
    assert!(tools.len() >= 12, "{tools:?}");
    for t in &tools {
        let bin = p.join("bin").join(t);
        let help = run(Command::new(&bin).arg("--help"));
        // Every -h ends with the flow-tools equivalent, each subcommand's too.
        let ends_with_equivalent = |h: &str| {
            (h.trim_end().lines().last()).is_some_and(|l| l.starts_with("flow-tools equivalent:"))
        };
        assert!(ends_with_equivalent(&help), "{t} -h:\n{help}");
        check_page(&p.join(format!("share/man/man1/{t}.1")), &help);
        for sub in help_subcommands(&help) {
            let sub_help = run(Command::new(&bin).args([&sub, "--help"]));
            assert!(ends_with_equivalent(&sub_help), "{t} {sub} -h:\n{sub_help}");
            check_page(&p.join(format!("share/man/man1/{t}-{sub}.1")), &sub_help);
        }
        let longs: Vec<String> = help_flags(&help)
            .into_iter()
            .filter(|f| f.starts_with("--"))
            .collect();
        for (file, form) in [
            (format!("share/bash-completion/completions/{t}"), "--"),
            (format!("share/zsh/site-functions/_{t}"), "--"),
            (format!("share/fish/vendor_completions.d/{t}.fish"), "-l "),
        ] {
            let text = std::fs::read_to_string(p.join(&file)).unwrap();
            for l in &longs {
                let want = format!("{form}{}", &l[2..]);
                assert!(text.contains(&want), "{file} lacks {want}");
            }
        }
    }
    // Progress goes to a terminal only: with stderr a pipe, a successful run says nothing there.
    let out = Command::new(p.join("bin/flow-stat"))
        .arg(root().join("testdata/2010-11-09"))
        .env("TERM", "xterm")
        .output()
        .unwrap();
    assert!(out.status.success() && !out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let hunt_help = run(Command::new(p.join("bin/flow-hunt")).arg("--help"));
    assert!(help_subcommands(&hunt_help).contains(&"scan".to_string()));

    install(&["--uninstall"]);
    let left: Vec<_> = walk(p).into_iter().filter(|f| f.is_file()).collect();
    assert!(left.is_empty(), "left after --uninstall: {left:?}");
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(walk(&p));
        }
        v.push(p);
    }
    v
}
