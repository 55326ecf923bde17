//! Writing rows in PostgreSQL's COPY text format, sent in chunks so memory stays flat.

use recert_store::StoreError;
use sqlx::PgConnection;

use crate::db_err;

const CHUNK: usize = 1 << 20;

/// Buffers rows for one `COPY ... FROM STDIN` and streams them to the server.
pub(crate) struct CopyWriter {
    buf: Vec<u8>,
    first: bool,
}

impl CopyWriter {
    pub(crate) fn new() -> Self {
        CopyWriter {
            buf: Vec::with_capacity(CHUNK + 4096),
            first: true,
        }
    }

    /// Appends one field; `None` is SQL NULL.
    pub(crate) fn field(&mut self, v: Option<&str>) -> &mut Self {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        match v {
            None => self.buf.extend_from_slice(b"\\N"),
            Some(s) => {
                for &b in s.as_bytes() {
                    match b {
                        b'\\' => self.buf.extend_from_slice(b"\\\\"),
                        b'\t' => self.buf.extend_from_slice(b"\\t"),
                        b'\n' => self.buf.extend_from_slice(b"\\n"),
                        b'\r' => self.buf.extend_from_slice(b"\\r"),
                        _ => self.buf.push(b),
                    }
                }
            }
        }
        self
    }

    pub(crate) fn text(&mut self, v: &str) -> &mut Self {
        self.field(Some(v))
    }

    pub(crate) fn bool(&mut self, v: bool) -> &mut Self {
        self.field(Some(if v { "t" } else { "f" }))
    }

    /// Ends the row.
    pub(crate) fn end(&mut self) {
        self.buf.push(b'\n');
        self.first = true;
    }

    fn full(&self) -> bool {
        self.buf.len() >= CHUNK
    }

    /// Runs `COPY` with one row per item of `parts` (taken in order), each written by `row`,
    /// which also gets `ctx` (the import's timestamp). Plain function pointers and slices keep
    /// the future `Send` without higher-ranked lifetime trouble.
    pub(crate) async fn copy<T: Sync>(
        conn: &mut PgConnection,
        statement: &str,
        parts: &[&[T]],
        ctx: &str,
        row: fn(&mut CopyWriter, &T, &str),
    ) -> Result<u64, StoreError> {
        if parts.iter().all(|p| p.is_empty()) {
            return Ok(0);
        }
        let mut copy = conn.copy_in_raw(statement).await.map_err(db_err)?;
        let mut w = CopyWriter::new();
        for item in parts.iter().flat_map(|p| p.iter()) {
            row(&mut w, item, ctx);
            if w.full() {
                if let Err(e) = copy.send(std::mem::take(&mut w.buf)).await {
                    let _ = copy.abort("client error").await;
                    return Err(db_err(e));
                }
                w.buf.reserve(CHUNK + 4096);
            }
        }
        if !w.buf.is_empty()
            && let Err(e) = copy.send(w.buf).await
        {
            let _ = copy.abort("client error").await;
            return Err(db_err(e));
        }
        copy.finish().await.map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_copy_text_format() {
        let mut w = CopyWriter::new();
        w.text("a\tb\\c\nd").field(None).bool(true);
        w.end();
        assert_eq!(w.buf, b"a\\tb\\\\c\\nd\t\\N\tt\n");
    }
}
