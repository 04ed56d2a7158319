//! Fuzz harnesses for text inputs added with the analyst and other-logs work: nfdump-syntax
//! expressions (`expr` target) and EVE / conntrack JSON lines (`logs` target).

use super::fuzzing::filter_sample;
use crate::filter::expr::Expression;
use crate::logs::conntrack::read_conntrack;
use crate::logs::eve::{read_eve, EveEvents};
use crate::logs::LineError;
use crate::model::block::{ColumnSet, FlowBlockBuf};

/// `expr` target: parses the input as an `-e` expression; a parse error's span lies inside the
/// input; a parsed one, compiled and evaluated on [`filter_sample`] over a block holding only
/// the columns it says it reads, selects exactly what the record-by-record reference
/// (`Node::matches`) selects.
pub fn expr(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let e = match Expression::parse(&text) {
        Ok(e) => e,
        Err(err) => {
            assert!(
                err.span.start <= err.span.end && err.span.end <= text.len(),
                "{err:?}"
            );
            let _ = err.to_string();
            return;
        }
    };
    let recs = filter_sample();
    let block = FlowBlockBuf::from_records(&recs);
    let f = e.compile();
    let view = block.view();
    let partial = view.only(ColumnSet::of(&f.columns()));
    let mut rows = Vec::new();
    let n = f.select(&partial, &mut rows);
    assert_eq!(n, rows.iter().filter(|&&r| r).count());
    for (k, r) in recs.iter().enumerate() {
        assert_eq!(rows[k], e.root.matches(r), "`{text}` on flow {k}: {r:?}");
    }
}

/// `logs` target: reads the input as Suricata EVE JSON (each event choice) and as ulogd2
/// conntrack JSON. Checks: no panic; every reported line exists in the input and is named with
/// the input's name; counts add up.
pub fn logs(data: &[u8]) {
    let lines = data.split(|&b| b == b'\n').count() as u64;
    let check = |e: &LineError| {
        assert_eq!(e.origin, "fuzz.json");
        assert!(e.line >= 1 && e.line <= lines, "{e}");
        let _ = e.to_string();
    };
    for events in [EveEvents::Auto, EveEvents::Flow, EveEvents::Netflow] {
        let mut flows = 0u64;
        let c = read_eve(data, "fuzz.json", events, &mut |e| check(e), &mut |_| {
            flows += 1;
            Ok(())
        })
        .expect("reading memory cannot fail");
        assert_eq!(c.flows, flows);
        assert!(c.lines <= lines);
        assert!(c.flows + c.not_chosen <= c.flow_events + c.netflow_events);
    }
    let mut conns = 0u64;
    let c = read_conntrack(data, "fuzz.json", &mut |e| check(e), &mut |x| {
        assert!(x.record().end_ms >= x.record().start_ms);
        conns += 1;
        Ok(())
    })
    .expect("reading memory cannot fail");
    assert_eq!(c.connections, conns);
    assert!(c.connections <= c.new_events + c.destroy_events);
}
