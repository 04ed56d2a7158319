//! Tests of the data path: the column and record paths give the same flows.

use super::column::columns;
use super::record::flow;
use super::FlowCtx;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use crate::netflow::options::Sampling;
use crate::netflow::template::{walk_records, FieldSpec, Template};

/// The column-at-a-time path and the record path give the same flows.
#[test]
fn column_and_record_paths_agree() {
    let f = |id, len| FieldSpec {
        id,
        enterprise: 0,
        len,
    };
    // IPv6 and IPv4 mixed per template, ICMP type/code, sampler id, uptime times.
    let fields = vec![
        f(27, 16),
        f(12, 4),
        f(7, 2),
        f(11, 2),
        f(4, 1),
        f(32, 2),
        f(2, 4),
        f(1, 8),
        f(22, 4),
        f(21, 4),
        f(48, 1),
        f(999, 3),
    ];
    let t = Template::compile(300, fields, false, 0, true).unwrap();
    assert!(t.columns.is_some());
    let mut body = Vec::new();
    for i in 0..7u8 {
        body.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i]);
        body.extend_from_slice(&[
            10,
            0,
            0,
            i,
            0,
            80 + i,
            1,
            187,
            if i % 2 == 0 { 1 } else { 6 },
        ]);
        body.extend_from_slice(&[3, i, 0, 0, 0, i + 1]);
        body.extend_from_slice(&(i as u64 * 1000).to_be_bytes());
        body.extend_from_slice(&(1000 * i as u32).to_be_bytes());
        body.extend_from_slice(&(1500 * i as u32).to_be_bytes());
        body.extend_from_slice(&[i % 3, 9, 9, 9]);
    }
    body.extend_from_slice(&[0, 0, 0]); // padding
    let mut sampling = Sampling::default();
    sampling.by_sampler.insert(1, 10);
    sampling.by_sampler.insert(2, 20);
    sampling.default_interval = Some(5);
    let ctx = FlowCtx {
        version: 9,
        export_ms: 1_289_311_200_000,
        uptime_ms: Some(60_000),
        sys_init_ms: None,
    };
    let base = FlowRecord {
        exporter: "192.0.2.1".parse().unwrap(),
        engine_id: 4,
        sampling_interval: 5,
        ..FlowRecord::default()
    };
    let mut by_columns = FlowBlockBuf::default();
    let n = columns(
        t.columns.as_ref().unwrap(),
        &body,
        &base,
        &ctx,
        &sampling,
        &mut by_columns,
    );
    let mut by_records = FlowBlockBuf::default();
    walk_records(&t.layout, &body, &mut Vec::new(), |rec, ops| {
        by_records.push(&flow(rec, ops, &base, &ctx, &sampling));
    })
    .unwrap();
    assert_eq!(n, 7);
    let a: Vec<_> = by_columns.view().records().collect();
    let b: Vec<_> = by_records.view().records().collect();
    assert_eq!(a, b);
    assert_eq!(
        a[2].dst_port,
        3 << 8 | 2,
        "ICMP type/code replaces the port"
    );
    assert_eq!(a[1].dst_port, 443);
    assert_eq!(
        a.iter().map(|r| r.sampling_interval).collect::<Vec<_>>(),
        vec![5, 10, 20, 5, 10, 20, 5]
    );
}

/// Templates whose times the column path fills without per-record logic (one start and
/// one end field of any kind, perhaps ICMP type/code) give what the record path gives, in
/// every kind of header context, including uptimes that wrapped or lie ahead.
#[test]
fn simple_time_columns_agree_with_the_record_path() {
    let f = |id, len| FieldSpec {
        id,
        enterprise: 0,
        len,
    };
    // (start IE, end IE, field length): uptime, seconds, milliseconds, NTP.
    let starts = [(22, 4), (150, 4), (152, 8), (156, 8)];
    let ends = [(21, 4), (151, 4), (153, 8), (157, 8)];
    let contexts = [
        (9, Some(60_000), None),
        (9, Some(5), None), // uptime just after boot: record times ahead of it or wrapped
        (10, None, Some(1_289_000_000_000)),
        (10, Some(60_000), None),
        (10, None, None), // IPFIX uptimes with nothing to anchor them
    ];
    for (start, end) in starts
        .iter()
        .flat_map(|s| ends.iter().map(move |e| (*s, *e)))
    {
        for icmp in [false, true] {
            let mut fields = vec![f(8, 4), f(4, 1), f(11, 2), f(2, 3), f(1, 8)];
            fields.push(f(start.0, start.1));
            fields.push(f(end.0, end.1));
            if icmp {
                fields.push(f(32, 2));
            }
            let t = Template::compile(300, fields, false, 0, true).unwrap();
            let plan = t.columns.as_ref().unwrap();
            assert!(plan.simple.is_some(), "{start:?} {end:?} {icmp}");
            let mut body = Vec::new();
            for i in 0..9u32 {
                body.extend_from_slice(&(0x0a00_0000 + i).to_be_bytes());
                body.push(if i % 3 == 0 { 1 } else { 17 });
                body.extend_from_slice(&(53 + i as u16).to_be_bytes());
                body.extend_from_slice(&[0, 1, i as u8]);
                body.extend_from_slice(&(1000 * i as u64).to_be_bytes());
                for (ie, len) in [start, end] {
                    let v: u64 = match ie {
                        22 | 21 => u64::from(i.wrapping_mul(7919).wrapping_sub(3)),
                        150 | 151 => 1_289_300_000 + u64::from(i),
                        152 | 153 => 1_289_300_000_000 + u64::from(i) * 1111,
                        _ => ((3_498_300_000 + u64::from(i)) << 32) | u64::from(i) << 28,
                    };
                    body.extend_from_slice(&v.to_be_bytes()[8 - len as usize..]);
                }
                if icmp {
                    body.extend_from_slice(&[3, i as u8]);
                }
            }
            for (version, uptime_ms, sys_init_ms) in contexts {
                let ctx = FlowCtx {
                    version,
                    export_ms: 1_289_311_200_000,
                    uptime_ms,
                    sys_init_ms,
                };
                let base = FlowRecord {
                    exporter: "192.0.2.1".parse().unwrap(),
                    sampling_interval: 5,
                    ..FlowRecord::default()
                };
                let sampling = Sampling::default();
                let mut by_columns = FlowBlockBuf::default();
                let n = columns(plan, &body, &base, &ctx, &sampling, &mut by_columns);
                let mut by_records = FlowBlockBuf::default();
                walk_records(&t.layout, &body, &mut Vec::new(), |rec, ops| {
                    by_records.push(&flow(rec, ops, &base, &ctx, &sampling));
                })
                .unwrap();
                assert_eq!(n, 9);
                let a: Vec<_> = by_columns.view().records().collect();
                let b: Vec<_> = by_records.view().records().collect();
                assert_eq!(a, b, "{start:?} {end:?} icmp {icmp} {ctx:?}");
                assert_eq!(a[3].packets, 0x0103);
            }
        }
    }
}
