//! `flow-stat -f N`: flow-tools' numbered reports, byte for byte (the engine is
//! `flowkit_core::analyze::stat::flowtools`; this is only the glue to the inputs and stdout).

use flowkit_cli::{self as cli, InputArgs, ToolError};
use flowkit_core::analyze::stat::flowtools::header::write_header_block;
use flowkit_core::analyze::stat::flowtools::symbols::Symbols;
use flowkit_core::analyze::stat::flowtools::{report, Options, RecordFields, StatReport, FORMATS};
use flowkit_core::analyze::stat::output::{write_flowtools_rows, StatFormat};
use flowkit_core::archive::flowtools::read_header;
use flowkit_core::archive::sniff::{sniff, InputFormat};
use flowkit_core::pipeline::input::{expand_inputs, Input};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const TOOL: &str = "flow-stat";

/// The record fields of the inputs: a flow-tools file's export version decides (v1 has no
/// AS, masks or engine; only version 1005 has tags); flowkit archives carry every field.
fn record_fields(input: &InputArgs) -> Result<RecordFields, ToolError> {
    let mut fields = RecordFields::ALL;
    let inputs = expand_inputs(&input.inputs, input.include_tmp)
        .map_err(|e| ToolError::Usage(e.to_string()))?;
    for i in inputs {
        let Input::File(path) = i else { continue };
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue; // the scan reports it
        };
        let mut prefix = [0u8; 2];
        if f.read_exact(&mut prefix).is_err() || sniff(&prefix) != InputFormat::FlowTools {
            continue;
        }
        let name = path.display().to_string();
        if let Ok(h) = read_header(&name, &prefix, &mut f) {
            fields = fields.both(RecordFields::of_flowtools_version(h.export_version));
        }
    }
    Ok(fields)
}

/// Where flow-tools' symbol files are looked for when no --sym-dir is given (Debian's
/// flow-tools package, then flow-tools' own default prefix).
const SYM_DIRS: [&str; 2] = ["/etc/flow-tools/sym", "/usr/local/etc/sym"];

/// Loads symbol file `file` from `dir` (--sym-dir), else from $FLOWKIT_SYM_DIR, else from the
/// first of [`SYM_DIRS`] holding it.
fn load_symbols(dir: Option<&Path>, file: &str) -> Result<Symbols, ToolError> {
    let env_dir = std::env::var_os("FLOWKIT_SYM_DIR").map(PathBuf::from);
    let candidates: Vec<PathBuf> = match dir.map(Path::to_path_buf).or(env_dir) {
        Some(d) => vec![d.join(file)],
        None => SYM_DIRS.iter().map(|d| Path::new(d).join(file)).collect(),
    };
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        return Err(ToolError::Usage(format!(
            "-n needs flow-tools' symbol file {file}; not found at {} (give --sym-dir DIR)",
            tried.join(", ")
        )));
    };
    let text =
        std::fs::read(path).map_err(|e| ToolError::Usage(format!("{}: {e}", path.display())))?;
    Symbols::parse(&String::from_utf8_lossy(&text))
        .map_err(|e| ToolError::Usage(format!("{}: {e}", path.display())))
}

/// The header bytes of the one flow-tools file `-p` describes.
fn header_bytes(input: &InputArgs) -> Result<Vec<u8>, ToolError> {
    let inputs = expand_inputs(&input.inputs, input.include_tmp)
        .map_err(|e| ToolError::Usage(e.to_string()))?;
    let path = match inputs.as_slice() {
        [Input::File(p)] => p.clone(),
        _ => {
            return Err(ToolError::Usage(
                "-p prints one flow-tools file's header: give exactly one input".into(),
            ))
        }
    };
    let name = path.display().to_string();
    let io_err = |e: io::Error| ToolError::Usage(format!("{name}: {e}"));
    let mut f = std::fs::File::open(&path).map_err(io_err)?;
    let mut prefix = [0u8; 2];
    f.read_exact(&mut prefix).map_err(io_err)?;
    if sniff(&prefix) != InputFormat::FlowTools {
        return Err(ToolError::Usage(format!(
            "{name}: -p prints a flow-tools file's header; this is not a flow-tools file"
        )));
    }
    let h = read_header(&name, &prefix, &mut f).map_err(|e| ToolError::Usage(e.to_string()))?;
    let mut raw = vec![0u8; h.header_len];
    f.seek(SeekFrom::Start(0)).map_err(io_err)?;
    f.read_exact(&mut raw).map_err(io_err)?;
    Ok(raw)
}

