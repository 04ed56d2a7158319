//! flow-nfilter: pass on the flows a flow-tools filter definition permits.

use clap::Parser;
use flowkit_cli::{self as cli, FilterArgs, InputArgs, ToolError};
use flowkit_core::filter::sql::{self, Dialect};
use flowkit_core::filter::{CompileOptions, CompiledFilter, Definition, FilterFile};
use flowkit_core::model::block::selected_rows;
use flowkit_core::pipeline::scan::Batch;
use flowkit_core::print::{Format, PrintError, PrintOptions, Printer};
use flowkit_core::{time, ColumnSet, FlowBlock, FlowBlockBuf};
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;

const TOOL: &str = "flow-nfilter";

/// Pass on the flows a filter definition permits (flow-tools' filter language).
///
/// Filters are defined in a flow-tools filter file: primitives (lists of values) and
/// definitions (match lines combining them). `--check` lists the definitions of a file.
#[derive(Parser, Debug)]
#[command(name = TOOL, version, about, long_about = None)]
struct Args {
    #[command(flatten)]
    filter: FilterArgs,
    /// Check the filter file, list its definitions and primitives, and exit.
    #[arg(long)]
    check: bool,
    /// Write to FILE (published when complete) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print the permitted flows as text in FORMAT (as flow-print -f: 0-6, 9, csv, json) instead
    /// of passing them on as a flow stream: filter and print in one process.
    #[arg(long = "print", value_name = "FORMAT", conflicts_with_all = ["output", "count"],
          value_parser = parse_format)]
    print: Option<Format>,
    /// Print the definition as one SQL boolean expression (the body of a WHERE) over the
    /// columns flow-export --parquet writes, in DIALECT: duckdb, spark, trino or clickhouse;
    /// read no flows. Refuses, naming the primitive, what SQL cannot say exactly.
    #[arg(long, value_name = "DIALECT", conflicts_with_all = ["output", "count", "print", "check"])]
    sql: Option<String>,
    /// Print only how many flows the definition permits.
    #[arg(long, conflicts_with = "output")]
    count: bool,
    /// Print a summary on stderr: what was read, the flows passed on, and how many blocks went
    /// on as references (whole, or their selected rows) to a flowkit tool reading the pipe.
    /// (Long form only: `-v` binds filter variables, as in flow-tools.)
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    input: InputArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: PrintError| e.to_string())
}

fn usage(e: impl std::fmt::Display) -> ToolError {
    ToolError::Usage(e.to_string())
}

/// One line describing a definition: its groups as `a and b or c`, inverted or not.
fn describe(file: &FilterFile, d: &Definition) -> String {
    let groups: Vec<String> = d
        .groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|m| format!("{} {}", m.field.name(), m.primitive_name))
                .collect::<Vec<_>>()
                .join(" and ")
        })
        .map(|g| {
            if d.groups.len() > 1 && g.contains(" and ") {
                format!("({g})")
            } else {
                g
            }
        })
        .collect();
    let body = match groups.len() {
        0 => "nothing".to_string(),
        _ => groups.join(" or "),
    };
    let mut s = if d.invert {
        format!("not ({body})")
    } else {
        body
    };
    let mut needs: Vec<&str> = file
        .missing_variables(d)
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    needs.sort();
    needs.dedup();
    if !needs.is_empty() {
        s.push_str(&format!("   [needs -v {}]", needs.join(", -v ")));
    }
    if let Some(f) = d.groups.iter().flatten().find(|m| !m.field.carried()) {
        s.push_str(&format!(
            "   [unusable: flowkit records have no {}]",
            f.field.name()
        ));
    }
    s
}

fn check(file: &FilterFile, args: &Args, opts: &CompileOptions) -> Result<(), ToolError> {
    for p in &file.primitives {
        for w in &p.warnings {
            cli::warn(TOOL, &format!("warning: {w}"));
        }
    }
    if let Some(name) = &args.filter.definition {
        file.compile(name, opts).map_err(usage)?;
    }
    let width = file
        .definitions
        .iter()
        .map(|d| d.name.len())
        .chain(file.primitives.iter().map(|p| p.name.len()))
        .max()
        .unwrap_or(0);
    println!(
        "{}: ok, {} definitions, {} primitives",
        file.origin,
        file.definitions.len(),
        file.primitives.len()
    );
    println!("definitions:");
    for d in &file.definitions {
        println!("  {:width$}  {}", d.name, describe(file, d));
    }
    println!("primitives:");
    for p in &file.primitives {
        let kind = p.kind.map_or("?", |k| k.keyword());
        let lines = p.entries.len();
        let mut s = format!(
            "{kind}, {lines} line{}, default {}",
            if lines == 1 { "" } else { "s" },
            p.default.name()
        );
        if !p.missing.is_empty() {
            let names: Vec<&str> = p.missing.iter().map(|m| m.name.as_str()).collect();
            s.push_str(&format!("   [needs -v {}]", names.join(", -v ")));
        }
        println!("  {:width$}  {s}", p.name);
    }
    Ok(())
}

