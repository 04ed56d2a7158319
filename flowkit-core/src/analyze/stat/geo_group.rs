//! Group-by keys looked up in `--geoip` databases (`--top src_country,dstport`) or an
//! `--ifnames` map (`--top in_if_name`): the flows are grouped by what the looked-up field is
//! looked up from (the address; the exporter and the interface index), then the groups are
//! folded by the looked-up value, so each distinct address or interface is looked up once, not
//! each flow.
//!
//! A group's flows, packets and octets add up when groups fold; its duration becomes the span
//! from the earliest start to the latest end of the folded groups, and the rates follow from
//! those. Distinct counts (`--distinct`) do not add up and are refused with looked-up keys, as
//! are `--bin` and `--biflow`. An address no network of the database holds, and an interface
//! the map does not name (or names without a description), is folded into the value `-`.

use super::group::{parse_group_keys, GroupBy, GroupKey, KeyText};
use super::measure::{self, Measure, Measured, Tally};
use crate::enrich::geo::{GeoField, GeoIp};
use crate::enrich::ifnames::{IfField, IfNames};
use crate::model::fields::lookup;
use std::collections::HashMap;
use std::net::IpAddr;

/// What a written key list asks for when it names looked-up fields.
#[derive(Clone, Debug)]
pub struct GeoGrouping {
    /// The keys flows are grouped by first (looked-up fields replaced by their address).
    pub keys: Vec<GroupKey>,
    /// Each key as written, and what it is made from.
    columns: Vec<(String, Source)>,
}

#[derive(Clone, Copy, Debug)]
enum Source {
    /// The grouped key at this position.
    Key(usize),
    /// A field looked up from the address key at this position.
    Geo(GeoField, usize),
    /// An interface field looked up from the exporter key and the interface key at these
    /// positions.
    If(IfField, usize, usize),
}

/// What looked-up keys are looked up in: the `--geoip` databases and the `--ifnames` map.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lookups<'a> {
    /// The country and AS databases.
    pub geo: Option<&'a GeoIp>,
    /// The interface names.
    pub ifnames: Option<&'a IfNames>,
}

/// Reads a `--top` list; `None` when it names no looked-up field (then [`parse_group_keys`]
/// alone serves).
pub fn plan(list: &str) -> Result<Option<GeoGrouping>, String> {
    let words: Vec<&str> = list.split(',').map(str::trim).collect();
    let looked = |w: &str| GeoField::parse(w).is_some() || IfField::parse(w).is_some();
    if !words.iter().any(|w| looked(w)) {
        return Ok(None);
    }
    let mut under: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    // A key grouped by once, however it is written (`exporter` and `router` are one field).
    let same = |a: &str, b: &str| match (lookup(a), lookup(b)) {
        (Some(x), Some(y)) => x.name == y.name,
        _ => a == b,
    };
    let at = |name: &str, under: &mut Vec<String>| match under.iter().position(|u| same(u, name)) {
        Some(i) => i,
        None => {
            under.push(name.to_string());
            under.len() - 1
        }
    };
    for w in &words {
        let source = match (GeoField::parse(w), IfField::parse(w)) {
            (Some(g), _) => {
                let addr = if g.is_src() { "srcaddr" } else { "dstaddr" };
                Source::Geo(g, at(addr, &mut under))
            }
            (None, Some(f)) => {
                let index = if f.is_input() {
                    "input_if"
                } else {
                    "output_if"
                };
                let e = at("exporter", &mut under);
                Source::If(f, e, at(index, &mut under))
            }
            (None, None) => Source::Key(at(w, &mut under)),
        };
        if columns.iter().any(|(n, _): &(String, Source)| n == w) {
            return Err(format!("{w:?} is a key already"));
        }
        columns.push((w.to_string(), source));
    }
    Ok(Some(GeoGrouping {
        keys: parse_group_keys(&under.join(","))?,
        columns,
    }))
}

impl GeoGrouping {
    /// The keys as written: the CSV columns' names.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Fails unless `with` answers every looked-up key.
    pub fn check(&self, with: Lookups<'_>) -> Result<(), String> {
        for (_, s) in &self.columns {
            match (s, with.geo, with.ifnames) {
                (Source::Geo(g, _), Some(geo), _) => geo.check(*g).map_err(|e| e.to_string())?,
                (Source::Geo(g, _), None, _) => {
                    return Err(format!(
                        "{}: looked-up keys need --geoip FILE.mmdb",
                        g.name()
                    ))
                }
                (Source::If(f, ..), _, None) => {
                    return Err(crate::enrich::IfNamesError::Missing { field: f.name() }.to_string())
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The `n` folded groups (all with 0) meeting `group`'s thresholds with the most `by`,
    /// ranked as [`GroupBy::top`] ranks, one value per key as written; and how many folded
    /// groups there are in all.
    pub fn top(
        &self,
        group: &GroupBy,
        with: Lookups<'_>,
        n: usize,
        by: Measure,
    ) -> (Vec<(Vec<KeyText>, Measured)>, usize) {
        let mut looked: HashMap<(String, GeoField), String> = HashMap::new();
        let mut named: HashMap<(String, String, IfField), String> = HashMap::new();
        let mut folded: HashMap<Vec<KeyText>, Tally> = HashMap::new();
        group.each_text(|texts, t| {
            let key: Vec<KeyText> = (self.columns.iter())
                .map(|(_, s)| match *s {
                    Source::Key(i) => texts[i].clone(),
                    Source::Geo(g, i) => looked
                        .entry((texts[i].clone(), g))
                        .or_insert_with(|| {
                            let value = texts[i]
                                .parse::<IpAddr>()
                                .ok()
                                .and_then(|ip| with.geo?.value(g, ip, ip));
                            value.map_or("-".to_string(), |v| v.to_string())
                        })
                        .clone(),
                    Source::If(f, e, i) => named
                        .entry((texts[e].clone(), texts[i].clone(), f))
                        .or_insert_with(|| {
                            let exporter = texts[e].parse::<IpAddr>().ok();
                            let index = texts[i].parse::<u32>().ok();
                            let value = match (with.ifnames, exporter, index) {
                                (Some(m), Some(a), Some(x)) => m.value(f, a, x, x),
                                _ => None,
                            };
                            value.unwrap_or("-").to_string()
                        })
                        .clone(),
                })
                .collect();
            folded.entry(key).or_default().absorb(t);
        });
        let all = folded.len();
        let mut rows: Vec<(Vec<KeyText>, Measured)> = folded
            .into_iter()
            .map(|(k, t)| (k, t.measured(0)))
            .filter(|(_, m)| measure::passes(m, group.thresholds()))
            .collect();
        super::rank(&mut rows, n, by);
        (rows, all)
    }
}
