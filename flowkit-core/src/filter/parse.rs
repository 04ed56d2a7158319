//! Reading a filter file: lines → variable expansion → pest → primitives and definitions.
//!
//! The file is read line by line as flow-tools does (a statement never spans lines). Each line
//! is expanded (see [`vars`](super::vars)), parsed with the grammar in `grammar.pest`, and applied
//! to the primitive or definition being built. Every error is located in the line as written.

use super::ast::*;
use super::error::{did_you_mean, Diagnostic, FilterError};
use super::lists;
use super::values::parse_value;
use super::vars::{expand, Expansion, Variables};
use super::FilterFile;
use pest::iterators::Pair;
use pest::Parser;
use std::collections::HashMap;
use std::io::Read;

/// The pest parser of `grammar.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "filter/grammar.pest"]
pub(crate) struct LineParser;

/// The statements a line may start with.
const KEYWORDS: &[&str] = &[
    "filter-primitive",
    "filter-definition",
    "type",
    "permit",
    "deny",
    "default",
    "mask",
    "match",
    "or",
    "invert",
];

/// pest's "expected ..." message with rule names a user understands.
pub(crate) fn pest_message(e: pest::error::Error<Rule>) -> String {
    e.renamed_rules(|r| {
        match r {
            Rule::EOI => "end of line",
            Rule::name => "a name",
            Rule::type_name => "a primitive type",
            Rule::field_name => "a match field",
            Rule::value => "a value",
            Rule::action => "permit or deny",
            Rule::number => "a number",
            Rule::op => "one of lt, gt, eq, ne, le, ge",
            Rule::vsp => "a blank and more",
            Rule::bucket_item => "a value",
            Rule::negate => "`!`",
            Rule::address => "an address",
            Rule::prefix_len => "a prefix length",
            Rule::tag => "a tag",
            Rule::real => "a number",
            Rule::clock => "a time of day (H[:M[:S]])",
            Rule::date_text => "a date",
            other => return format!("{other:?}").replace('_', " "),
        }
        .to_string()
    })
    .variant
    .message()
    .into_owned()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Primitive(usize),
    Definition(usize),
}

struct Loader<'a> {
    origin: &'a str,
    source: &'a str,
    vars: &'a Variables,
    file: FilterFile,
    section: Section,
    /// A `match` line after this point joins the last group (false after `or` or a new definition).
    group_open: bool,
    /// Byte offset of the current line in `source`.
    line_start: usize,
    /// Byte offset of every line of `source` (messages find their line number here).
    line_starts: Vec<usize>,
    /// Primitive and definition indices by lowercased name (a linear search per name made a
    /// file of 100,000 primitives quadratic).
    primitive_names: HashMap<String, usize>,
    definition_names: HashMap<String, usize>,
}

/// Parses a whole filter file. `origin` names it in messages.
pub(crate) fn parse_file(
    source: &str,
    origin: &str,
    vars: &Variables,
) -> Result<FilterFile, FilterError> {
    // A byte order mark (some Windows editors write one) is not part of the first word; flow-tools
    // would report `filter-primitive` as unknown. Columns then count from after it, as editors show.
    let source = source.strip_prefix('\u{FEFF}').unwrap_or(source);
    let mut l = Loader {
        origin,
        source,
        vars,
        file: FilterFile {
            origin: origin.to_string(),
            source: source.to_string(),
            primitives: Vec::new(),
            definitions: Vec::new(),
            referenced_variables: Default::default(),
        },
        section: Section::None,
        group_open: false,
        line_start: 0,
        line_starts: std::iter::once(0)
            .chain(
                source
                    .bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect(),
        primitive_names: HashMap::new(),
        definition_names: HashMap::new(),
    };
    if let Some(at) = source.find('\0') {
        return Err(l.err(
            Span::new(at, at + 1),
            "a NUL byte (is this a binary file? a filter file is text)",
        ));
    }
    let mut offset = 0;
    for raw in source.split('\n') {
        l.line_start = offset;
        offset += raw.len() + 1;
        l.line(raw)?;
    }
    l.finish()?;
    Ok(l.file)
}

/// Cuts a comment: a line whose first word starts with `#`, or (unlike flow-tools) a `#` after a blank.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            return &line[..i];
        }
    }
    line
}

