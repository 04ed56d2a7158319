//! Country and autonomous system of an address, from MaxMind DB files (GeoIP2/GeoLite2 Country,
//! City or ASN; DB-IP's free databases in the same format), read with the `maxminddb` crate.
//!
//! One [`GeoIp`] holds every database given; what each one answers is read from its metadata
//! (`database_type`): a type naming `ASN` answers the AS number and organisation, one naming
//! `Country`, `City` or `Enterprise` the country. The country is the ISO 3166-1 alpha-2 code of
//! where the address is (`country.iso_code`), falling back to where its block is registered
//! (`registered_country`) when the database has no location, as MaxMind's own tools do.
//! Addresses a database does not cover (private ranges, unassigned space) have no answer: an
//! empty CSV cell, JSON `null`, and no match in filters.

use maxminddb::{geoip2, Reader};
use std::net::IpAddr;
use std::path::Path;

/// What went wrong opening a database.
#[derive(Debug, thiserror::Error)]
pub enum GeoError {
    /// The file could not be read or is not a MaxMind DB.
    #[error("{path}: not a readable MaxMind DB file: {reason}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A MaxMind DB of a kind that answers neither country nor AS.
    #[error("{path}: a {kind} database answers neither country nor AS (give a Country, City or ASN database)")]
    Kind {
        /// The file.
        path: String,
        /// Its `database_type`.
        kind: String,
    },
    /// A field was asked for that none of the databases answers.
    #[error("{field} needs --geoip with {needs} database")]
    Missing {
        /// The field's name.
        field: &'static str,
        /// What kind of database answers it.
        needs: &'static str,
    },
}

/// A looked-up field of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeoField {
    /// Country of the source address.
    SrcCountry,
    /// Country of the destination address.
    DstCountry,
    /// AS number of the source address, from the ASN database.
    SrcAsn,
    /// AS number of the destination address.
    DstAsn,
    /// AS organisation of the source address.
    SrcAsOrg,
    /// AS organisation of the destination address.
    DstAsOrg,
}

/// Every looked-up field, in the order CSV writes them.
pub const GEO_FIELDS: [GeoField; 6] = [
    GeoField::SrcCountry,
    GeoField::DstCountry,
    GeoField::SrcAsn,
    GeoField::DstAsn,
    GeoField::SrcAsOrg,
    GeoField::DstAsOrg,
];

impl GeoField {
    /// The field's name: CSV column, JSON key, `--fields` and `--top` name.
    pub fn name(self) -> &'static str {
        match self {
            GeoField::SrcCountry => "src_country",
            GeoField::DstCountry => "dst_country",
            GeoField::SrcAsn => "src_asn",
            GeoField::DstAsn => "dst_asn",
            GeoField::SrcAsOrg => "src_as_org",
            GeoField::DstAsOrg => "dst_as_org",
        }
    }

    /// The field a name means (`src_country`, also `srccountry` and `sc`/`dc` as nfdump's
    /// `fmt:` tokens), if any.
    pub fn parse(name: &str) -> Option<GeoField> {
        let n = name.to_ascii_lowercase().replace(['_', '-'], "");
        GEO_FIELDS
            .into_iter()
            .find(|f| f.name().replace('_', "") == n)
            .or(match n.as_str() {
                "sc" => Some(GeoField::SrcCountry),
                "dc" => Some(GeoField::DstCountry),
                _ => None,
            })
    }

    /// True for the source address's fields.
    pub fn is_src(self) -> bool {
        matches!(
            self,
            GeoField::SrcCountry | GeoField::SrcAsn | GeoField::SrcAsOrg
        )
    }

    fn is_country(self) -> bool {
        matches!(self, GeoField::SrcCountry | GeoField::DstCountry)
    }
}

/// A looked-up value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GeoValue {
    /// An ISO country code or an AS organisation.
    Text(String),
    /// An AS number.
    Number(u32),
}

impl std::fmt::Display for GeoValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeoValue::Text(t) => f.write_str(t),
            GeoValue::Number(n) => write!(f, "{n}"),
        }
    }
}

/// An IPv4 network written in the IPv6 tree of a MaxMind database (`::a.b.c.d/96+N`, as the
/// databases' source files write them) as the IPv4 network it is; any other network as it is.
pub fn unalias_v4(net: ipnet::IpNet) -> ipnet::IpNet {
    match net {
        ipnet::IpNet::V6(v) if v.prefix_len() >= 96 && v.network().octets()[..12] == [0; 12] => {
            let o = v.network().octets();
            let a = std::net::Ipv4Addr::new(o[12], o[13], o[14], o[15]);
            ipnet::Ipv4Net::new(a, v.prefix_len() - 96)
                .expect("at most 32 bits")
                .into()
        }
        n => n,
    }
}

/// The databases given, by what they answer.
#[derive(Default)]
pub struct GeoIp {
    country: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

impl std::fmt::Debug for GeoIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoIp")
            .field("country", &self.country.is_some())
            .field("asn", &self.asn.is_some())
            .finish()
    }
}

