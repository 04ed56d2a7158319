//! Enrichment: facts about a flow that the flow does not carry, looked up in databases or files
//! the user gives. [`geo`]: country and AS number/organisation of its addresses from
//! MaxMind-format (`.mmdb`) databases. [`ifnames`]: names and descriptions of its interfaces
//! from a small mapping file. [`community`]: the Community ID hash other tools log for the
//! same connection.

pub mod community;
pub mod geo;
pub mod ifnames;

pub use geo::{GeoError, GeoField, GeoIp};
pub use ifnames::{IfField, IfNames, IfNamesError};
