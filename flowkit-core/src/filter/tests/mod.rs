//! Tests of the filter language as a whole: every primitive type and match field, the
//! AND/OR/invert semantics, variables, errors, flow-tools' own files, and a property test of
//! the compiled evaluation against the interpreter.

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use jiff::tz::TimeZone;
use std::net::IpAddr;

const T: i64 = 1_289_312_405_000; // 2010-11-09 14:20:05 UTC

fn utc() -> CompileOptions {
    CompileOptions { tz: TimeZone::UTC }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn base() -> FlowRecord {
    FlowRecord {
        start_ms: T,
        end_ms: T + 1000,
        src_addr: ip("192.0.2.1"),
        dst_addr: ip("198.51.100.1"),
        src_port: 40000,
        dst_port: 40001,
        protocol: 17,
        packets: 1,
        octets: 100,
        ..FlowRecord::default()
    }
}

fn load(text: &str, vars: &Variables) -> FilterFile {
    FilterFile::parse(text, "test.cfg", vars).unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

/// Runs definition `def` over `recs` both compiled (in one block, and one v6-widened block)
/// and interpreted; asserts they agree and returns which records passed.
fn run_with(file: &FilterFile, def: &str, recs: &[FlowRecord], opts: &CompileOptions) -> Vec<bool> {
    let compiled = file.compile(def, opts).unwrap_or_else(|e| panic!("{e}"));
    let interp = file.interpreter(def, opts).unwrap();
    let want: Vec<bool> = recs.iter().map(|r| interp.matches(r)).collect();
    let block = FlowBlockBuf::from_records(recs);
    let mut got = Vec::new();
    let n = compiled.select(&block.view(), &mut got);
    assert_eq!(got, want, "compiled and interpreted disagree for `{def}`");
    assert_eq!(n, want.iter().filter(|&&b| b).count());
    // The same flows in a block whose address columns are 16 bytes wide.
    let mut wide = recs.to_vec();
    wide.push(FlowRecord {
        src_addr: ip("2001:db8::dead"),
        ..base()
    });
    let wblock = FlowBlockBuf::from_records(&wide);
    compiled.select(&wblock.view(), &mut got);
    assert_eq!(
        &got[..recs.len()],
        &want[..],
        "wide block differs for `{def}`"
    );
    want
}

fn run(text: &str, def: &str, recs: &[FlowRecord]) -> Vec<bool> {
    run_with(&load(text, &Variables::new()), def, recs, &utc())
}

fn error_of(text: &str) -> Diagnostic {
    match FilterFile::parse(text, "test.cfg", &Variables::new()) {
        Err(FilterError::Located(d)) => *d,
        Err(e) => panic!("not located: {e}"),
        Ok(_) => panic!("no error for:\n{text}"),
    }
}

type Mutate = fn(&mut FlowRecord);

mod language;
/// Random filters and flows, also used by the scan's tests of frames.
pub(crate) mod random;
/// One match field: a primitive that permits something, a flow it passes and one it rejects.
mod semantics;
