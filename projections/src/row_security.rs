//! The catalog check behind Postgres row-level security (ADR 0006): every read-model table
//! that holds a person's rows has RLS enabled and forced; `vigil_reader` is no superuser,
//! cannot bypass RLS, owns nothing, cannot write read models, and can run no SECURITY DEFINER
//! function of the read schema; the read schema has no view that runs with its owner's
//! rights. `serve` refuses to start on a database that fails it; the test suite runs it too.
//! Must not change the catalog: it only reports.

use sqlx::Row;

use crate::db::{Backend, ReadDb};
use crate::error::Result;
use crate::projection::Projection;

/// What is wrong with the database's row-level security; empty when nothing (and on SQLite,
/// which has no roles: there the access gate alone guards reads).
///
/// # Errors
/// Database errors.
pub async fn row_security_problems(db: &ReadDb) -> Result<Vec<String>> {
    if db.backend() != Backend::Postgres {
        return Ok(Vec::new());
    }
    let pool = db.pool();
    let mut problems = Vec::new();
    for table in Projection::ALL.iter().flat_map(|p| p.tables()) {
        let row = sqlx::query(
            "select c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner)::text as owner, \
             has_table_privilege('vigil_reader', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE') as writes \
             from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where n.nspname = 'vigil_read' and c.relname = $1",
        )
        .bind((*table).to_owned())
        .fetch_optional(pool)
        .await?;
        let Some(row) = row else {
            problems.push(format!("table vigil_read.{table} is missing"));
            continue;
        };
        if !row.try_get::<bool, _>("relrowsecurity")? {
            problems.push(format!("vigil_read.{table} does not enable row-level security"));
        }
        if !row.try_get::<bool, _>("relforcerowsecurity")? {
            problems.push(format!("vigil_read.{table} does not force row-level security"));
        }
        if row.try_get::<String, _>("owner")? == "vigil_reader" {
            problems.push(format!("vigil_reader owns vigil_read.{table}"));
        }
        if row.try_get::<bool, _>("writes")? {
            problems.push(format!("vigil_reader may write vigil_read.{table}"));
        }
    }
    let role = sqlx::query("select rolsuper, rolbypassrls from pg_roles where rolname = 'vigil_reader'")
        .fetch_optional(pool)
        .await?;
    match role {
        None => problems.push("the role vigil_reader is missing".into()),
        Some(r) => {
            if r.try_get::<bool, _>("rolsuper")? {
                problems.push("vigil_reader is a superuser".into());
            }
            if r.try_get::<bool, _>("rolbypassrls")? {
                problems.push("vigil_reader may bypass row-level security".into());
            }
        }
    }
    let owned: i64 = sqlx::query_scalar(
        "select count(*) from pg_class where relowner = (select oid from pg_roles where rolname = 'vigil_reader')",
    )
    .fetch_one(pool)
    .await?;
    if owned > 0 {
        problems.push(format!("vigil_reader owns {owned} relations"));
    }
    let definers: Vec<String> = sqlx::query_scalar(
        "select p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
         where n.nspname = 'vigil_read' and p.prosecdef and has_function_privilege('vigil_reader', p.oid, 'EXECUTE')",
    )
    .fetch_all(pool)
    .await?;
    problems.extend(
        definers
            .into_iter()
            .map(|f| format!("vigil_reader may run SECURITY DEFINER vigil_read.{f}")),
    );
    let views: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where n.nspname = 'vigil_read' and c.relkind in ('v', 'm') \
         and not coalesce(c.reloptions @> array['security_invoker=true'], false)",
    )
    .fetch_all(pool)
    .await?;
    problems.extend(
        views
            .into_iter()
            .map(|v| format!("view vigil_read.{v} runs with its owner's rights")),
    );
    Ok(problems)
}
