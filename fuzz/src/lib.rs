//! The fuzz crate: targets in `fuzz_targets/` (harnesses in `flowkit_core::testing::fuzzing`), seed corpora
//! made by `make-seeds` from the repository's `testdata/`.
