//! The flow-tools filter language (flow-nfilter's configuration files), compiled to column tests.
//!
//! ```
//! use flowkit_core::filter::{CompileOptions, FilterFile, Variables};
//! let text = "filter-primitive web\n  type ip-port\n  permit 80,443\n\
//!             filter-definition to-web\n  match ip-destination-port web\n";
//! let file = FilterFile::parse(text, "example.cfg", &Variables::new()).unwrap();
//! let filter = file.compile("to-web", &CompileOptions::default()).unwrap();
//! # let _ = filter;
//! ```
//!
//! Modules: [`vars`] (`-v` bindings and `@NAME` expansion), `grammar.pest` + `parse` (lines → AST
//! with spans), [`ast`], `compile` (AST → typed tests), `eval` (tests over [`FlowBlock`]s),
//! [`interp`] (a per-record reference interpreter), [`error`]. The language and every difference
//! from flow-tools are documented in `docs/filter-language.md`.

pub mod ast;
mod compile;
pub mod error;
mod eval;
pub mod expr;
pub mod interp;
mod intervals;
mod kernel;
mod lists;
mod parse;
pub mod sql;
mod symbols;
pub use crate::time::getdate as timedate;
mod values;
pub mod vars;

pub use ast::{Action, Definition, MatchField, Primitive, PrimitiveKind};
pub use compile::CompileOptions;
pub use error::{Diagnostic, FilterError};
pub use eval::{BlockPrune, CompiledFilter, Selection};
pub use interp::Interpreter;
pub use vars::Variables;

use ast::MissingVariable;
use std::collections::BTreeSet;

#[cfg(doc)]
use crate::model::block::FlowBlock;

/// A parsed filter file: its primitives and definitions, checked and resolved.
#[derive(Clone, Debug)]
pub struct FilterFile {
    /// The name the file is reported under.
    pub origin: String,
    /// The file's text as written (errors quote it).
    pub source: String,
    /// The primitives in file order.
    pub primitives: Vec<Primitive>,
    /// The definitions in file order.
    pub definitions: Vec<Definition>,
    /// Every variable name the file references (outside comments).
    pub referenced_variables: BTreeSet<String>,
}

impl FilterFile {
    /// Parses and checks a filter file. `origin` names it in messages; `vars` are the `-v` values.
    pub fn parse(source: &str, origin: &str, vars: &Variables) -> Result<FilterFile, FilterError> {
        parse::parse_file(source, origin, vars)
    }

