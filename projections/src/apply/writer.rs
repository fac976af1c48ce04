//! The batch's write buffer. Rows the apply functions insert are held per table and written as
//! multi-row INSERTs, because one statement (one round trip) per event kept a rebuild at a
//! fraction of what the database accepts. Every other statement goes through [`Writer::touch`],
//! which first writes the pending rows of the table it names, so an update, a delete or a read
//! sees exactly what applying events one by one would have written; commit writes the rest.
//! Within a table rows keep their order, so `on conflict do nothing` keeps the first row as
//! before; tables have no triggers or foreign keys, so the order across tables is unobservable.
//! Must not know what an event means (that is the apply functions'), keep rows past its
//! transaction, or buffer anything but plain inserts (an upsert of the same key twice in one
//! statement is an error on Postgres).

use std::ptr;

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Transaction};

use crate::db::Backend;
use crate::error::Result;

/// SQLite's default limit on bound parameters per statement; Postgres allows 65 535.
const MAX_PARAMS: usize = 32_766;

/// Rows per statement at most, as in the bench's baseline. 250 or 1000 measured no faster on
/// either backend (`vigil bench rebuild`); 100 keeps the distinct statement texts (one per row
/// count) within sqlx's per-connection cache, and a full statement always has the same text,
/// so it stays prepared.
const MAX_ROWS: usize = 100;

/// An insert that may be buffered: its column list, a row template whose `?` are bound in
/// order (literals stay in the template), and what follows the rows.
#[derive(Debug)]
pub(crate) struct Insert {
    /// The table, which is what [`Writer::touch`] flushes by.
    pub table: &'static str,
    head: &'static str,
    row: &'static str,
    tail: &'static str,
    arity: usize,
}

impl Insert {
    /// `head` is `insert into t (a, b, c)`, `row` is e.g. `(?, ?, 0)`, `tail` e.g.
    /// `on conflict (a) do nothing` or empty.
    pub(crate) const fn new(table: &'static str, head: &'static str, row: &'static str, tail: &'static str) -> Insert {
        let bytes = row.as_bytes();
        let (mut i, mut arity) = (0, 0);
        while i < bytes.len() {
            if bytes[i] == b'?' {
                arity += 1;
            }
            i += 1;
        }
        Insert {
            table,
            head,
            row,
            tail,
            arity,
        }
    }

    fn rows_per_statement(&self) -> usize {
        MAX_ROWS.min(MAX_PARAMS / self.arity.max(1)).max(1)
    }

    /// The statement for `rows` rows: placeholders numbered `$1…` across them on Postgres, and
    /// left anonymous (`?`) on SQLite, where sqlx finds each named parameter by a linear scan,
    /// which makes binding a statement quadratic in its parameters (measured: a 250-row
    /// statement bound slower per row than a 100-row one, a 1000-row one ten times slower).
    fn sql(&self, rows: usize, backend: Backend) -> String {
        self.sql_after(rows, backend, 0)
    }

    /// [`Insert::sql`] with its Postgres placeholders numbered after the first `before`.
    fn sql_after(&self, rows: usize, backend: Backend, before: usize) -> String {
        let mut sql =
            String::with_capacity(self.head.len() + self.tail.len() + 16 + rows * (self.row.len() + 4 * self.arity));
        sql.push_str(self.head);
        sql.push_str(" values ");
        let mut n = before;
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            if backend == Backend::Sqlite {
                sql.push_str(self.row);
                continue;
            }
            for c in self.row.chars() {
                if c == '?' {
                    n += 1;
                    sql.push('$');
                    sql.push_str(&n.to_string());
                } else {
                    sql.push(c);
                }
            }
        }
        if !self.tail.is_empty() {
            sql.push(' ');
            sql.push_str(self.tail);
        }
        sql
    }
}

/// One bound value. Read-model columns are text or bigint (see `db`), and a typed null keeps
/// Postgres from guessing a column's type.
#[derive(Debug)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<String> for Arg {
    fn from(value: String) -> Arg {
        Arg::Text(Some(value))
    }
}
impl From<&str> for Arg {
    fn from(value: &str) -> Arg {
        Arg::Text(Some(value.to_owned()))
    }
}
impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Arg {
        Arg::Text(value)
    }
}
impl From<i64> for Arg {
    fn from(value: i64) -> Arg {
        Arg::Int(Some(value))
    }
}
impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Arg {
        Arg::Int(value)
    }
}