/// Runs report `opts.format` over the inputs; `argv` is echoed on the `# Args:` line; with
/// `header`, the flow-tools file's header block follows the preamble (flow-tools' `-p`). With
/// `table` (--csv or --json), the report's rows are written instead, with no preamble.
pub fn run(
    opts: Options,
    table: Option<StatFormat>,
    header: bool,
    sym_dir: Option<&Path>,
    input: &InputArgs,
    argv: &[String],
) -> Result<(), ToolError> {
    if opts.format >= FORMATS {
        return Err(ToolError::Usage(format!(
            "-f {}: no such report; flow-stat has reports 0 to {}",
            opts.format,
            FORMATS - 1
        )));
    }
    let field = opts.sort_order.unsigned_abs();
    if let Some(n) = report::sort_fields(opts.format) {
        if field > n {
            return Err(ToolError::Usage(format!(
                "report {} sorts on fields 0 to {}, not {}",
                opts.format,
                n - 1,
                field - 1
            )));
        }
    }
    if table.is_some() {
        StatReport::new(opts.clone())
            .rows()
            .map_err(|e| ToolError::Usage(format!("-f {e}")))?;
    }
    let symbols = match (opts.names, report::symbol_file(opts.format)) {
        (true, Some(file)) => Some(load_symbols(sym_dir, file)?),
        _ => None,
    };
    input.scan_options().map_err(ToolError::Usage)?;
    // Reports that need fields some flow-tools versions lack must see the file header; stdin
    // is spooled to a temporary file for that.
    let needs_fields = !RecordFields::of_flowtools_version(1).serve(opts.format)
        || !RecordFields::of_flowtools_version(5).serve(opts.format);
    let (input, _spool) = if needs_fields || header {
        cli::spool_stdin(input)?
    } else {
        (input.clone(), Vec::new())
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let raw_header = if header {
        Some(header_bytes(&input)?)
    } else {
        None
    };
    if table.is_none() {
        report::write_preamble(&mut out, &opts, argv).map_err(ToolError::Output)?;
    }
    if let Some(raw) = raw_header {
        let tz = cli::zone(input.utc)?;
        write_header_block(&mut out, opts.cc, &raw, &tz).map_err(ToolError::Output)?;
    }
    if needs_fields && !record_fields(&input)?.serve(opts.format) {
        out.flush().map_err(ToolError::Output)?;
        cli::warn(TOOL, "Flow record missing required field for format.");
        return Ok(());
    }
    let mut rep = StatReport::new(opts);
    rep.symbols = symbols;
    let mut bad: Option<String> = None;
    let stats =
        cli::Scan::columns(rep.columns())
            .progress_always()
            .run(TOOL, &input, &mut |batch| {
                for b in batch.blocks {
                    if bad.is_none() {
                        if let Err(e) = rep.observe(b) {
                            bad = Some(e);
                        }
                    }
                }
                Ok(())
            })?;
    if let Some(e) = bad {
        return Err(ToolError::Usage(e));
    }
    if rep.zero_packet_flows > 0 {
        eprintln!(
            "{TOOL}: ignoring {} flow(s) with dPkts=0 (bogus)",
            rep.zero_packet_flows
        );
    }
    match table {
        Some(format) => {
            let rows = rep.rows().map_err(ToolError::Usage)?;
            write_flowtools_rows(&mut out, format, rep.opts.format, &rows)
        }
        None => rep.write(&mut out),
    }
    .map_err(ToolError::Output)?;
    out.flush().map_err(ToolError::Output)?;
    cli::check_damage(&stats)
}