    /// The text of a filter file read as bytes: UTF-8, or an error naming the file, line and
    /// column of the first byte that is not (flow-tools reads bytes and would mis-read such a
    /// line silently). A byte order mark is removed later, by [`FilterFile::parse`].
    pub fn text_from_bytes(bytes: Vec<u8>, origin: &str) -> Result<String, FilterError> {
        String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let bad = e.utf8_error().error_len().unwrap_or(bytes.len() - at);
            let shown: Vec<String> = bytes[at..at + bad.min(4)]
                .iter()
                .map(|b| format!("{b:#04x}"))
                .collect();
            // The text up to `at` is valid, so offsets agree up to the (replaced) bad byte.
            let lossy = String::from_utf8_lossy(bytes);
            FilterError::at(
                origin,
                &lossy,
                ast::Span::new(at, at + '\u{FFFD}'.len_utf8()),
                format!(
                    "not UTF-8 text: byte {} at byte offset {at} (filter files are UTF-8 or \
                     ASCII; convert with e.g. `iconv -f latin1 -t utf-8`)",
                    shown.join(" ")
                ),
            )
        })
    }

    /// The index of the primitive called `name` (names ignore case).
    pub fn primitive_index(&self, name: &str) -> Option<usize> {
        self.primitives
            .iter()
            .position(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The index of the definition called `name` (names ignore case).
    pub fn definition_index(&self, name: &str) -> Option<usize> {
        self.definitions
            .iter()
            .position(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// The definition called `name`, or an error suggesting the nearest one.
    pub fn definition(&self, name: &str) -> Result<&Definition, FilterError> {
        match self.definition_index(name) {
            Some(i) => Ok(&self.definitions[i]),
            None => {
                let names = self.definitions.iter().map(|d| d.name.as_str());
                let hint = match error::nearest(name, names.clone()) {
                    Some(n) => format!("; did you mean `{n}`?"),
                    None if self.definitions.is_empty() => " (it has no definitions)".to_string(),
                    None => {
                        let all: Vec<&str> = names.collect();
                        format!(" (definitions: {})", all.join(", "))
                    }
                };
                Err(FilterError::UnknownDefinition {
                    name: name.to_string(),
                    origin: self.origin.clone(),
                    hint,
                })
            }
        }
    }

    /// The primitives a definition uses, each once, in first-use order.
    pub fn primitives_of(&self, d: &Definition) -> Vec<usize> {
        // A definition may use 100,000 primitives: no `out.contains` per item.
        let mut seen = vec![false; self.primitives.len()];
        let mut out = Vec::new();
        for item in d.groups.iter().flatten() {
            if let Some(s) = seen.get_mut(item.primitive) {
                if !*s {
                    *s = true;
                    out.push(item.primitive);
                }
            }
        }
        out
    }

    /// Variables the definition (or a primitive it uses) references without a value.
    pub fn missing_variables<'a>(&'a self, d: &'a Definition) -> Vec<&'a MissingVariable> {
        let mut out: Vec<&MissingVariable> = d.missing.iter().collect();
        for p in self.primitives_of(d) {
            out.extend(self.primitives[p].missing.iter());
        }
        out
    }

    /// Warnings of the primitives a definition uses.
    pub fn warnings_of(&self, d: &Definition) -> Vec<&Diagnostic> {
        self.primitives_of(d)
            .into_iter()
            .flat_map(|p| self.primitives[p].warnings.iter())
            .collect()
    }

    /// Checks that definition `name` can be evaluated: it exists, its variables have values,
    /// and it tests only fields flowkit records carry.
    pub fn usable(&self, name: &str) -> Result<&Definition, FilterError> {
        let d = self.definition(name)?;
        if let Some(m) = self.missing_variables(d).first() {
            let diag = Diagnostic::new(&self.origin, &self.source, m.span, "");
            return Err(FilterError::MissingVariable {
                definition: d.name.clone(),
                variable: m.name.clone(),
                origin: self.origin.clone(),
                line: diag.line,
                column: diag.column,
            });
        }
        if let Some(item) = d.groups.iter().flatten().find(|i| !i.field.carried()) {
            let diag = Diagnostic::new(&self.origin, &self.source, item.field_span, "");
            let note = match item.field {
                MatchField::ShortcutAddr => " (flow-tools has it in NetFlow v7 records only)",
                _ => " (flow-tools has it in NetFlow v8 aggregates only)",
            };
            return Err(FilterError::UnsupportedField {
                definition: d.name.clone(),
                field: item.field.name(),
                origin: self.origin.clone(),
                line: diag.line,
                note,
            });
        }
        Ok(d)
    }

    /// Compiles definition `name` for evaluation over blocks.
    pub fn compile(
        &self,
        name: &str,
        opts: &CompileOptions,
    ) -> Result<CompiledFilter, FilterError> {
        let d = self.usable(name)?;
        Ok(compile::compile_definition(self, d, opts))
    }

    /// A per-record interpreter of definition `name` (the reference for the compiled path).
    pub fn interpreter(
        &self,
        name: &str,
        opts: &CompileOptions,
    ) -> Result<Interpreter<'_>, FilterError> {
        let d = self.usable(name)?;
        Ok(Interpreter::new(self, d, opts))
    }
}

#[cfg(test)]
mod input_tests;
#[cfg(test)]
pub(crate) mod tests;
