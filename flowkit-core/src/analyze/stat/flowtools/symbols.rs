//! flow-tools symbol files (`tcp-port.sym`, `ip-prot.sym`, `asn.sym`, `tag.sym`) for flow-stat's
//! `-n`: lines `value<white space>name`, `#` comments; a later line for the same value wins,
//! and the name runs to the end of its line (trailing blanks kept), as flow-tools reads them.

use crate::analyze::keys::FastMap;

/// Names by value, from one symbol file.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    names: FastMap<u32, String>,
}

/// C's `strtoul(s, NULL, 0)`: decimal, `0x` hex or leading-`0` octal; stops at the first
/// character that is not a digit (0 when none).
fn strtoul(s: &str) -> u32 {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], radix).map_or(0, |v| v as u32)
}

impl Symbols {
    /// Parses a symbol file's text. A value with no name is an error naming the line.
    pub fn parse(text: &str) -> Result<Symbols, String> {
        let mut names = FastMap::default();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim_start();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let Some(split) = l.find(|c: char| c.is_ascii_whitespace()) else {
                return Err(format!("line {}: a value with no name", n + 1));
            };
            let name = l[split..].trim_start_matches([' ', '\t']);
            if name.is_empty() {
                return Err(format!("line {}: a value with no name", n + 1));
            }
            names.insert(strtoul(&l[..split]), name.to_string());
        }
        Ok(Symbols { names })
    }

    /// The name of `value`, if the file has one.
    pub fn name(&self, value: u32) -> Option<&str> {
        self.names.get(&value).map(String::as_str)
    }
}