fn run(args: Args) -> Result<(), ToolError> {
    let file = args.filter.load(TOOL)?;
    let opts = CompileOptions {
        tz: time::zone(args.input.utc).map_err(|e| ToolError::Usage(e.to_string()))?,
    };
    if args.check {
        return check(&file, &args, &opts);
    }
    let name = args.filter.definition_name(&file)?;
    if let Some(d) = &args.sql {
        let dialect = Dialect::from_name(d).ok_or_else(|| {
            usage(format!(
                "--sql {d}: not a dialect ({})",
                Dialect::NAMES.join(", ")
            ))
        })?;
        let def = file.definition(name).map_err(usage)?;
        for w in file.warnings_of(def) {
            cli::warn(TOOL, &format!("warning: {w}"));
        }
        println!(
            "{}",
            sql::to_sql(&file, name, &opts, dialect).map_err(usage)?
        );
        return Ok(());
    }
    // Compile before opening the output: a bad filter writes nothing.
    let filter = file.compile(name, &opts).map_err(usage)?;
    let def = file.definition(name).map_err(usage)?;
    for w in file.warnings_of(def) {
        cli::warn(TOOL, &format!("warning: {w}"));
    }
    let wanted = ColumnSet::of(&filter.columns());
    if let Some(format) = args.print {
        return print(&args, &filter, wanted, format);
    }
    if args.count {
        let mut n: u64 = 0;
        let stats = cli::Scan::columns(wanted)
            .pruned(filter.block_prune())
            .run(TOOL, &args.input, &mut |batch| {
                n += batch
                    .blocks
                    .par_iter()
                    .map(|b| filter.select(b, &mut Vec::new()) as u64)
                    .sum::<u64>();
                Ok(())
            })?;
        println!("{n}");
        return cli::check_damage(&stats);
    }
    let mut out = cli::open_output(args.output.as_ref(), TOOL)?;
    let (mut passed, mut whole_refs, mut rows_refs) = (0u64, 0u64, 0u64);
    // The scan checks and hands out only the columns the filter reads; a block with selected
    // flows is then completed (its other columns checked) to be written, unless it goes on by
    // reference.
    let stats = cli::Scan::columns(wanted)
        .pruned(filter.block_prune())
        .run(TOOL, &args.input, &mut |batch| {
            let by_ref: Vec<bool> = (0..batch.blocks.len())
                .map(|k| out.passes_rows_by_reference(batch, k))
                .collect();
            for (k, (picked, rows)) in select_batch(&filter, batch, &by_ref).iter().enumerate() {
                match picked {
                    Some(Picked::Whole(block)) => {
                        passed += block.len as u64;
                        out.write_whole(batch, k, Some(block))?
                    }
                    Some(Picked::WholeByRef) => {
                        (passed, whole_refs) =
                            (passed + batch.blocks[k].len as u64, whole_refs + 1);
                        out.write_whole(batch, k, None)?
                    }
                    Some(Picked::Rows) => {
                        passed += rows.len() as u64;
                        out.write_block(&rows.view(), None)?
                    }
                    Some(Picked::RowsByRef(rows)) => {
                        (passed, rows_refs) = (passed + rows.len() as u64, rows_refs + 1);
                        out.write_rows_by_reference(batch, k, rows)?
                    }
                    None => {}
                }
            }
            Ok(())
        })?;
    out.finish()?;
    if args.verbose {
        cli::warn(
            TOOL,
            &format!(
                "{stats}; {passed} flows passed; {whole_refs} whole blocks and {rows_refs} \
                 blocks' selected rows passed by reference"
            ),
        );
    }
    cli::check_damage(&stats)
}

