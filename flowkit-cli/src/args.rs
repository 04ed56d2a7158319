//! The options every flowkit tool that reads flows shares (inputs, time window, clock shift,
//! zone, mmap) and those of the tools that filter with flow-tools' language (`-f`, `-F`, `-v`):
//! declared once here, for clap, and turned into the library's scan options and compiled filters.

use crate::report::{note_once, warn, ToolError};
use flowkit_core::filter::{
    error as filter_error,
    expr::{Expression, Lookups},
    CompileOptions, CompiledFilter, FilterFile, Variables,
};
use flowkit_core::pipeline::input::{expand_inputs, Input};
use flowkit_core::pipeline::scan::{BlockRead, ScanOptions};
use flowkit_core::time;
use std::path::PathBuf;

/// Input options common to the tools that read flows (flow-cat, flow-nfilter, flow-print ...).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct InputArgs {
    /// Archive files, directories (read recursively, in name order) or globs; none or `-` reads stdin.
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Keep flows that start at or after TIME: '2010-11-09 14:00' (local time unless --utc),
    /// '2010-11-09T14:00:00-05:00', '2010-11-09 14:00Z', '11/09/2010 14:00:00', '2010-11-09',
    /// or epoch seconds '@1289311200' (see docs/time.md).
    #[arg(short = 't', long = "start", value_name = "TIME")]
    pub start: Option<String>,
    /// Keep flows that start before TIME.
    #[arg(short = 'T', long = "end", value_name = "TIME")]
    pub end: Option<String>,
    /// Add SECONDS (may be negative or fractional) to every flow time first, to correct a sensor's clock.
    #[arg(
        long = "time-shift",
        value_name = "SECONDS",
        allow_hyphen_values = true
    )]
    pub time_shift: Option<f64>,
    /// Read and print civil times in UTC instead of the local zone (TZ).
    #[arg(long)]
    pub utc: bool,
    /// Read files with read(2) instead of mapping them.
    #[arg(long = "no-mmap")]
    pub no_mmap: bool,
    /// Also read tmp* files (unfinished files of a running collector).
    #[arg(short = 'a', long = "all")]
    pub include_tmp: bool,
    /// Inputs copied to temporary files by [`spool_stdin`]: (spool path, what it holds, e.g.
    /// `(stdin)`); they are read as the stream they hold, under that name.
    #[arg(skip)]
    pub spooled: Vec<(String, String)>,
}

impl InputArgs {
    /// Builds scan options, parsing the time arguments (a note on stderr, once, for a local
    /// time that happened twice).
    pub fn scan_options(&self) -> Result<ScanOptions, String> {
        let tz = time::zone(self.utc).map_err(|e| e.to_string())?;
        let parse = |flag: &str, s: &Option<String>| -> Result<Option<i64>, String> {
            let Some(t) = s.as_deref() else {
                return Ok(None);
            };
            let p = time::parse_time(t, &tz).map_err(|e| format!("{flag}: {e}"))?;
            if let Some(n) = p.note {
                note_once(&format!("note: {flag} {n}"));
            }
            Ok(Some(p.ms))
        };
        Ok(ScanOptions {
            from_ms: parse("-t", &self.start)?,
            to_ms: parse("-T", &self.end)?,
            time_shift_ms: self.time_shift.map_or(0, |s| (s * 1000.0).round() as i64),
            no_mmap: self.no_mmap,
            include_tmp: self.include_tmp,
            block_read: BlockRead::from_env(),
            spooled: self
                .spooled
                .iter()
                .map(|(p, n)| (PathBuf::from(p), n.clone()))
                .collect(),
            ..ScanOptions::default()
        })
    }

    /// Expands the inputs.
    pub fn inputs(&self) -> Result<Vec<Input>, String> {
        expand_inputs(&self.inputs, self.include_tmp).map_err(|e| e.to_string())
    }
}

