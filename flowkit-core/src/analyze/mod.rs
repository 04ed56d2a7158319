//! Answering questions over flows: statistics and flow-tools' flow-stat reports ([`stat`]) and
//! the hunting detectors ([`hunt`]). Sits above filter, print and pipeline.

pub mod hunt;
pub mod stat;
