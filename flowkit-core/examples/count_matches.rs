//! flowkit-core as a library: read flows from archives (flowkit, flow-tools or nfdump files,
//! directories or globs), compile a flow-tools filter definition, and count the flows it passes,
//! with no command-line machinery. It prints what `flow-nfilter -f FILE -F NAME --count` prints.
//!
//! ```sh
//! cargo run -p flowkit-core --example count_matches -- \
//!     testdata/filter.cfg gt1packet testdata/2010-11-09
//! ```

use flowkit_core::filter::{CompileOptions, FilterFile, Variables};
use flowkit_core::model::block::ColumnSet;
use flowkit_core::pipeline::input::expand_inputs;
use flowkit_core::pipeline::scan::{ScanOptions, Scanner};
use std::error::Error;
use std::sync::Arc;

fn main() {
    if let Err(e) = run() {
        eprintln!("count_matches: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [filters, name, inputs @ ..] = args.as_slice() else {
        return Err("usage: count_matches FILTER_FILE DEFINITION INPUT...".into());
    };

    // Parse the filter file and compile one definition (variables would be bound here).
    let text = std::fs::read_to_string(filters)?;
    let file = FilterFile::parse(&text, filters, &Variables::new())?;
    let filter = file.compile(name, &CompileOptions::default())?;

    // Read only the columns the filter tests, and skip blocks its address tests rule out.
    let opts = ScanOptions {
        prune: filter.block_prune().map(Arc::new),
        ..ScanOptions::default()
    };
    let mut damaged = Vec::new();
    let mut scanner = Scanner::new(opts, |msg| damaged.push(msg.to_string()));
    let wanted = ColumnSet::of(&filter.columns());
    let (mut passed, mut selected) = (0u64, Vec::new());
    scanner.run_columns(&expand_inputs(inputs, false)?, wanted, &mut |batch| {
        for block in batch.blocks {
            passed += filter.select(block, &mut selected) as u64;
        }
        Ok(())
    })?;
    let read = scanner.stats.flows_read;
    drop(scanner);

    for msg in &damaged {
        eprintln!("damaged input: {msg}");
    }
    println!("{passed}");
    eprintln!("{passed} flows pass {name} ({read} flows read, the rest skipped by block or frame)");
    Ok(())
}
