//! The token tables against nfdump 1.7.1's own list and the docs, parsing, and the columns a
//! format reads. The printed values are compared with nfdump's output in
//! flow-print/tests/fmt.rs.

use super::*;
use crate::model::block::FlowBlockBuf;
use crate::model::record::FlowRecord;
use crate::print::{Format, PrintOptions, Printer};

/// Every token of nfdump 1.7.1's `format_token_list` (src/output/output_fmt.c, NSEL build, as
/// Debian's `nfdump` package is built), in its order.
const NFDUMP_TOKENS: &str =
    "nfv cnt tfs ts tsr te ter tr trr td tds exp pr sa da gsa gda sn dn nh \
    nhb ra sap dap gsap gdap sp dp it ic sas das nas pas in inam out onam pkt ipkt opkt byt ibyt \
    obyt fl flg tos stos dtos dir smk dmk fwd bfd end svln dvln ismc odmc idmc osmc mpls1 mpls2 \
    mpls3 mpls4 mpls5 mpls6 mpls7 mpls8 mpls9 mpls10 mpls bps pps bpp eng lbl sc dc sloc dloc n \
    ipl opl nbid ja3 sni nbnam odid opid vrf ivrf ivrfnam evrf evrfnam nfc tevt evt xevt sgt msec \
    iacl eacl xsa xda xsp xdp xsap xdap uname nevt nsa nda nsp ndp nsap ndap pbstart pbend \
    pbstep pbsize cl sl al";

/// nfdump 1.7.1's named formats with a format string (`printmap` in src/output/output.c), which
/// nfdump also expands as `%name` inside a `fmt:` format.
const NFDUMP_NAMED: &str = "line gline long glong extended biline bilong nsel nel";

fn all_names() -> Vec<&'static str> {
    tokens()
        .map(|(t, _)| t)
        .chain(NOT_CARRIED.iter().map(|(t, _)| *t))
        .chain(REFUSED.iter().map(|(t, _)| *t))
        .chain(NAMED_FORMATS.iter().map(|(t, _)| *t))
        .collect()
}

#[test]
fn every_nfdump_token_is_printed_or_refused_once() {
    let ours = all_names();
    let theirs: Vec<&str> = NFDUMP_TOKENS
        .split_whitespace()
        .chain(NFDUMP_NAMED.split_whitespace())
        .collect();
    for t in &theirs {
        assert_eq!(ours.iter().filter(|o| *o == t).count(), 1, "%{t}");
    }
    for o in &ours {
        assert!(theirs.contains(o), "%{o} is not nfdump's");
    }
}

#[test]
fn every_field_token_has_a_layout() {
    for f in FIELDS.iter().filter(|f| !f.nfdump.is_empty()) {
        assert!(field_layout(f.column).is_some(), "%{}", f.nfdump);
    }
}

#[test]
fn text_is_kept_and_tokens_end_at_the_first_non_letter() {
    let parse = |arg: &str| NfdumpFormat::from_arg(arg).unwrap();
    let f = parse("fmt:<%ts5|%mpls>").map(|f| f.pieces);
    assert!(matches!(
        f,
        Err(PrintError::FmtNotCarried { column: 11, .. })
    ));
    let f = parse("FMT: %pr-%dap% ");
    assert!(matches!(
        f,
        Err(PrintError::FmtUnknownToken { column: 14, .. })
    ));
    let f = parse("%ts %tr");
    assert!(matches!(
        f,
        Err(PrintError::FmtNotCarried { column: 5, .. })
    ));
    assert!(matches!(parse("fmt:"), Err(PrintError::FmtEmpty)));
    assert!(NfdumpFormat::from_arg("csv").is_none());
    assert!(NfdumpFormat::from_arg("féé").is_none());
    let f = parse("fmt:é%ts5 %sa:%n").unwrap();
    let pr = |name: &str| tokens().find(|(t, _)| *t == name).unwrap().1;
    assert_eq!(
        f.pieces,
        [
            Piece::Text("é".into()),
            Piece::Token(pr("ts")),
            Piece::Text("5 ".into()),
            Piece::Token(pr("sa")),
            Piece::Text(":".into()),
            Piece::Token(Token::Computed(Computed::NewLine)),
        ]
    );
    let err = parse("fmt:é%tz").unwrap_err().to_string();
    assert_eq!(err, "fmt: unknown token %tz at column 6; did you mean %ts?");
}

