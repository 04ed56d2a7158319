//! Enrichment: facts about a flow's addresses that the flow does not carry, looked up in
//! databases the user gives. [`geo`]: country and AS number/organisation from MaxMind-format
//! (`.mmdb`) databases.

pub mod geo;

pub use geo::{GeoError, GeoField, GeoIp};