/// The filter file shipped with flowkit (`filters/filter.cfg`, a generic starter), used when
/// neither `-f`, a `filter.cfg` in the current directory nor `$FLOWKIT_FILTERS` names one.
pub const BUILT_IN_FILTERS: &str = include_str!("../../filters/filter.cfg");
/// The name the built-in filter file is reported under.
pub const BUILT_IN_FILTERS_NAME: &str = "<built-in filters/filter.cfg>";
/// The file name looked for in the current directory when `-f` is not given (a sample's or
/// a case's own filters next to its data, as `testdata/filter.cfg` is for the sample day).
pub const LOCAL_FILTERS: &str = "filter.cfg";

/// The filter options of the tools that select flows with flow-tools' filter language
/// (flow-nfilter, and flow-hunt to exclude known-good traffic first).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FilterArgs {
    /// Filter file [default: ./filter.cfg if there is one, else $FLOWKIT_FILTERS, else the
    /// built-in generic filters/filter.cfg; `flow-nfilter --check` names the one used].
    #[arg(short = 'f', long = "filters", value_name = "FILE")]
    pub filters: Option<PathBuf>,
    /// The definition to apply [default: the one named `default`].
    #[arg(short = 'F', long = "definition", value_name = "DEFINITION")]
    pub definition: Option<String>,
    /// Give a variable used as @NAME, @{NAME} or @{NAME:-default} in the file (repeatable).
    #[arg(short = 'v', long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// An expression in nfdump's filter syntax: `-e 'src net 10.0.0.0/8 and dst port 22'`
    /// (docs/filter-language.md, "Expressions"). Alone it is the whole filter; with -f/-F the
    /// definition and the expression must both pass.
    #[arg(short = 'e', long = "expr", value_name = "EXPR")]
    pub expr: Option<String>,
    /// The country database `-e '[src|dst] geo CC'` looks networks up in.
    #[command(flatten)]
    pub geo: crate::GeoArgs,
    /// The interface names `-e '[in|out] if name X'` looks interfaces up in.
    #[command(flatten)]
    pub ifnames: crate::IfNamesArgs,
}

impl FilterArgs {
    /// True when the user asked for a filter (`-f`, `-F` or `-e`).
    pub fn given(&self) -> bool {
        self.filters.is_some() || self.definition.is_some() || self.expr.is_some()
    }

    /// True when a filter file is wanted: `-f` or `-F`, or no `-e` (the file's `default`).
    pub fn wants_file(&self) -> bool {
        self.filters.is_some() || self.definition.is_some() || self.expr.is_none()
    }

    /// The compiled `-e` expression, if given; a parse error names the column.
    pub fn expression(&self) -> Result<Option<CompiledFilter>, ToolError> {
        Ok(self.parsed_expression()?.map(|e| e.compile()))
    }

    /// The `-e` expression parsed (its `geo` terms looked up in `--geoip`, its `if name` terms
    /// in `--ifnames`), if given.
    pub fn parsed_expression(&self) -> Result<Option<Expression>, ToolError> {
        let Some(text) = &self.expr else {
            return Ok(None);
        };
        let geo = self.geo.open()?;
        let ifnames = self.ifnames.open()?;
        let lookups = Lookups {
            geo: geo.as_deref(),
            ifnames: ifnames.as_deref(),
        };
        let e = Expression::parse_using(text, lookups)
            .map_err(|e| ToolError::Usage(format!("-e: {e}")))?;
        Ok(Some(e))
    }

    /// The filter file's name (for messages) and text: `-f FILE`, else `filter.cfg` in the
    /// current directory, else `$FLOWKIT_FILTERS`, else the built-in file.
    pub fn source(&self) -> Result<(String, String), ToolError> {
        let local = PathBuf::from(LOCAL_FILTERS);
        let path = self
            .filters
            .clone()
            .or_else(|| local.is_file().then_some(local))
            .or_else(|| {
                std::env::var_os("FLOWKIT_FILTERS")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            });
        match path {
            None => Ok((
                BUILT_IN_FILTERS_NAME.to_string(),
                BUILT_IN_FILTERS.to_string(),
            )),
            Some(p) => {
                let origin = p.display().to_string();
                let bytes =
                    std::fs::read(&p).map_err(|e| ToolError::Usage(format!("{origin}: {e}")))?;
                let text = FilterFile::text_from_bytes(bytes, &origin)
                    .map_err(|e| ToolError::Usage(e.to_string()))?;
                Ok((origin, text))
            }
        }
    }