/// What a block gives the output once filtered. (A view is a few hundred bytes of slices, held
/// for one block; boxing it would allocate once a block.)
#[allow(clippy::large_enum_variant)]
enum Picked<'a> {
    /// Every flow: the whole block (which may then go on by reference or as its bytes).
    Whole(FlowBlock<'a>),
    /// Every flow, to go on by reference (the reader checks the columns this filter did not read).
    WholeByRef,
    /// Some flows, read out of the block with every column into the caller's buffer.
    Rows,
    /// Some flows (these positions in the block), to go on as a reference to them: nothing is
    /// read out here.
    RowsByRef(Vec<u32>),
}

/// Selected flows go on as a reference to their rows once they are at least one in this many
/// of the block's. A reference makes the reader map and check the whole block again, which
/// costs about as much as writing a few hundred flows into the pipe: sparse selections are
/// cheaper sent as flows (measured: `dst port 22 and packets > 1`, 0.8% of each block, took
/// 16% more CPU by reference; the broad filter, 30% of each block, 19% less).
const ROWS_BY_REFERENCE: usize = 8;

/// Filters block `k` of `batch`: `Whole` when every flow passes, `Rows` when some do (gathered
/// into `picked`, cleared first: only their rows are read out of the block's other columns),
/// `None` when none does or a column is damaged (which the scan reports). With `by_ref` (the
/// output can pass this block's flows on by reference) nothing more is read for `WholeByRef`,
/// or for `RowsByRef` when enough of the block is selected.
fn pick<'a>(
    filter: &CompiledFilter,
    batch: &Batch<'_, 'a>,
    k: usize,
    by_ref: bool,
    rows: &mut Vec<bool>,
    picked: &mut FlowBlockBuf,
) -> Option<Picked<'a>> {
    let count = filter.select(&batch.blocks[k], rows);
    match count {
        0 => None,
        _ if count == batch.blocks[k].len && by_ref => Some(Picked::WholeByRef),
        _ if count == batch.blocks[k].len => batch.full(k).map(Picked::Whole),
        _ if by_ref && count * ROWS_BY_REFERENCE >= batch.blocks[k].len => {
            Some(Picked::RowsByRef(selected_rows(rows)))
        }
        _ => {
            picked.clear();
            batch
                .gather(k, &selected_rows(rows), picked)
                .then_some(Picked::Rows)
        }
    }
}

/// Filters the blocks of a batch in parallel (block `k` passed on by reference when
/// `by_ref[k]`); each comes back with the buffer its `Rows` are in.
fn select_batch<'a>(
    filter: &CompiledFilter,
    batch: &Batch<'_, 'a>,
    by_ref: &[bool],
) -> Vec<(Option<Picked<'a>>, FlowBlockBuf)> {
    (0..batch.blocks.len())
        .into_par_iter()
        .map_init(Vec::new, |rows, k| {
            let mut picked = FlowBlockBuf::default();
            (pick(filter, batch, k, by_ref[k], rows, &mut picked), picked)
        })
        .collect()
}

/// `--print`: filter and print in one process.
fn print(
    args: &Args,
    filter: &CompiledFilter,
    wanted: ColumnSet,
    format: Format,
) -> Result<(), ToolError> {
    let printer = Printer::new(PrintOptions {
        tz: time::zone(args.input.utc).map_err(|e| ToolError::Usage(e.to_string()))?,
        ..PrintOptions::new(format)
    })
    .map_err(usage)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    out.write_all(&printer.header())
        .map_err(ToolError::Output)?;
    // One parallel pass a batch: each block is filtered, completed and formatted by one task
    // (a join per batch, not one per step), then the texts are written in order.
    let mut texts: Vec<Vec<u8>> = Vec::new();
    let stats = cli::Scan::columns(wanted)
        .pruned(filter.block_prune())
        .run(TOOL, &args.input, &mut |batch| {
            let n = batch.blocks.len();
            if texts.len() < n {
                texts.resize_with(n, Vec::new);
            }
            texts[..n].par_iter_mut().enumerate().for_each_init(
                || (Vec::new(), FlowBlockBuf::default()),
                |(rows, picked), (k, text)| {
                    text.clear();
                    match pick(filter, batch, k, false, rows, picked) {
                        Some(Picked::Whole(block)) => printer.format_block(&block, text),
                        Some(Picked::Rows) => printer.format_block(&picked.view(), text),
                        Some(Picked::WholeByRef | Picked::RowsByRef(_)) => {
                            unreachable!("nothing goes by reference when printing")
                        }
                        None => {}
                    }
                },
            );
            texts[..n].iter().try_for_each(|t| out.write_all(t))
        })?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}

fn main() {
    cli::exit_with(TOOL, run(Args::parse()))
}
