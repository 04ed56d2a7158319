//! A tool's `main`, its man pages and its shell completions, all from the one clap definition of
//! its arguments. [`tool_main`] parses the arguments (with a line naming the flow-tools
//! equivalent added to `-h`), or, when the environment names a directory in
//! [`WRITE_DOCS_ENV`], writes the tool's man pages (one per subcommand too) and its bash, zsh
//! and fish completions there and exits: `install.sh` and the Debian package build call every
//! tool so, and nothing is copied by hand.

use crate::report::{exit_with, ToolError};
use clap::{ArgMatches, Command, FromArgMatches, Parser};
use clap_complete::Shell;
use std::io::{self, Write};
use std::path::Path;

/// The environment variable that makes a tool write its man pages and completions into the
/// directory it names (`man/man1/`, `completions/{bash,zsh,fish}/`) instead of running.
pub const WRITE_DOCS_ENV: &str = "FLOWKIT_WRITE_DOCS";

/// Every flowkit tool and what a flow-tools (or nfdump) user knows it as: the `-h` line and the
/// man pages' SEE ALSO come from here.
pub const FLOW_TOOLS_EQUIVALENTS: &[(&str, &str)] = &[
    ("flow-capture", "flow-capture (nfdump: nfcapd)"),
    (
        "flow-import",
        "flow-import (nfdump: nfcapd -f / nfdump -r to read pcaps)",
    ),
    ("flow-cat", "flow-cat (nfdump: nfdump -r / -R)"),
    (
        "flow-nfilter",
        "flow-nfilter, flow-filter (nfdump: a filter expression)",
    ),
    ("flow-print", "flow-print (nfdump: nfdump -o)"),
    ("flow-sort", "flow-sort (nfdump: nfdump -O)"),
    ("flow-stat", "flow-stat, flow-report (nfdump: nfdump -s)"),
    (
        "flow-hunt",
        "flow-dscan (scans only); none for the other detectors",
    ),
    ("flow-nat", "none (flow-tools has no NAT log lookup)"),
    (
        "flow-export",
        "flow-export (here: Parquet for DuckDB/Spark/Trino, and ft-v05 files with --flow-tools)",
    ),
    ("flow-gen", "flow-gen"),
    ("flow-send", "flow-send (nfdump: nfreplay)"),
    ("flow-anon", "none (nfdump: nfanon)"),
    ("flow-fanout", "flow-fanout (nfdump: nfcapd -R)"),
];

/// The `-h` line naming the flow-tools equivalent of `tool`.
pub fn equivalent_line(tool: &str) -> String {
    let eq = FLOW_TOOLS_EQUIVALENTS
        .iter()
        .find(|(t, _)| *t == tool)
        .map_or("none", |(_, e)| e);
    format!("flow-tools equivalent: {eq}. Manual: man {tool}.")
}

/// A tool's whole `main`: parses the arguments of `A` (see [`tool_main_with`]) and runs `run`.
pub fn tool_main<A: Parser>(tool: &str, run: impl FnOnce(A) -> Result<(), ToolError>) -> ! {
    tool_main_with(tool, A::command(), run)
}

/// [`tool_main`] with the tool's clap command given (a tool that adjusts its derived command,
/// as flow-stat does). Writes the docs and exits when [`WRITE_DOCS_ENV`] is set.
pub fn tool_main_with<A: FromArgMatches>(
    tool: &str,
    cmd: Command,
    run: impl FnOnce(A) -> Result<(), ToolError>,
) -> ! {
    // Every -h ends with the line, a subcommand's too (flow-hunt scan -h).
    let line = equivalent_line(tool);
    let mut cmd = cmd
        .after_help(line.clone())
        .mut_subcommands(|sub| sub.after_help(line.clone()));
    if let Some(dir) = std::env::var_os(WRITE_DOCS_ENV) {
        let code = match write_docs(&mut cmd, Path::new(&dir)) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
                0
            }
            Err(e) => {
                crate::warn(tool, &format!("cannot write the docs: {e}"));
                1
            }
        };
        std::process::exit(code);
    }
    let matches: ArgMatches = cmd.clone().get_matches();
    let args = A::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit());
    exit_with(tool, run(args))
}