/// Rows waiting for one table, all of one [`Insert`].
struct Pending {
    insert: &'static Insert,
    args: Vec<Arg>,
}

impl Pending {
    /// The row count of each statement that writes the pending rows, full ones first.
    fn statements(&self) -> Vec<usize> {
        let per_statement = self.insert.rows_per_statement();
        let mut rows_left = self.args.len() / self.insert.arity.max(1);
        let mut counts = Vec::with_capacity(rows_left.div_ceil(per_statement));
        while rows_left > 0 {
            let rows = rows_left.min(per_statement);
            counts.push(rows);
            rows_left -= rows;
        }
        counts
    }
}

/// A write transaction with its pending inserts.
pub(crate) struct Writer {
    tx: Transaction<'static, Any>,
    backend: Backend,
    pending: Vec<Pending>,
}

impl Writer {
    pub(crate) fn new(tx: Transaction<'static, Any>, backend: Backend) -> Writer {
        Writer {
            tx,
            backend,
            pending: Vec::new(),
        }
    }

    /// The database it writes to (for the few statements whose SQL differs).
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Queues one row of `insert`; writes the table's rows once they fill a statement.
    pub(crate) async fn insert<const N: usize>(&mut self, insert: &'static Insert, row: [Arg; N]) -> Result<()> {
        debug_assert_eq!(N, insert.arity, "row of {} does not match its template", insert.table);
        let slot = match self.pending.iter().position(|p| p.insert.table == insert.table) {
            Some(i) => i,
            None => {
                self.pending.push(Pending {
                    insert,
                    args: Vec::new(),
                });
                self.pending.len() - 1
            }
        };
        let full = {
            let pending = &mut self.pending[slot];
            if !ptr::eq(pending.insert, insert) {
                // Another statement shape for the same table: its earlier rows go first.
                flush(&mut self.tx, self.backend, pending).await?;
                pending.insert = insert;
            }
            pending.args.extend(row);
            pending.args.len() >= insert.rows_per_statement() * insert.arity
        };
        if full {
            flush(&mut self.tx, self.backend, &mut self.pending[slot]).await?;
        }
        Ok(())
    }

    /// The connection, for a statement on `table` (an update, a delete, a read, or an insert
    /// that must not be buffered), after that table's pending rows are written.
    pub(crate) async fn touch(&mut self, table: &str) -> Result<&mut AnyConnection> {
        if let Some(pending) = self.pending.iter_mut().find(|p| p.insert.table == table) {
            flush(&mut self.tx, self.backend, pending).await?;
        }
        Ok(&mut *self.tx)
    }

    /// The connection, after every pending row is written.
    pub(crate) async fn touch_all(&mut self) -> Result<&mut AnyConnection> {
        for pending in &mut self.pending {
            flush(&mut self.tx, self.backend, pending).await?;
        }
        Ok(&mut *self.tx)
    }

