//! Answering questions over flows: statistics and flow-tools' flow-stat reports ([`stat`]) and
//! the hunting detectors ([`hunt`]), sorting flows by keys ([`sort`]), over the address-keyed maps and report helpers both
//! use ([`keys`]). Sits above filter, print and pipeline.

pub mod hunt;
pub mod keys;
pub mod sort;
pub mod stat;
