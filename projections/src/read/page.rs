//! Keyset pagination: a cursor is the (time, id) of the last row seen, so pages stay stable
//! while new rows arrive. Cursors are opaque to clients (hex of `time:id`).

use crate::error::{ProjectionError, Result};

/// Largest page a client may ask for.
pub const MAX_PAGE: u32 = 100;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted (1..=100).
    pub first: u32,
    /// Continue after this row.
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Validates a client's `first`/`after`.
    ///
    /// # Errors
    /// `InvalidInput` for a size outside 1..=100 or a malformed cursor.
    pub fn new(first: Option<i32>, after: Option<&str>) -> Result<Self> {
        let first = first.unwrap_or(20);
        let first = u32::try_from(first)
            .ok()
            .filter(|f| (1..=MAX_PAGE).contains(f))
            .ok_or_else(|| ProjectionError::InvalidInput(format!("first must be between 1 and {MAX_PAGE}")))?;
        let after = after.map(Cursor::decode).transpose()?;
        Ok(PageRequest { first, after })
    }

    pub(crate) fn limit(&self) -> i64 {
        i64::from(self.first) + 1
    }

    /// The keyset bound as (time, id); past the newest possible row when starting.
    pub(crate) fn bound(&self) -> (i64, String) {
        match &self.after {
            Some(c) => (c.at, c.id.clone()),
            None => (i64::MAX, String::new()),
        }
    }

    pub(crate) fn starting(&self) -> bool {
        self.after.is_none()
    }
}

/// The position of a row in a time-ordered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Sort time (µs).
    pub at: i64,
    /// Row id (tie-breaker).
    pub id: String,
}

impl Cursor {
    /// Opaque text form.
    pub fn encode(&self) -> String {
        hex::encode(format!("{}:{}", self.at, self.id))
    }

    /// Parses the opaque form.
    ///
    /// # Errors
    /// `InvalidInput` when it is not a cursor this server made.
    pub fn decode(text: &str) -> Result<Self> {
        let bad = || ProjectionError::InvalidInput("after is not a valid cursor".into());
        if text.len() > 256 {
            return Err(bad());
        }
        let bytes = hex::decode(text).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (at, id) = text.split_once(':').ok_or_else(bad)?;
        let at = at.parse().map_err(|_| bad())?;
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(bad());
        }
        Ok(Cursor { at, id: id.to_owned() })
    }
}

/// One page of rows, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Rows with their cursors.
    pub items: Vec<(Cursor, T)>,
    /// Whether more rows follow.
    pub has_next_page: bool,
    /// Whether the page started after a cursor.
    pub has_previous_page: bool,
}

impl<T> Page<T> {
    /// Decodes fetched rows (one more than the page, to learn whether more follow) into a page;
    /// each row's cursor is its `time_column` and the id `view` gave it.
    pub(crate) fn decode(
        rows: &[sqlx::any::AnyRow],
        request: &PageRequest,
        time_column: &str,
        view: impl Fn(&sqlx::any::AnyRow) -> Result<T>,
        id: impl Fn(&T) -> uuid::Uuid,
    ) -> Result<Self> {
        use sqlx::Row;
        let items = rows
            .iter()
            .map(|r| {
                let item = view(r)?;
                let cursor = Cursor {
                    at: r.try_get(time_column)?,
                    id: id(&item).to_string(),
                };
                Ok((cursor, item))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, request))
    }

    pub(crate) fn from_rows(mut items: Vec<(Cursor, T)>, request: &PageRequest) -> Self {
        let has_next_page = items.len() > request.first as usize;
        items.truncate(request.first as usize);
        Page {
            items,
            has_next_page,
            has_previous_page: !request.starting(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let c = Cursor {
            at: 1_700_000_000_000_000,
            id: "0190a0b0-0000-7000-8000-000000000001".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn a_forged_cursor_is_bad_input_not_sql() {
        for bad in [
            "zz",
            &hex::encode("1:x' or 1=1 --"),
            &hex::encode("nope"),
            &"a".repeat(300),
        ] {
            assert!(
                matches!(Cursor::decode(bad), Err(ProjectionError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn page_sizes_outside_one_to_a_hundred_are_refused() {
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(101), None).is_err());
        assert!(PageRequest::new(Some(-1), None).is_err());
        assert_eq!(PageRequest::new(None, None).unwrap().first, 20);
    }
}
