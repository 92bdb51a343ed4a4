//! Page requests for Relay connections. Cursors are opaque to clients; inside they are the
//! item's offset in the ordered list, so any ordering (by a rate, nulls last) pages stably.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{AppError, AppResult};

/// Items a page holds when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

const CURSOR_PREFIX: &str = "offset:";

/// A validated `first`/`after` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to skip.
    pub offset: u64,
    /// Items to return.
    pub limit: u64,
}

impl PageRequest {
    /// Validates `first` (default 20, at most `max`: more is refused rather than silently cut,
    /// so a client never mistakes a short page for the end of the list) and `after` (a cursor
    /// of this API).
    pub fn new(first: Option<i32>, after: Option<&str>, max: u64) -> AppResult<Self> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE.min(max),
            Some(n) if n < 0 => {
                return Err(AppError::BadUserInput(format!(
                    "`first` must be zero or more, got {n}"
                )));
            }
            Some(n) if u64::from(n.unsigned_abs()) > max => {
                return Err(AppError::BadUserInput(format!(
                    "`first` may be at most {max} (the page size cap), got {n}; page with `after`"
                )));
            }
            Some(n) => u64::from(n.unsigned_abs()),
        };
        let offset = match after {
            None => 0,
            Some(cursor) => decode_cursor(cursor)? + 1,
        };
        Ok(Self { offset, limit })
    }
}

/// One page of items and the size of the whole list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in order.
    pub items: Vec<T>,
    /// Offset of the first item.
    pub offset: u64,
    /// Items in the whole list, over all pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// Whether items follow this page.
    pub fn has_next_page(&self) -> bool {
        self.offset + (self.items.len() as u64) < self.total
    }
}

/// The cursor of the item at `offset`.
pub fn encode_cursor(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// The offset inside a cursor made by [`encode_cursor`]; anything else is bad input.
pub fn decode_cursor(cursor: &str) -> AppResult<u64> {
    let invalid = || AppError::BadUserInput(format!("`{cursor}` is not a cursor of this API"));
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
    let offset = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    // Offsets beyond i64 cannot be handed to SQL; no real list gets there.
    offset
        .parse::<u64>()
        .ok()
        .filter(|n| *n < i64::MAX as u64)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(41)).ok(), Some(41));
    }

    #[test]
    fn garbage_is_not_a_cursor() {
        for bad in ["", "!!", "b2Zmc2V0Oi0x", "eHl6"] {
            assert!(
                matches!(decode_cursor(bad), Err(AppError::BadUserInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_defaults_to_twenty_and_may_not_pass_the_cap() {
        assert_eq!(
            PageRequest::new(None, None, 100).ok(),
            Some(PageRequest {
                offset: 0,
                limit: 20
            })
        );
        assert_eq!(
            PageRequest::new(Some(100), None, 100).ok().map(|p| p.limit),
            Some(100)
        );
        assert!(PageRequest::new(Some(101), None, 100).is_err());
        assert!(PageRequest::new(Some(-1), None, 100).is_err());
    }
}