impl<'a> Loader<'a> {
    fn err(&self, span: Span, message: impl Into<String>) -> FilterError {
        FilterError::Located(Box::new(self.diag(span, message)))
    }

    fn diag(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::with_lines(
            self.origin,
            self.source,
            span,
            message,
            Some(&self.line_starts),
        )
    }

    /// The 1-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset).max(1)
    }

    /// Span in the file of an expanded range of the current line.
    fn span(&self, exp: &Expansion, start: usize, end: usize) -> Span {
        let (s, e) = exp.map(start, end);
        Span::new(self.line_start + s, self.line_start + e)
    }

    fn pair_span(&self, exp: &Expansion, p: &Pair<'_, Rule>) -> Span {
        self.span(exp, p.as_span().start(), p.as_span().end())
    }

    fn line(&mut self, raw: &str) -> Result<(), FilterError> {
        // CRLF files work (flow-tools rejects them: `\r` is not a blank there).
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let body = strip_comment(raw);
        if body.trim_matches([' ', '\t']).is_empty() {
            return Ok(());
        }
        let exp = expand(body, self.vars).map_err(|p| {
            self.err(
                Span::new(self.line_start + p.orig.0, self.line_start + p.orig.1),
                p.message,
            )
        })?;
        self.file
            .referenced_variables
            .extend(exp.referenced.iter().cloned());
        if !exp.unset.is_empty() {
            return self.line_with_unset(&exp);
        }
        self.check_keyword(&exp)?;
        let line = LineParser::parse(Rule::line, &exp.text)
            .map_err(|e| self.syntax_error(&exp, 0, e))?
            .next()
            .expect("a successful parse has its top rule");
        let Some(stmt) = line.into_inner().find(|p| p.as_rule() != Rule::EOI) else {
            return Ok(());
        };
        self.statement(&exp, stmt)
    }

    /// An unknown first word gets a suggestion instead of pest's list of every statement.
    fn check_keyword(&self, exp: &Expansion) -> Result<(), FilterError> {
        let text = &exp.text;
        let start = text.len() - text.trim_start_matches([' ', '\t']).len();
        let end = text[start..]
            .find([' ', '\t'])
            .map_or(text.len(), |k| start + k);
        let word = &text[start..end];
        if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word)) {
            return Ok(());
        }
        let mut msg = format!(
            "unknown statement `{word}`{}",
            did_you_mean(word, KEYWORDS.iter().copied())
        );
        if let Some((var, value)) = exp.variable_at(start) {
            msg.push_str(&format!(" (from variable {var} = `{value}`)"));
        }
        msg.push_str(
            " (a line is filter-primitive, filter-definition, type, permit, deny, default, mask, \
             match, or, invert, or a # comment)",
        );
        Err(self.err(self.span(exp, start, end), msg))
    }

    /// Turns a pest error on expanded text (starting at `base`) into one on the line as written.
    fn syntax_error(
        &self,
        exp: &Expansion,
        base: usize,
        e: pest::error::Error<Rule>,
    ) -> FilterError {
        let pos = base
            + match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
        let text = &exp.text;
        let end = text[pos..]
            .find([' ', '\t'])
            .map_or(text.len(), |k| pos + k);
        let found = &text[pos..end];
        let expected = pest_message(e);
        let mut msg = if found.is_empty() {
            expected
        } else {
            format!("unexpected `{found}`: {expected}")
        };
        if found.starts_with('#') {
            msg.push_str(" (a comment starts with # after a blank)");
        }
        if let Some((var, value)) = exp.variable_at(pos) {
            msg.push_str(&format!(" (from variable {var} = `{value}`)"));
        }
        self.err(self.span(exp, pos, end), msg)
    }

    fn line_with_unset(&mut self, exp: &Expansion) -> Result<(), FilterError> {
        let first = exp
            .text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let missing: Vec<MissingVariable> = exp
            .unset
            .iter()
            .map(|u| MissingVariable {
                name: u.name.clone(),
                span: Span::new(self.line_start + u.orig.0, self.line_start + u.orig.1),
            })
            .collect();
        let heads = ["filter-primitive", "filter-definition"];
        match self.section {
            Section::Primitive(i) if !heads.contains(&first.as_str()) => {
                self.file.primitives[i].missing.extend(missing);
                Ok(())
            }
            Section::Definition(i) if !heads.contains(&first.as_str()) => {
                self.file.definitions[i].missing.extend(missing);
                Ok(())
            }
            _ => {
                let m = &missing[0];
                Err(self.err(
                    m.span,
                    format!(
                        "variable {} has no value; give -v {}=VALUE or write @{{{}:-DEFAULT}}",
                        m.name, m.name, m.name
                    ),
                ))
            }
        }
    }

    fn current_primitive(
        &self,
        exp: &Expansion,
        kw: &Pair<'_, Rule>,
    ) -> Result<usize, FilterError> {
        match self.section {
            Section::Primitive(i) => Ok(i),
            _ => Err(self.err(
                self.keyword_span(exp, kw),
                format!(
                    "`{}` belongs in a filter-primitive (after a `filter-primitive NAME` line)",
                    keyword_of(kw)
                ),
            )),
        }
    }

    fn current_definition(
        &self,
        exp: &Expansion,
        kw: &Pair<'_, Rule>,
    ) -> Result<usize, FilterError> {
        match self.section {
            Section::Definition(i) => Ok(i),
            _ => Err(self.err(
                self.keyword_span(exp, kw),
                format!(
                    "`{}` belongs in a filter-definition (after a `filter-definition NAME` line)",
                    keyword_of(kw)
                ),
            )),
        }
    }

    fn keyword_span(&self, exp: &Expansion, stmt: &Pair<'_, Rule>) -> Span {
        let s = stmt.as_span().start();
        let len = keyword_of(stmt).len();
        self.span(exp, s, s + len)
    }

    fn statement(&mut self, exp: &Expansion, stmt: Pair<'_, Rule>) -> Result<(), FilterError> {
        let rule = stmt.as_rule();
        let inner: Vec<Pair<'_, Rule>> = stmt.clone().into_inner().collect();
        match rule {
            Rule::primitive_head => {
                let name = inner[0].as_str();
                let span = self.pair_span(exp, &inner[0]);
                let key = name.to_ascii_lowercase();
                if let Some(&p) = self.primitive_names.get(&key) {
                    let at = self.line_of(self.file.primitives[p].span.start);
                    return Err(self.err(
                        span,
                        format!("filter-primitive `{name}` is already defined at line {at}"),
                    ));
                }
                self.file.primitives.push(Primitive {
                    name: name.to_string(),
                    span,
                    kind: None,
                    kind_span: None,
                    default: Action::Deny,
                    mask: 0xff,
                    entries: Vec::new(),
                    missing: Vec::new(),
                    warnings: Vec::new(),
                });
                self.section = Section::Primitive(self.file.primitives.len() - 1);
                self.primitive_names
                    .insert(key, self.file.primitives.len() - 1);
            }
            Rule::definition_head => {
                let name = inner[0].as_str();
                let span = self.pair_span(exp, &inner[0]);
                let key = name.to_ascii_lowercase();
                if let Some(&d) = self.definition_names.get(&key) {
                    let at = self.line_of(self.file.definitions[d].span.start);
                    return Err(self.err(
                        span,
                        format!("filter-definition `{name}` is already defined at line {at}"),
                    ));
                }
                self.file.definitions.push(Definition {
                    name: name.to_string(),
                    span,
                    groups: Vec::new(),
                    invert: false,
                    missing: Vec::new(),
                });
                self.section = Section::Definition(self.file.definitions.len() - 1);
                self.definition_names
                    .insert(key, self.file.definitions.len() - 1);
                self.group_open = false;
            }
            Rule::type_stmt => {
                let i = self.current_primitive(exp, &stmt)?;
                let span = self.pair_span(exp, &inner[0]);
                if let Some(prev) = self.file.primitives[i].kind_span {
                    let at = self.line_of(prev.start);
                    return Err(self.err(span, format!("the type was already given at line {at}")));
                }
                let word = inner[0].as_str();
                let kind = PrimitiveKind::from_keyword(word).ok_or_else(|| {
                    let names = PrimitiveKind::ALL.iter().map(|k| k.keyword());
                    let all: Vec<&str> = names.clone().collect();
                    self.err(
                        span,
                        format!(
                            "unknown primitive type `{word}`{} (types: {})",
                            did_you_mean(word, names),
                            all.join(", ")
                        ),
                    )
                })?;
                let p = &mut self.file.primitives[i];
                p.kind = Some(kind);
                p.kind_span = Some(span);
            }
            Rule::action_stmt => {
                let i = self.current_primitive(exp, &stmt)?;
                let action = action_of(&inner[0]);
                let Some(kind) = self.file.primitives[i].kind else {
                    if !self.file.primitives[i].missing.is_empty() {
                        return Ok(()); // its `type` line awaits a variable
                    }
                    return Err(self.err(
                        self.keyword_span(exp, &stmt),
                        format!("`{}` before the primitive's `type` line", action.name()),
                    ));
                };
                let value = &inner[1];
                if let Some(path) = list_path(value.as_str()) {
                    return self.list_entries(i, kind, action, path, self.pair_span(exp, value));
                }
                let base = value.as_span().start();
                let parsed = parse_value(kind, value.as_str()).map_err(|p| {
                    let mut msg = p.message;
                    if let Some((var, v)) = exp.variable_at(base + p.range.0) {
                        msg.push_str(&format!(" (from variable {var} = `{v}`)"));
                    }
                    self.err(self.span(exp, base + p.range.0, base + p.range.1), msg)
                })?;
                let warnings: Vec<Diagnostic> = parsed
                    .warnings
                    .iter()
                    .map(|(r, m)| self.diag(self.span(exp, base + r.0, base + r.1), m.clone()))
                    .collect();
                let span = self.pair_span(exp, value);
                let p = &mut self.file.primitives[i];
                if kind == PrimitiveKind::Rate && !p.entries.is_empty() {
                    p.warnings.push(Diagnostic::with_lines(
                        self.origin,
                        self.source,
                        span,
                        "a rate primitive has one rate; this line replaces the earlier one",
                        Some(&self.line_starts),
                    ));
                }
                p.warnings.extend(warnings);
                p.entries.push(Entry {
                    action,
                    value: parsed.value,
                    span,
                });
            }
            Rule::default_stmt => {
                let i = self.current_primitive(exp, &stmt)?;
                let action = action_of(&inner[0]);
                if self.file.primitives[i].kind == Some(PrimitiveKind::Rate) {
                    let d = self.diag(
                        self.keyword_span(exp, &stmt),
                        "`default` has no effect on a rate primitive",
                    );
                    self.file.primitives[i].warnings.push(d);
                }
                self.file.primitives[i].default = action;
            }
            Rule::mask_stmt => {
                let i = self.current_primitive(exp, &stmt)?;
                let span = self.pair_span(exp, &inner[0]);
                match self.file.primitives[i].kind {
                    Some(PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags) => {}
                    Some(k) => {
                        return Err(self.err(
                            self.keyword_span(exp, &stmt),
                            format!(
                                "`mask` is only for ip-tos and ip-tcp-flags primitives, not {}",
                                k.keyword()
                            ),
                        ))
                    }
                    None if !self.file.primitives[i].missing.is_empty() => return Ok(()),
                    None => {
                        return Err(self.err(
                            self.keyword_span(exp, &stmt),
                            "`mask` before the primitive's `type` line",
                        ))
                    }
                }
                let (v, warn) =
                    super::values::read_number(inner[0].as_str()).map_err(|m| self.err(span, m))?;
                let mask = u8::try_from(v)
                    .map_err(|_| self.err(span, format!("a mask is 0 to 0xff, not {v:#x}")))?;
                if let Some(w) = warn {
                    let d = self.diag(span, w);
                    self.file.primitives[i].warnings.push(d);
                }
                self.file.primitives[i].mask = mask;
            }
            Rule::match_stmt => {
                let i = self.current_definition(exp, &stmt)?;
                let field_word = inner[0].as_str();
                let field_span = self.pair_span(exp, &inner[0]);
                let field = MatchField::from_keyword(field_word).ok_or_else(|| {
                    let names = MatchField::ALL
                        .iter()
                        .flat_map(|f| f.names().iter().copied());
                    self.err(
                        field_span,
                        format!(
                            "unknown match field `{field_word}`{}",
                            did_you_mean(field_word, names)
                        ),
                    )
                })?;
                let item = MatchItem {
                    field,
                    field_span,
                    primitive_name: inner[1].as_str().to_string(),
                    primitive_span: self.pair_span(exp, &inner[1]),
                    primitive: usize::MAX,
                };
                let d = &mut self.file.definitions[i];
                if self.group_open {
                    d.groups
                        .last_mut()
                        .expect("an open group exists")
                        .push(item);
                } else {
                    d.groups.push(vec![item]);
                    self.group_open = true;
                }
            }
            Rule::or_stmt => {
                self.current_definition(exp, &stmt)?;
                self.group_open = false;
            }
            Rule::invert_stmt => {
                let i = self.current_definition(exp, &stmt)?;
                self.file.definitions[i].invert = true;
            }
            _ => unreachable!("the grammar has no other statement"),
        }
        Ok(())
    }

    /// Checks what needs the whole file: types given, definitions not empty, names resolved,
    /// types matching fields.
    fn finish(&mut self) -> Result<(), FilterError> {
        // A definition without match lines passes nothing in flow-tools: almost surely lines
        // left out. Inverted it passes everything, which is said outright, so it stays; one whose
        // match lines all await a variable is reported when it is chosen.
        if let Some(d) = self
            .file
            .definitions
            .iter()
            .find(|d| d.groups.is_empty() && !d.invert && d.missing.is_empty())
        {
            return Err(self.err(
                d.span,
                format!(
                    "filter-definition `{}` has no `match` lines, so it would pass no flow \
                     (as in flow-tools); give it `match FIELD PRIMITIVE` lines (or `invert` \
                     alone to pass every flow)",
                    d.name
                ),
            ));
        }
        for p in &self.file.primitives {
            if p.kind.is_none() && p.missing.is_empty() {
                return Err(self.err(
                    p.span,
                    format!("filter-primitive `{}` has no `type` line", p.name),
                ));
            }
        }
        for p in 0..self.file.primitives.len() {
            self.check_masks(p);
        }
        for d in 0..self.file.definitions.len() {
            for g in 0..self.file.definitions[d].groups.len() {
                for m in 0..self.file.definitions[d].groups[g].len() {
                    let item = &self.file.definitions[d].groups[g][m];
                    let def_name = &self.file.definitions[d].name;
                    let key = item.primitive_name.to_ascii_lowercase();
                    let Some(&pi) = self.primitive_names.get(&key) else {
                        let names = self.file.primitives.iter().map(|p| p.name.as_str());
                        return Err(self.err(
                            item.primitive_span,
                            format!(
                                "unknown filter-primitive `{}` in filter-definition `{def_name}`{}",
                                item.primitive_name,
                                did_you_mean(&item.primitive_name, names)
                            ),
                        ));
                    };
                    let prim = &self.file.primitives[pi];
                    if let Some(kind) = prim.kind {
                        if !item.field.accepts().contains(&kind) {
                            let wanted: Vec<&str> =
                                item.field.accepts().iter().map(|k| k.keyword()).collect();
                            return Err(self.err(
                                item.primitive_span,
                                format!(
                                    "`match {}` needs a primitive of type {}; `{}` (line {}) is of type {}",
                                    item.field.name(),
                                    wanted.join(" or "),
                                    prim.name,
                                    self.line_of(prim.span.start),
                                    kind.keyword()
                                ),
                            ));
                        }
                    }
                    self.file.definitions[d].groups[g][m].primitive = pi;
                }
            }
        }
        Ok(())
    }

    /// ip-tos/ip-tcp-flags values with bits outside the mask never match in flow-tools; we mask
    /// them (what the line evidently means) and say so.
    /// `permit file PATH`: one entry per address or prefix of the list file (filter/lists.rs),
    /// each at the `file` line.
    fn list_entries(
        &mut self,
        i: usize,
        kind: PrimitiveKind,
        action: Action,
        path: &str,
        span: Span,
    ) -> Result<(), FilterError> {
        if !matches!(
            kind,
            PrimitiveKind::IpAddress | PrimitiveKind::IpAddressPrefix
        ) {
            return Err(self.err(
                span,
                format!(
                    "`file` lists addresses, for ip-address and ip-address-prefix primitives, \
                     not {}",
                    kind.keyword()
                ),
            ));
        }
        let file = lists::resolve(path, self.origin);
        let name = file.display().to_string();
        let mut bytes = Vec::new();
        std::fs::File::open(&file)
            .and_then(|f| f.take(lists::MAX_LIST_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| self.err(span, format!("cannot read the address list {name}: {e}")))?;
        if bytes.len() as u64 > lists::MAX_LIST_BYTES {
            return Err(self.err(
                span,
                format!(
                    "the address list {name} is larger than {} MiB",
                    lists::MAX_LIST_BYTES >> 20
                ),
            ));
        }
        let text = FilterFile::text_from_bytes(bytes, &name)?;
        let values = lists::parse_list(&text, &name, kind)?;
        let entries = &mut self.file.primitives[i].entries;
        entries.extend(values.into_iter().map(|value| Entry {
            action,
            value,
            span,
        }));
        Ok(())
    }

    fn check_masks(&mut self, p: usize) {
        let prim = &self.file.primitives[p];
        if !matches!(
            prim.kind,
            Some(PrimitiveKind::IpTos | PrimitiveKind::IpTcpFlags)
        ) || prim.mask == 0xff
        {
            return;
        }
        let mask = prim.mask as u64;
        let mut warnings = Vec::new();
        for e in &prim.entries {
            if let Value::Buckets { ranges, .. } = &e.value {
                if let Some(&(lo, _)) = ranges
                    .iter()
                    .find(|(lo, hi)| (*lo..=*hi).any(|v| v & !mask != 0))
                {
                    warnings.push(self.diag(
                        e.span,
                        format!(
                            "value {lo:#x} has bits outside mask {mask:#x}; matching it as {:#x} (flow-tools never matches such values)",
                            lo & mask
                        ),
                    ));
                }
            }
        }
        self.file.primitives[p].warnings.extend(warnings);
    }
}

/// The PATH of a `permit file PATH` value.
fn list_path(value: &str) -> Option<&str> {
    let (word, rest) = value.split_once([' ', '\t'])?;
    word.eq_ignore_ascii_case("file").then(|| rest.trim())
}

fn keyword_of<'i>(stmt: &Pair<'i, Rule>) -> &'i str {
    let s = stmt.as_str();
    let end = s.find([' ', '\t']).unwrap_or(s.len());
    &s[..end]
}

fn action_of(p: &Pair<'_, Rule>) -> Action {
    if p.as_str().eq_ignore_ascii_case("permit") {
        Action::Permit
    } else {
        Action::Deny
    }
}