    /// Reads and parses the filter file with the `-v` bindings, warning (as `tool`) about
    /// variables the file does not use.
    pub fn load(&self, tool: &str) -> Result<FilterFile, ToolError> {
        let (origin, text) = self.source()?;
        let mut vars = Variables::new();
        for b in &self.vars {
            vars.bind(b).map_err(|e| ToolError::Usage(e.to_string()))?;
        }
        let file = FilterFile::parse(&text, &origin, &vars)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        for name in vars.names() {
            if !file.referenced_variables.contains(name) {
                let hint = filter_error::did_you_mean(
                    name,
                    file.referenced_variables.iter().map(String::as_str),
                );
                warn(
                    tool,
                    &format!("warning: variable {name} is not used by {origin}{hint}"),
                );
            }
        }
        Ok(file)
    }

    /// The definition to apply: `-F`, else the file's `default`.
    pub fn definition_name<'f>(&'f self, file: &FilterFile) -> Result<&'f str, ToolError> {
        match &self.definition {
            Some(n) => Ok(n.as_str()),
            None if file.definition_index("default").is_some() => Ok("default"),
            None => Err(ToolError::Usage(format!(
                "no -F DEFINITION given and {} has no definition named `default` \
                 (`flow-nfilter --check` lists the definitions)",
                file.origin
            ))),
        }
    }

    /// The filter asked for ([`FilterArgs::compile_given`]); `None` when none was.
    pub fn compile(&self, tool: &str, utc: bool) -> Result<Option<CompiledFilter>, ToolError> {
        if !self.given() {
            return Ok(None);
        }
        self.compile_given(tool, utc).map(Some)
    }

    /// The filter to apply: the definition (`-F`, else the file's `default`) unless only `-e`
    /// is given, and the `-e` expression; both must pass when both are given.
    pub fn compile_given(&self, tool: &str, utc: bool) -> Result<CompiledFilter, ToolError> {
        let expr = self.expression()?;
        if !self.wants_file() {
            return Ok(expr.expect("no file is wanted only with -e"));
        }
        let def = self.compile_definition(tool, utc)?;
        Ok(match expr {
            Some(e) => def.and(e),
            None => def,
        })
    }

    /// Loads the file and compiles the definition to apply, printing the warnings of the
    /// primitives it uses.
    fn compile_definition(&self, tool: &str, utc: bool) -> Result<CompiledFilter, ToolError> {
        let file = self.load(tool)?;
        let name = self.definition_name(&file)?;
        let opts = CompileOptions { tz: zone(utc)? };
        let filter = file
            .compile(name, &opts)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        let def = file
            .definition(name)
            .map_err(|e| ToolError::Usage(e.to_string()))?;
        for w in file.warnings_of(def) {
            warn(tool, &format!("warning: {w}"));
        }
        Ok(filter)
    }
}

/// The display zone of a tool (UTC with `--utc`, else the process's `TZ`, worked out once per
/// process by [`time::zone`]); an unknown `TZ` is a usage error naming it.
pub fn zone(utc: bool) -> Result<jiff::tz::TimeZone, ToolError> {
    time::zone(utc).map_err(|e| ToolError::Usage(e.to_string()))
}

/// A duration argument (`300`, `90s`, `5m`, `1h`, `1d`) in seconds, or a usage error naming
/// the option `what` (none when empty).
pub fn duration_secs(text: &str, what: &str) -> Result<u64, ToolError> {
    time::parse_duration_secs(text).map_err(|e| match what {
        "" => ToolError::usage(e),
        _ => ToolError::usage(format!("{what}: {e}")),
    })
}
