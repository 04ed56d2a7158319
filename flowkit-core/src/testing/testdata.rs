//! Locating the sample files under the repository's `testdata/` (for tests and benchmarks of
//! every crate in the workspace). Not part of the stable API.

use std::path::{Path, PathBuf};

/// The repository's `testdata/` directory.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata")
}

/// The path of `rel` under `testdata/`.
pub fn path(rel: &str) -> PathBuf {
    dir().join(rel)
}

/// The names of the files in `rel` under `testdata/` that end in `suffix`, sorted.
pub fn names_ending(rel: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path(rel))
        .unwrap_or_else(|e| panic!("testdata/{rel}: {e}"))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// The text of `rel` under `testdata/`, gunzipped when it ends in `.gz`.
pub fn read_text(rel: &str) -> std::io::Result<String> {
    let bytes = std::fs::read(path(rel))?;
    if !rel.ends_with(".gz") {
        return String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    }
    let mut s = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut s)?;
    Ok(s)
}

/// Writes `flows` as an archive file at `path` (the writer's defaults), for tests that build
/// their own flows and run the tools on them.
pub fn write_archive(path: &Path, flows: &[crate::model::record::FlowRecord]) {
    let opts = crate::archive::WriterOptions::default();
    let mut w = crate::archive::ArchiveFileWriter::create(path, opts).expect("create the archive");
    for f in flows {
        w.writer().push(f).expect("write a flow");
    }
    w.finish().expect("finish the archive");
}
