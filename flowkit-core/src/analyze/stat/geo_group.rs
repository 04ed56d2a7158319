//! Group-by keys looked up in `--geoip` databases (`--top src_country,dstport`): the flows are
//! grouped by the address the looked-up field belongs to, then the groups are folded by the
//! looked-up value, so each distinct address is looked up once, not each flow.
//!
//! A group's flows, packets and octets add up when groups fold; its duration becomes the span
//! from the earliest start to the latest end of the folded groups, and the rates follow from
//! those. Distinct counts (`--distinct`) do not add up and are refused with looked-up keys, as
//! are `--bin` and `--biflow`. An address no network of the database holds is folded into the
//! value `-`.

use super::group::{parse_group_keys, GroupBy, GroupKey, KeyText};
use super::measure::{self, Measure, Measured, Tally};
use crate::enrich::geo::{GeoField, GeoIp};
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
}

/// Reads a `--top` list; `None` when it names no looked-up field (then [`parse_group_keys`]
/// alone serves).
pub fn plan(list: &str) -> Result<Option<GeoGrouping>, String> {
    let words: Vec<&str> = list.split(',').map(str::trim).collect();
    if !words.iter().any(|w| GeoField::parse(w).is_some()) {
        return Ok(None);
    }
    let mut under: Vec<String> = Vec::new();
    let mut columns = Vec::new();
    let at = |name: &str, under: &mut Vec<String>| match under.iter().position(|u| u == name) {
        Some(i) => i,
        None => {
            under.push(name.to_string());
            under.len() - 1
        }
    };
    for w in &words {
        let source = match GeoField::parse(w) {
            Some(g) => {
                let addr = if g.is_src() { "srcaddr" } else { "dstaddr" };
                Source::Geo(g, at(addr, &mut under))
            }
            None => Source::Key(at(w, &mut under)),
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

    /// Fails unless `geo` answers every looked-up key.
    pub fn check(&self, geo: &GeoIp) -> Result<(), String> {
        for (_, s) in &self.columns {
            if let Source::Geo(g, _) = s {
                geo.check(*g).map_err(|e| e.to_string())?;
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
        geo: &GeoIp,
        n: usize,
        by: Measure,
    ) -> (Vec<(Vec<KeyText>, Measured)>, usize) {
        let mut looked: HashMap<(String, GeoField), String> = HashMap::new();
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
                                .and_then(|ip| geo.value(g, ip, ip));
                            value.map_or("-".to_string(), |v| v.to_string())
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
