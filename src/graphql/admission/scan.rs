//! The document's text, checked in one pass before it is parsed (see [`scan`]).

use crate::code::Code;
use std::collections::HashSet;

use async_graphql::Pos;

use crate::graphql::error::Refused;

fn error(code: Code, message: String) -> Refused {
    Refused::new(code, message)
}

/// What an open bracket of the text is.
enum Open<'a> {
    /// `(`: arguments or variable definitions.
    Paren,
    /// `[`: a list value.
    List,
    /// `{` of a selection set.
    Selection,
    /// `{` of an input object value, with the field names it has given so far.
    Object(HashSet<&'a str>),
}

/// Checks the text before it is parsed, in one pass that skips strings and comments:
/// - `{`, `[` and `(` nest at most `max` deep (see the module's notes);
/// - an input object value names each field once (the specification's rule 5.6.3, which the
///   parser cannot check: it keeps the last of a repeated field). A `{` opens an object value
///   where a value stands: inside arguments, a list or another object value;
/// - parentheses are not empty (a syntax error the parser lets through).
///
/// Returns where the text writes the integer `-0` (its `-`): async-graphql's parser reads it as
/// the float -0.0, which no `Int` argument takes; the document step parses a copy with those
/// signs blanked (`0` is the same integer, and every position stays where it was).
pub fn scan(query: &str, max: usize) -> Result<Vec<usize>, Refused> {
    let bytes = query.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut negative_zeros = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                if open.len() >= max {
                    return Err(error(
                        Code::NestingTooDeep,
                        format!("the document nests brackets more than {max} deep"),
                    ));
                }
                // Arguments and variable definitions are never empty; async-graphql's parser
                // lets `()` through.
                if bytes[i] == b'('
                    && let Some(at) = significant_from(bytes, i + 1)
                    && bytes[at] == b')'
                {
                    return Err(Refused::at(
                        Code::GraphqlParseFailed,
                        "Syntax Error: Expected Name, found \")\".",
                        vec![position(query, at)],
                    ));
                }
                open.push(match bytes[i] {
                    b'(' => Open::Paren,
                    b'[' => Open::List,
                    _ => match open.last() {
                        Some(Open::Paren | Open::List | Open::Object(_)) => {
                            Open::Object(HashSet::new())
                        }
                        None | Some(Open::Selection) => Open::Selection,
                    },
                });
            }
            b'}' | b']' | b')' => {
                open.pop();
            }
            // A variable's name, or a number (whose exponent is a letter): never a field name.
            b'$' | b'0'..=b'9' | b'-' => {
                if bytes[i] == b'-'
                    && bytes.get(i + 1) == Some(&b'0')
                    && !matches!(bytes.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
                {
                    negative_zeros.push(i);
                }
                i += 1;
                while i < bytes.len() && is_name_byte(bytes[i]) {
                    i += 1;
                }
                continue;
            }
            b if is_name_byte(b) => {
                let start = i;
                while i < bytes.len() && is_name_byte(bytes[i]) {
                    i += 1;
                }
                if let Some(Open::Object(fields)) = open.last_mut()
                    && next_significant(bytes, i) == Some(b':')
                {
                    let name = &query[start..i];
                    if !fields.insert(name) {
                        return Err(super::rules::invalid(
                            format!("There can be only one input field named \"{name}\"."),
                            vec![position(query, start)],
                        ));
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(negative_zeros)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The first byte from `i` on that is not white space, a comma or a comment.
fn next_significant(bytes: &[u8], i: usize) -> Option<u8> {
    significant_from(bytes, i).map(|at| bytes[at])
}

/// Where the first byte from `i` on that is not white space, a comma or a comment is.
fn significant_from(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            _ => return Some(i),
        }
    }
    None
}

/// The line and column (in characters, from 1) of byte `offset`.
fn position(query: &str, offset: usize) -> Pos {
    let before = &query[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    Pos { line, column }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nesting(q: &str, max: usize) -> bool {
        scan(q, max).is_ok()
    }

    #[test]
    fn nesting_skips_strings_and_comments() {
        assert!(nesting("{ a(x: \"[[[[\") }", 2));
        assert!(nesting("{ a(x: \"\"\"[[[[ \\\"\"\" [[\"\"\") } # [[[[", 2));
        assert!(nesting("{ a(x: [[1]]) }", 4));
        assert!(!nesting("{ a(x: [[1]]) }", 3));
    }

    #[test]
    fn repeated_input_fields_are_found_in_object_values_only() {
        let repeated = |q: &str| {
            scan(q, 64)
                .err()
                .map(|e| (e.error.message, e.error.locations))
        };
        assert_eq!(
            repeated("{ a(x: { k: 1, j: K, l: $k }) { k: b k: c } }"),
            None
        );
        assert_eq!(
            repeated("query($v: I = { k: 1e5, e5: [{ k: 2 }] }) { a }"),
            None
        );
        assert_eq!(
            repeated("{ a(x: [{ k: 1 }, { j: 2,\n  j: 3 }]) { b } }"),
            Some((
                "There can be only one input field named \"j\".".to_owned(),
                vec![Pos { line: 2, column: 3 }]
            ))
        );
        assert_eq!(
            repeated("{ a(x: { k: { k: 1 } # k:\n k: \"k:\" }) }").map(|(m, _)| m),
            Some("There can be only one input field named \"k\".".to_owned())
        );
    }
}
