//! Helpers for tests, benchmarks and fuzzing: the fuzz harnesses ([`fuzzing`]) and the shipped
//! sample files ([`testdata`]). Not part of the stable API.

pub mod fuzz_text;
pub mod fuzzing;
pub mod geoip;
pub mod testdata;
