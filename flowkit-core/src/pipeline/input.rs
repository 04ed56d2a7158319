//! What the command line names: files, directories (walked in name order, which is time order
//! for dated trees), globs and `-` for stdin, expanded into [`Input`]s for the scanner.

use crate::pipeline::scan::ScanError;
use std::path::{Path, PathBuf};

/// One input named on the command line, after expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (a stream from another tool).
    Stdin,
    /// A file.
    File(PathBuf),
}

/// Expands command-line arguments: `-` is stdin, directories are walked recursively (hidden and
/// `tmp*` files skipped unless `include_tmp`), quoted globs are expanded; no argument means stdin.
pub fn expand_inputs(args: &[String], include_tmp: bool) -> Result<Vec<Input>, ScanError> {
    if args.is_empty() {
        return Ok(vec![Input::Stdin]);
    }
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let p = Path::new(a);
        if p.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(true)
                .max_depth(64)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .filter(|e| wanted_name(e.file_name(), include_tmp))
                .map(|e| e.into_path())
                .collect();
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if p.exists() {
            out.push(Input::File(p.to_path_buf()));
        } else if a.contains(['*', '?', '[']) {
            let mut found: Vec<PathBuf> = glob::glob(a)
                .map_err(|e| ScanError::BadInput(format!("{a}: bad pattern: {e}")))?
                .filter_map(|r| r.ok())
                .filter(|p| p.is_file())
                .collect();
            if found.is_empty() {
                return Err(ScanError::BadInput(format!("{a}: no file matches")));
            }
            found.sort();
            out.extend(found.into_iter().map(Input::File));
        } else {
            return Err(ScanError::BadInput(format!(
                "{a}: no such file or directory"
            )));
        }
    }
    Ok(out)
}

fn wanted_name(name: &std::ffi::OsStr, include_tmp: bool) -> bool {
    let n = name.to_string_lossy();
    !n.starts_with('.') && (include_tmp || !n.starts_with("tmp"))
}