/// Writes the man pages of `cmd` and of each of its subcommands (`flow-hunt-scan.1`) into
/// `dir/man/man1/`, and its completions into `dir/completions/bash/NAME`,
/// `dir/completions/zsh/_NAME` and `dir/completions/fish/NAME.fish`. Returns the files written.
pub fn write_docs(cmd: &mut Command, dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    cmd.build();
    let name = cmd.get_name().to_string();
    let man_dir = dir.join("man").join("man1");
    std::fs::create_dir_all(&man_dir)?;
    let mut written = Vec::new();
    let mut pages = vec![(name.clone(), cmd.clone())];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let page = format!("{name}-{}", sub.get_name());
        pages.push((page.clone(), sub.clone().name(page)));
    }
    for (page, c) in pages {
        let path = man_dir.join(format!("{page}.1"));
        let mut out = Vec::new();
        render_man(c, &name, &mut out)?;
        std::fs::write(&path, out)?;
        written.push(path);
    }
    for (shell, sub, file) in [
        (Shell::Bash, "bash", name.clone()),
        (Shell::Zsh, "zsh", format!("_{name}")),
        (Shell::Fish, "fish", format!("{name}.fish")),
    ] {
        let d = dir.join("completions").join(sub);
        std::fs::create_dir_all(&d)?;
        let path = d.join(file);
        let mut out = Vec::new();
        clap_complete::generate(shell, cmd, name.clone(), &mut out);
        std::fs::write(&path, out)?;
        written.push(path);
    }
    Ok(written)
}

/// Renders the man page of `cmd` (section 1, manual "flowkit") with a FLOW-TOOLS EQUIVALENT
/// section (on the tool's own page) and a SEE ALSO section naming the other flowkit tools; `tool`
/// is the program `cmd` belongs to (`cmd` is a subcommand's page when its name differs).
pub fn render_man(cmd: Command, tool: &str, out: &mut dyn Write) -> io::Result<()> {
    let top = cmd.get_name() == tool;
    // The -h line (after_help) becomes the section below rather than clap_mangen's "EXTRA".
    let man = clap_mangen::Man::new(cmd.after_help(None::<&str>))
        .section("1")
        .manual("flowkit")
        .source(format!("flowkit {}", env!("CARGO_PKG_VERSION")));
    man.render(out)?;
    if top {
        let eq = FLOW_TOOLS_EQUIVALENTS
            .iter()
            .find(|(t, _)| *t == tool)
            .map_or("none", |(_, e)| e);
        writeln!(out, ".SH \"FLOW-TOOLS EQUIVALENT\"")?;
        writeln!(out, "{}", eq.replace('\\', "\\e").replace('-', "\\-"))?;
    }
    let others: Vec<String> = FLOW_TOOLS_EQUIVALENTS
        .iter()
        .filter(|(t, _)| *t != tool)
        .map(|(t, _)| format!("\\fB{}\\fR(1)", t.replace('-', "\\-")))
        .collect();
    writeln!(out, ".SH \"SEE ALSO\"")?;
    writeln!(out, "{}", others.join(", "))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command like a tool's: flags with and without short forms, a subcommand.
    fn sample() -> Command {
        Command::new("flow-sample")
            .about("Samples flows")
            .arg(clap::Arg::new("output").short('o').long("output"))
            .arg(
                clap::Arg::new("no-mmap")
                    .long("no-mmap")
                    .action(clap::ArgAction::SetTrue),
            )
            .subcommand(Command::new("scan").arg(clap::Arg::new("min-ports").long("min-ports")))
            .after_help(equivalent_line("flow-cat"))
    }

    #[test]
    fn man_page_names_every_flag_and_the_equivalent() {
        let mut out = Vec::new();
        render_man(sample().name("flow-cat"), "flow-cat", &mut out).unwrap();
        let page = String::from_utf8(out).unwrap();
        for flag in [
            "\\-o",
            "\\-\\-output",
            "\\-\\-no\\-mmap",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(page.contains(flag), "{flag} missing in\n{page}");
        }
        assert!(
            page.contains(".SH \"FLOW-TOOLS EQUIVALENT\"\nflow\\-cat (nfdump"),
            "{page}"
        );
        assert!(!page.contains(".SH EXTRA"), "{page}");
        assert!(
            !page.contains("\\fBflow\\-cat\\fR(1)"),
            "SEE ALSO names its own tool"
        );
    }

    #[test]
    fn writes_pages_for_subcommands_and_three_shells() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_docs(&mut sample(), dir.path()).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "man/man1/flow-sample.1",
                "man/man1/flow-sample-scan.1",
                "completions/bash/flow-sample",
                "completions/zsh/_flow-sample",
                "completions/fish/flow-sample.fish"
            ]
        );
        let scan = std::fs::read_to_string(dir.path().join(&names[1])).unwrap();
        assert!(scan.contains("\\-\\-min\\-ports"), "{scan}");
        let fish = std::fs::read_to_string(dir.path().join(&names[4])).unwrap();
        assert!(fish.contains("-l no-mmap"), "{fish}");
    }

    #[test]
    fn every_tool_has_an_equivalent_line() {
        for (tool, eq) in FLOW_TOOLS_EQUIVALENTS {
            assert!(equivalent_line(tool).contains(eq));
        }
        assert!(equivalent_line("flow-unknown").contains("equivalent: none"));
    }
}