impl GeoIp {
    /// Opens each database (a later one of the same kind replaces an earlier one).
    pub fn open<P: AsRef<Path>>(paths: &[P]) -> Result<GeoIp, GeoError> {
        let mut geo = GeoIp::default();
        for path in paths {
            let name = path.as_ref().display().to_string();
            let reader = Reader::open_readfile(path.as_ref()).map_err(|e| GeoError::Open {
                path: name.clone(),
                reason: e.to_string(),
            })?;
            let kind = reader.metadata().database_type.clone();
            if kind.contains("ASN") {
                geo.asn = Some(reader);
            } else if ["Country", "City", "Enterprise"]
                .iter()
                .any(|k| kind.contains(k))
            {
                geo.country = Some(reader);
            } else {
                return Err(GeoError::Kind { path: name, kind });
            }
        }
        Ok(geo)
    }

    /// Fails unless a database answers `field`.
    pub fn check(&self, field: GeoField) -> Result<(), GeoError> {
        let (have, needs) = if field.is_country() {
            (self.country.is_some(), "a Country or City")
        } else {
            (self.asn.is_some(), "an ASN")
        };
        if have {
            Ok(())
        } else {
            Err(GeoError::Missing {
                field: field.name(),
                needs,
            })
        }
    }

    /// The fields the databases answer, in [`GEO_FIELDS`] order.
    pub fn fields(&self) -> Vec<GeoField> {
        GEO_FIELDS
            .into_iter()
            .filter(|f| self.check(*f).is_ok())
            .collect()
    }

    /// The ISO 3166-1 alpha-2 code of the country of `ip`, if the country database knows it.
    pub fn country(&self, ip: IpAddr) -> Option<[u8; 2]> {
        let r = self.country.as_ref()?.lookup(ip).ok()?;
        let c: geoip2::Country<'_> = r.decode().ok()??;
        let code = c.country.iso_code.or(c.registered_country.iso_code)?;
        match code.as_bytes() {
            &[a, b] => Some([a, b]),
            _ => None,
        }
    }

    /// Every network of the country database whose country (as [`GeoIp::country`] decides it)
    /// is one of `codes`: what a filter on countries tests addresses against. IPv4 networks of
    /// an IPv6 database come as IPv4; the database's IPv6 aliases of IPv4 space are left out.
    pub fn country_networks(&self, codes: &[[u8; 2]]) -> Result<Vec<ipnet::IpNet>, GeoError> {
        let Some(db) = &self.country else {
            return Err(GeoError::Missing {
                field: "a country test",
                needs: "a Country or City",
            });
        };
        let bad = |e: maxminddb::MaxMindDbError| GeoError::Open {
            path: "the country database".into(),
            reason: e.to_string(),
        };
        let mut nets = Vec::new();
        for r in db.networks(Default::default()).map_err(bad)? {
            let r = r.map_err(bad)?;
            let Some(c) = r.decode::<geoip2::Country<'_>>().map_err(bad)? else {
                continue;
            };
            let Some(code) = c.country.iso_code.or(c.registered_country.iso_code) else {
                continue;
            };
            if !codes.iter().any(|k| k == code.as_bytes()) {
                continue;
            }
            let n = r.network().map_err(bad)?;
            let net = ipnet::IpNet::new(n.ip(), n.prefix())
                .expect("a prefix length within its family")
                .trunc();
            // IPv4 space inside an IPv6 tree, should the reader give it that way.
            nets.push(unalias_v4(net));
        }
        // Neighbouring networks of the same countries as one (shorter SQL, smaller tables).
        Ok(ipnet::IpNet::aggregate(&nets))
    }

    /// The AS number and organisation of `ip`, if the ASN database knows them.
    pub fn asn(&self, ip: IpAddr) -> Option<(u32, String)> {
        let r = self.asn.as_ref()?.lookup(ip).ok()?;
        let a: geoip2::Asn<'_> = r.decode().ok()??;
        Some((
            a.autonomous_system_number?,
            a.autonomous_system_organization.unwrap_or("").to_string(),
        ))
    }

    /// `field` of a flow with these addresses.
    pub fn value(&self, field: GeoField, src: IpAddr, dst: IpAddr) -> Option<GeoValue> {
        let ip = if field.is_src() { src } else { dst };
        match field {
            GeoField::SrcCountry | GeoField::DstCountry => self
                .country(ip)
                .map(|c| GeoValue::Text(String::from_utf8_lossy(&c).into_owned())),
            GeoField::SrcAsn | GeoField::DstAsn => self.asn(ip).map(|a| GeoValue::Number(a.0)),
            GeoField::SrcAsOrg | GeoField::DstAsOrg => self.asn(ip).map(|a| GeoValue::Text(a.1)),
        }
    }
}

#[cfg(test)]
mod tests;
