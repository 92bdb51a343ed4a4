//! A byte stream of XML checked before the XML reader sees it, so that no event it buffers can
//! grow past a bound: quick-xml gathers a whole tag, text run, comment or declaration into its
//! buffer before it returns the event, and a workbook part may inflate to tens of megabytes.
//!
//! - every tag (quoted attribute values included) and every text run between tags is at most
//!   `max_event` bytes;
//! - comments, CDATA sections, document type declarations (and with them every entity trick)
//!   and processing instructions are refused: spreadsheet programs write none of them in the
//!   parts we read, and each could hide a long run behind its own delimiters. Only the XML
//!   declaration is allowed, at the very start.

use std::io::{self, Read};

/// Longest tag or text run: Excel's longest cell (32,767 characters) written as character
/// references of up to 8 bytes each.
pub const MAX_EVENT: usize = 32_767 * 8;

/// What the guard refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A tag or text run longer than the bound.
    LongEvent,
    /// A comment, CDATA section, DTD or processing instruction.
    Markup,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Text,
    TagOpen,
    Tag,
    Quoted(u8),
}

/// `inner`, checked as it is read (see the module's notes).
pub struct Guard<R> {
    inner: R,
    state: State,
    run: usize,
    tags: u64,
    max_event: usize,
    refused: Option<Refusal>,
}

impl<R: Read> Guard<R> {
    /// Guards `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            state: State::Text,
            run: 0,
            tags: 0,
            max_event: MAX_EVENT,
            refused: None,
        }
    }

    /// Why reading stopped, if the guard stopped it.
    pub fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    fn step(&mut self, byte: u8) -> Result<(), Refusal> {
        self.run += 1;
        self.state = match (self.state, byte) {
            (State::Text, b'<') => {
                self.run = 1;
                self.tags += 1;
                State::TagOpen
            }
            (State::Text, _) => State::Text,
            (State::TagOpen, b'!') => return Err(Refusal::Markup),
            // The declaration, the part's first tag.
            (State::TagOpen, b'?') if self.tags == 1 => State::Tag,
            (State::TagOpen, b'?') => return Err(Refusal::Markup),
            (State::TagOpen | State::Tag, b'"' | b'\'') => State::Quoted(byte),
            (State::TagOpen | State::Tag, b'>') => {
                self.run = 0;
                State::Text
            }
            (State::TagOpen | State::Tag, _) => State::Tag,
            (State::Quoted(q), b) if b == q => State::Tag,
            (quoted @ State::Quoted(_), _) => quoted,
        };
        if self.run > self.max_event {
            return Err(Refusal::LongEvent);
        }
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(refusal) = self.refused {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{refusal:?}"),
            ));
        }
        let n = self.inner.read(buf)?;
        for &byte in &buf[..n] {
            if let Err(refusal) = self.step(byte) {
                self.refused = Some(refusal);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{refusal:?}"),
                ));
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
// A failed expectation in a test should panic with its message: that is the report.
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn read(xml: &str, max_event: usize) -> Result<(), Refusal> {
        let mut guard = Guard::new(xml.as_bytes());
        guard.max_event = max_event;
        let mut out = Vec::new();
        match guard.read_to_end(&mut out) {
            Ok(_) => Ok(()),
            Err(_) => Err(guard.refused().unwrap_or(Refusal::Markup)),
        }
    }

    #[test]
    fn ordinary_parts_pass() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><sst count="2"><si><t>a &amp; b</t></si></sst>"#;
        assert_eq!(read(xml, 64), Ok(()));
    }

    #[test]
    fn long_runs_comments_and_dtds_are_refused() {
        assert_eq!(
            read(&format!("<t>{}</t>", "x".repeat(65)), 64),
            Err(Refusal::LongEvent)
        );
        // '>' inside a quoted attribute value does not end the tag.
        let quoted = format!(r#"<c r="{}">"#, ">".repeat(65));
        assert_eq!(read(&quoted, 64), Err(Refusal::LongEvent));
        assert_eq!(read("<a><!-- x --></a>", 64), Err(Refusal::Markup));
        assert_eq!(
            read("<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", 64),
            Err(Refusal::Markup)
        );
        assert_eq!(read("<a><![CDATA[x]]></a>", 64), Err(Refusal::Markup));
        assert_eq!(read("<a><?pi x?></a>", 64), Err(Refusal::Markup));
    }
}
