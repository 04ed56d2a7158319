//! Tests only: `tests/install.rs` runs `install.sh` into a temporary prefix and checks that
//! every tool of the workspace was installed with a man page that names each of the flags its
//! `--help` lists (and one per subcommand), bash, zsh and fish completions, the flow-tools
//! equivalent on `-h`, and that `--uninstall` removes it all again. It lives in its own crate
//! because it runs the binaries of all the tool crates.
