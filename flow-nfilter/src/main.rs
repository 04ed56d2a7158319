//! flow-nfilter: pass on the flows a flow-tools filter definition permits.

use clap::Parser;
use flowkit_cli::{self as cli, FilterArgs, InputArgs, ToolError};
use flowkit_core::filter::expr::sql::expr_to_sql;
use flowkit_core::filter::sql::{self, Dialect};
use flowkit_core::filter::{CompileOptions, CompiledFilter, Definition, FilterFile};
use flowkit_core::pipeline::select::{print_selected, write_selected, Passed};
use flowkit_core::print::fields::parse_fields;
use flowkit_core::print::{Format, PrintError, PrintOptions, Printer};
use flowkit_core::ColumnSet;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

const TOOL: &str = "flow-nfilter";

/// Pass on the flows a filter definition permits (flow-tools' filter language).
///
/// Filters are defined in a flow-tools filter file: primitives (lists of values) and
/// definitions (match lines combining them). `--check` lists the definitions of a file. `-e EXPR`
/// filters with an nfdump-style expression instead, or as well.
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
    /// Print the permitted flows as text in FORMAT (as flow-print -f: 0-6, 9, csv, json, fmt:...) instead
    /// of passing them on as a flow stream: filter and print in one process.
    #[arg(long = "print", value_name = "FORMAT", conflicts_with_all = ["output", "count"],
          value_parser = parse_format)]
    print: Option<Format>,
    /// With --print csv or json: only these columns, in this order (as flow-print --fields).
    #[arg(long = "fields", value_name = "LIST", requires = "print")]
    fields: Option<String>,
    /// Print the filter (the definition, the -e expression, or both: `(def) AND (expr)`) as one
    /// SQL boolean expression (the body of a WHERE) over the columns flow-export --parquet
    /// writes, in DIALECT: duckdb, spark, trino or clickhouse; read no flows. Refuses, naming
    /// the primitive, what SQL cannot say exactly.
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
    #[command(flatten)]
    compress: cli::CompressArgs,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(|e: PrintError| e.to_string())
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
        file.compile(name, opts).map_err(ToolError::usage)?;
    }
    let width = file
        .definitions
        .iter()
        .map(|d| d.name.len())
        .chain(file.primitives.iter().map(|p| p.name.len()))
        .max()
        .unwrap_or(0);
    // Written at once, so a closed pipe is an output error, not a panic.
    let mut text = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "{}: ok, {} definitions, {} primitives",
        file.origin,
        file.definitions.len(),
        file.primitives.len()
    );
    let _ = writeln!(text, "definitions:");
    for d in &file.definitions {
        let _ = writeln!(text, "  {:width$}  {}", d.name, describe(file, d));
    }
    let _ = writeln!(text, "primitives:");
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
        let _ = writeln!(text, "  {:width$}  {s}", p.name);
    }
    write_stdout(&text)
}

/// Writes `text` to stdout; a failure (a closed pipe among them) is an output error.
fn write_stdout(text: &str) -> Result<(), ToolError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(ToolError::Output)
}

fn run(args: Args) -> Result<(), ToolError> {
    args.compress.apply();
    let opts = CompileOptions {
        tz: cli::zone(args.input.utc)?,
    };
    if args.check {
        args.filter.expression()?;
        let file = args.filter.load(TOOL)?;
        return check(&file, &args, &opts);
    }
    if let Some(d) = &args.sql {
        let dialect = Dialect::from_name(d).ok_or_else(|| {
            ToolError::usage(format!(
                "--sql {d}: not a dialect ({})",
                Dialect::NAMES.join(", ")
            ))
        })?;
        let expr = args.filter.parsed_expression()?;
        let def = if args.filter.wants_file() {
            let file = args.filter.load(TOOL)?;
            let name = args.filter.definition_name(&file)?;
            let def = file.definition(name).map_err(ToolError::usage)?;
            for w in file.warnings_of(def) {
                cli::warn(TOOL, &format!("warning: {w}"));
            }
            Some(sql::to_sql(&file, name, &opts, dialect).map_err(ToolError::usage)?)
        } else {
            None
        };
        let expr = expr
            .map(|e| expr_to_sql(&e, dialect))
            .transpose()
            .map_err(|why| ToolError::usage(format!("--sql {d}: {why}")))?;
        let text = match (def, expr) {
            (Some(d), Some(e)) => format!("({d}) AND ({e})"),
            (Some(s), None) | (None, Some(s)) => s,
            (None, None) => unreachable!("a file is wanted when there is no -e"),
        };
        return write_stdout(&format!("{text}\n"));
    }
    // Compile before opening the output: a bad filter writes nothing.
    let filter = args.filter.compile_given(TOOL, args.input.utc)?;
    let wanted = ColumnSet::of(&filter.columns());
    if let Some(format) = args.print.clone() {
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
        write_stdout(&format!("{n}\n"))?;
        return cli::check_damage(&stats);
    }
    let mut out = cli::open_output(args.output.as_ref(), TOOL)?;
    let mut passed = Passed::default();
    // The scan checks and hands out only the columns the filter reads; a block with selected
    // flows is then completed (its other columns checked) to be written, unless it goes on by
    // reference.
    let stats = cli::Scan::columns(wanted)
        .pruned(filter.block_prune())
        .run(TOOL, &args.input, &mut |batch| {
            write_selected(&filter, batch, &mut out, &mut passed)
        })?;
    out.finish()?;
    if args.verbose {
        cli::warn(
            TOOL,
            &format!(
                "{stats}; {} flows passed; {} whole blocks and {} blocks' selected rows \
                 passed by reference",
                passed.flows, passed.whole_refs, passed.rows_refs
            ),
        );
    }
    cli::check_damage(&stats)
}

/// `--print`: filter and print in one process.
fn print(
    args: &Args,
    filter: &CompiledFilter,
    wanted: ColumnSet,
    format: Format,
) -> Result<(), ToolError> {
    // --geoip and --ifnames add their columns to CSV and JSON, as in flow-print.
    let (geo, ifnames) = match format {
        Format::Csv | Format::Json => (args.filter.geo.open()?, args.filter.ifnames.open()?),
        _ => (None, None),
    };
    let printer = Printer::new(PrintOptions {
        tz: cli::zone(args.input.utc)?,
        geo,
        ifnames,
        fields: (args.fields.as_deref())
            .map(parse_fields)
            .transpose()
            .map_err(ToolError::usage)?,
        ..PrintOptions::new(format)
    })
    .map_err(ToolError::usage)?;
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
            print_selected(filter, &printer, batch, &mut texts, &mut out)
        })?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}

fn main() {
    cli::tool_main::<Args>(TOOL, run)
}