#[test]
fn a_block_with_only_the_columns_asked_for_prints_as_a_whole_one() {
    let r = FlowRecord {
        start_ms: 1_289_260_869_227,
        end_ms: 1_289_260_869_979,
        src_addr: "2001:620:1000:cafe:20e:35ff:fec0:fed5".parse().unwrap(),
        dst_addr: "10.0.0.1".parse().unwrap(),
        protocol: 1,
        dst_port: 0x0800,
        packets: 3,
        octets: 180,
        sampling_interval: 10,
        engine_id: 7,
        ..FlowRecord::default()
    };
    let buf = FlowBlockBuf::from_records(&[r]);
    for (format, token) in tokens().map(|(t, _)| (format!("fmt:[%{t}]"), t)) {
        let printer = Printer::new(PrintOptions::new(format.parse().unwrap())).unwrap();
        let (mut whole, mut partial) = (Vec::new(), Vec::new());
        printer.format_block(&buf.view(), &mut whole);
        printer.format_block(&buf.view().only(printer.columns()), &mut partial);
        assert_eq!(whole, partial, "%{token}");
        assert!(whole.len() > 3, "%{token}");
    }
}

#[test]
fn named_formats_are_their_tokens() {
    let parse = |arg: &str| NfdumpFormat::from_arg(arg).unwrap().unwrap();
    for (name, format) in NAMED_FORMATS {
        let by_name = parse(name);
        assert_eq!(by_name.pieces, parse(format).pieces);
        assert!(!by_name.long_v6);
        assert_eq!(parse(&format!("fmt:%{name}")).pieces, by_name.pieces);
        let v6 = parse(&format!("{}6", name.to_uppercase()));
        assert!(v6.long_v6 && v6.pieces == by_name.pieces);
    }
}

#[test]
fn formats_round_trip_through_their_text() {
    let text = "fmt: %ts %sap ->%dap ";
    let format: Format = text.parse().unwrap();
    assert_eq!(format.to_string(), text);
}

/// docs/print-formats.md's fmt: section names every token, refused ones too.
#[test]
fn the_documented_tokens_are_these() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/print-formats.md"
    ))
    .unwrap();
    let section = doc.split("\n## -f fmt:").nth(1).expect("a fmt: section");
    let section = section.split("\n## ").next().unwrap();
    for t in all_names() {
        let code = format!("`%{t}`");
        assert!(section.contains(&code), "docs lack {code}");
    }
}

/// MACs, MPLS entries and application ids as nfdump 1.7.1 printed them for testdata/l2's
/// capture (`nfdump -R DIR -q -o 'fmt:%ismc|%idmc|%mpls1|%mpls2|%mpls3|%nbid'`).
#[test]
fn macs_mpls_and_application_ids_print_as_nfdump() {
    use crate::model::l2::app_id;
    let r = FlowRecord {
        src_mac: 0x0200_5e10_0001,
        dst_mac: 0x0200_5e10_0101,
        mpls_label1: 17 << 4 | 1 << 1,
        mpls_label2: 1001 << 4,
        mpls_label3: 200_001 << 4 | 7 << 1 | 1,
        app_id: app_id(&[20, 0, 0, 0x0d, 0xd3, 0, 0x01, 1]).unwrap(),
        ..FlowRecord::default()
    };
    let s = FlowRecord {
        app_id: app_id(&[3, 0, 53]).unwrap(),
        ..FlowRecord::default()
    };
    let buf = FlowBlockBuf::from_records(&[r, s]);
    let format = "fmt:%ismc|%idmc|%mpls1|%mpls2|%mpls3|%nbid";
    let printer = Printer::new(PrintOptions::new(format.parse().unwrap())).unwrap();
    let mut out = Vec::new();
    printer.format_block(&buf.view(), &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "02:00:5e:10:00:01|02:00:5e:10:01:01|      17-1-0|    1001-0-0|  200001-7-1|20..3539..257\n\
         00:00:00:00:00:00|00:00:00:00:00:00|       0-0-0|       0-0-0|       0-0-0| 3..53\n"
    );
}
