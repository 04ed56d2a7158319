//! Expressions in nfdump's syntax (`-e`) against nfdump 1.7.1's own selections from the same
//! files: testdata/nfdump/expr/NAME.txt lists, per expression of testdata/nfdump/expressions.txt,
//! the flows nfdump selected from NAME.nfcapd (made by testdata/nfdump/make_expr.sh). The
//! compiled filter and the record-by-record reference (`Node::matches`) must both select
//! exactly those flows.

use flowkit_core::archive::nfdump::NfdumpReader;
use flowkit_core::filter::expr::Expression;
use flowkit_core::testing::testdata;
use flowkit_core::FlowBlockBuf;

/// Every flow of an nfdump file, in one block.
fn read(path: &std::path::Path) -> FlowBlockBuf {
    let bytes = std::fs::read(path).unwrap();
    let name = path.display().to_string();
    let mut r = NfdumpReader::new(&name, &[], bytes.as_slice()).unwrap();
    let (mut all, mut buf) = (FlowBlockBuf::default(), FlowBlockBuf::default());
    while r.next_block(&mut buf, 4096).unwrap() > 0 {
        for f in buf.view().records() {
            all.push(&f);
        }
    }
    all
}

/// The rows of a `0-3,7` list.
fn rows(list: &str, n: usize) -> Vec<bool> {
    let mut out = vec![false; n];
    for run in list.split(',').filter(|r| !r.is_empty()) {
        let (a, b) = run.split_once('-').unwrap_or((run, run));
        let (a, b) = (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap());
        out[a..=b].fill(true);
    }
    out
}

#[test]
fn expressions_select_what_nfdump_selects() {
    let expressions: Vec<String> = testdata::read_text("nfdump/expressions.txt")
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(String::from)
        .collect();
    let mut dir: Vec<_> = std::fs::read_dir(testdata::path("nfdump/expr"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dir.sort();
    assert_eq!(dir.len(), 15, "{dir:?}");
    let mut failures = Vec::new();
    let mut checked = 0;
    for golden in dir {
        let name = golden.file_stem().unwrap().to_str().unwrap().to_string();
        let nfcapd = ["nfdump", "nfdump/vendors"]
            .iter()
            .map(|d| testdata::path(&format!("{d}/{name}.nfcapd")))
            .find(|p| p.exists())
            .unwrap();
        let truth = std::fs::read_to_string(nfcapd.with_extension("truth.txt")).unwrap();
        let truth: Vec<&str> = truth.lines().collect();
        let buf = read(&nfcapd);
        let block = buf.view();
        let flows: Vec<_> = block.records().collect();
        assert_eq!(flows.len(), truth.len(), "{name}");
        let text = std::fs::read_to_string(&golden).unwrap();
        let lines: Vec<(&str, &str)> = text
            .lines()
            .map(|l| l.split_once('\t').expect("EXPRESSION<TAB>FLOWS"))
            .collect();
        let listed: Vec<&str> = lines.iter().map(|l| l.0).collect();
        assert_eq!(
            listed, expressions,
            "{name}: the expressions of expressions.txt"
        );
        for (e, list) in lines {
            let want = rows(list, flows.len());
            let expr = Expression::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
            let mut got = Vec::new();
            expr.compile().select(&block, &mut got);
            let reference: Vec<bool> = flows.iter().map(|f| expr.root.matches(f)).collect();
            for (how, sel) in [("compiled", &got), ("reference", &reference)] {
                if let Some(i) = (0..flows.len()).find(|&i| sel[i] != want[i]) {
                    let n = |s: &Vec<bool>| s.iter().filter(|&&b| b).count();
                    failures.push(format!(
                        "{name}: `{e}` ({how}): {} flows, nfdump {}; first difference row {i} \
                         (nfdump {}): {}\n  {:?}",
                        n(sel),
                        n(&want),
                        if want[i] { "selects" } else { "does not" },
                        truth[i],
                        flows[i]
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 15 * expressions.len());
}
