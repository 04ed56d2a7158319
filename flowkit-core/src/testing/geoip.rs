//! MaxMind's test databases (`testdata/geoip/`) and the JSON they were built from: what a
//! lookup must answer, read from the JSON, not from the database.

use super::testdata;
use crate::enrich::geo::unalias_v4;
use ipnet::IpNet;
use serde_json::Value;
use std::net::IpAddr;

/// The networks of a source JSON file (`GeoIP2-Country-Test`, `GeoLite2-ASN-Test`) with their
/// records; IPv4 networks written in the IPv6 tree (`::67.43.156.0/120`) as IPv4.
pub fn source(name: &str) -> Vec<(IpNet, Value)> {
    let text = std::fs::read_to_string(testdata::path(&format!("geoip/{name}.json"))).unwrap();
    let all: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&text).unwrap();
    all.into_iter()
        .flat_map(|m| m.into_iter())
        .map(|(net, v)| (unalias_v4(net.parse::<IpNet>().unwrap()), v))
        .collect()
}

/// The record of the most specific network holding `ip`.
pub fn most_specific(nets: &[(IpNet, Value)], ip: IpAddr) -> Option<&Value> {
    nets.iter()
        .filter(|(n, _)| n.contains(&ip))
        .max_by_key(|(n, _)| n.prefix_len())
        .map(|(_, v)| v)
}

/// The country code the JSON gives `ip` (its location, else where it is registered).
pub fn country(nets: &[(IpNet, Value)], ip: IpAddr) -> Option<String> {
    let v = most_specific(nets, ip)?;
    let code = v["country"]["iso_code"]
        .as_str()
        .or(v["registered_country"]["iso_code"].as_str())?;
    Some(code.to_string())
}

/// The AS number and organisation the JSON gives `ip`.
pub fn asn(nets: &[(IpNet, Value)], ip: IpAddr) -> Option<(u32, String)> {
    let v = most_specific(nets, ip)?;
    Some((
        v["autonomous_system_number"].as_u64()? as u32,
        v["autonomous_system_organization"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    ))
}

/// The first and last address of every network, but for IPv4 space inside the IPv6 tree
/// (`::/96`, `::ffff:0:0/96`, `2002::/16`, which the database builder aliases to the IPv4
/// networks).
pub fn probes(nets: &[(IpNet, Value)]) -> Vec<IpAddr> {
    nets.iter()
        .filter(|(n, _)| match n {
            IpNet::V6(v) => {
                let first = v.network().segments()[0];
                v.prefix_len() >= 32 && first != 0 && first != 0x2002
            }
            IpNet::V4(_) => true,
        })
        .flat_map(|(n, _)| [n.network(), n.broadcast()])
        .collect()
}
