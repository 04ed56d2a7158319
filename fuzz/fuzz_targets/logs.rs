//! Fuzz target `logs`: see `flowkit_core::testing::fuzz_text::logs` for what it does and checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flowkit_core::testing::fuzz_text::logs(data));
