//! `--geoip FILE`: the country and AS databases a tool looks addresses up in.

use crate::ToolError;
use flowkit_core::enrich::GeoIp;
use std::path::PathBuf;
use std::sync::Arc;

/// The `--geoip` option, shared by the tools that print, group or filter by country or AS.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GeoArgs {
    /// A MaxMind-format database (GeoIP2/GeoLite2 Country, City or ASN, .mmdb) to look
    /// addresses up in (repeatable: one country and one ASN database): adds src_country,
    /// dst_country, src_asn, dst_asn, src_as_org, dst_as_org.
    #[arg(long = "geoip", value_name = "FILE.mmdb")]
    pub geoip: Vec<PathBuf>,
}

impl GeoArgs {
    /// The databases, opened (none given: `None`).
    pub fn open(&self) -> Result<Option<Arc<GeoIp>>, ToolError> {
        if self.geoip.is_empty() {
            return Ok(None);
        }
        GeoIp::open(&self.geoip)
            .map(|g| Some(Arc::new(g)))
            .map_err(|e| ToolError::Usage(format!("--geoip {e}")))
    }
}