    /// Writes what is pending and commits.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.touch_all().await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Runs `first` (a read, whose rows are returned), then writes every pending row, then runs
    /// `last`: on SQLite in one multi-statement call, because each statement is a round trip
    /// to the connection's thread and a batch's three were most of what it waited for under
    /// load; on Postgres, whose bound statements go one at a time, in that order.
    pub(crate) async fn finish(
        &mut self,
        first: Option<&'static str>,
        last: Option<(String, Vec<Arg>)>,
    ) -> Result<Vec<AnyRow>> {
        let params: usize =
            self.pending.iter().map(|p| p.args.len()).sum::<usize>() + last.as_ref().map_or(0, |(_, args)| args.len());
        if self.backend == Backend::Postgres || params > MAX_PARAMS_PER_CALL {
            let rows = match first {
                Some(sql) => sqlx::query(sql).fetch_all(&mut *self.tx).await?,
                None => Vec::new(),
            };
            let last = match (self.backend, last) {
                (Backend::Postgres, Some(last)) => self.flush_with(last).await?,
                (_, last) => {
                    self.touch_all().await?;
                    last
                }
            };
            if let Some((sql, args)) = last {
                bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
                    .execute(&mut *self.tx)
                    .await?;
            }
            return Ok(rows);
        }
        let mut sql = String::new();
        let mut args = Vec::with_capacity(params);
        if let Some(first) = first {
            sql.push_str(first);
            sql.push_str("; ");
        }
        for pending in &mut self.pending {
            for rows in pending.statements() {
                sql.push_str(&pending.insert.sql(rows, self.backend));
                sql.push_str("; ");
            }
            args.append(&mut pending.args);
        }
        if let Some((last, mut last_args)) = last {
            sql.push_str(&last);
            args.append(&mut last_args);
        }
        if sql.is_empty() {
            return Ok(Vec::new());
        }
        Ok(bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), args)
            .fetch_all(&mut *self.tx)
            .await?)
    }

    /// Postgres: writes every pending row, the last statement carrying `last` (numbered
    /// placeholders from `$1`) in front of it as `with … as (last) insert …`, so a batch's
    /// final write costs no round trip of its own. `last` must not touch a pending table: the
    /// two parts of one statement see the same snapshot. Gives `last` back when there was no
    /// insert to carry it.
    async fn flush_with(&mut self, last: (String, Vec<Arg>)) -> Result<Option<(String, Vec<Arg>)>> {
        let Some(end) = self.pending.iter().rposition(|p| !p.args.is_empty()) else {
            return Ok(Some(last));
        };
        for pending in &mut self.pending[..end] {
            flush(&mut self.tx, Backend::Postgres, pending).await?;
        }
        let pending = &mut self.pending[end];
        let insert = pending.insert;
        let mut statements = pending.statements();
        let Some(rows) = statements.pop() else {
            return Ok(Some(last));
        };
        let head: usize = statements.iter().sum::<usize>() * insert.arity.max(1);
        let mut args = std::mem::take(&mut pending.args);
        let tail = args.split_off(head);
        pending.args = args;
        flush(&mut self.tx, Backend::Postgres, pending).await?;
        let (update, mut update_args) = last;
        let sql = format!(
            "with moved as ({update}) {}",
            insert.sql_after(rows, Backend::Postgres, update_args.len())
        );
        update_args.extend(tail);
        bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), update_args)
            .execute(&mut *self.tx)
            .await?;
        Ok(None)
    }
}

/// Bound parameters in one SQLite call at most, as in the store's appender: SQLite's limit is
/// per statement, but a call's statements are bound from one list.
const MAX_PARAMS_PER_CALL: usize = 30_000;

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
    args: impl IntoIterator<Item = Arg>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
    for arg in args {
        query = match arg {
            Arg::Text(text) => query.bind(text),
            Arg::Int(int) => query.bind(int),
        };
    }
    query
}

/// Writes `pending`'s rows, a full statement at a time, and leaves it empty.
async fn flush(conn: &mut AnyConnection, backend: Backend, pending: &mut Pending) -> Result<()> {
    let insert = pending.insert;
    let statements = pending.statements();
    let mut args = pending.args.drain(..);
    for rows in statements {
        let query = sqlx::query(sqlx::AssertSqlSafe(insert.sql(rows, backend)));
        bind_all(query, args.by_ref().take(rows * insert.arity.max(1)))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static ROW: Insert = Insert::new(
        "t",
        "insert into t (a, b, c)",
        "(?, 0, ?)",
        "on conflict (a) do nothing",
    );

    #[test]
    fn placeholders_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        assert_eq!(ROW.arity, 2);
        assert_eq!(
            ROW.sql(2, Backend::Postgres),
            "insert into t (a, b, c) values ($1, 0, $2), ($3, 0, $4) on conflict (a) do nothing"
        );
        assert_eq!(
            ROW.sql(2, Backend::Sqlite),
            "insert into t (a, b, c) values (?, 0, ?), (?, 0, ?) on conflict (a) do nothing"
        );
    }

    #[test]
    fn postgres_placeholders_can_start_after_a_statement_in_front() {
        assert_eq!(
            ROW.sql_after(2, Backend::Postgres, 3),
            "insert into t (a, b, c) values ($4, 0, $5), ($6, 0, $7) on conflict (a) do nothing"
        );
    }

    #[test]
    fn a_statement_stays_under_the_bound_parameter_limit() {
        static WIDE: Insert = Insert::new("w", "insert into w (a)", "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "");
        assert_eq!(WIDE.rows_per_statement(), MAX_ROWS);
        assert!(WIDE.rows_per_statement() * WIDE.arity <= MAX_PARAMS);
    }
}
