//! Tests only: the matrix in `tests/forms.rs` runs every reading tool on every form an input can
//! take (archive path, directory, glob, flow-tools file, pipes with and without block
//! references, concatenated archives and streams, FIFOs) and checks they all give the same
//! output. It lives in its own crate because it runs the binaries of several tool crates.
