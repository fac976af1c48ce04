//! The gate: the one holder of the read database's [`SubjectMint`], so the only place a
//! [`Subject`] (the proof a health-data read needs) is made. Owners get theirs for free (and
//! the download of an export token they were issued); anyone else needs an open break-glass
//! grant, and their read is on the person's access log before the proof exists.

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::AccessEvent;
use vigil_domain::account::Role;
use vigil_projections::ReadDb;
use vigil_projections::read::{Subject, SubjectMint};

use super::break_glass;
use crate::service::{ApiError, ApiResult, Caller, Service};

/// Holds the mint.
pub struct Gate {
    mint: SubjectMint,
}

impl Gate {
    /// Takes `db`'s mint.
    ///
    /// # Errors
    /// When it was taken already (a second service on one database handle).
    pub fn new(db: &ReadDb) -> anyhow::Result<Gate> {
        let mint = db
            .take_subject_mint()
            .ok_or_else(|| anyhow::anyhow!("the read database's subject mint was already taken"))?;
        Ok(Gate { mint })
    }
}

/// What a read of someone else's data is recorded as.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The GraphQL root field.
    pub query: String,
    /// The fields it selected.
    pub fields: Vec<String>,
    /// The request id (matches the server log).
    pub request_id: String,
}

const STAFF_HOLD_NO_HEALTH_DATA: &str =
    "staff accounts hold no health data; an admin reads a person's data under a break-glass grant";

impl Service {
    /// The caller's right to their own health data: only ordinary users have any.
    ///
    /// # Errors
    /// `FORBIDDEN` for a staff role.
    pub fn own_data(&self, caller: &Caller) -> ApiResult<Subject> {
        if caller.role != Role::User {
            return Err(ApiError::Forbidden(STAFF_HOLD_NO_HEALTH_DATA));
        }
        Ok(self.gate().mint.vouch(caller.user))
    }

    /// The right to read the rows of a spent export token's owner: the token was issued to
    /// that person for their own data (see `export::tokens`), and its download is the read.
    /// Asked once per page, so no database scope outlives a page of a long download.
    pub fn export_subject(&self, ticket: &crate::export::Ticket) -> Subject {
        self.gate().mint.vouch(ticket.user())
    }

    /// The caller's right to read `subject`'s health data. For someone else's data: an admin
    /// with an open break-glass grant on them, and the read is recorded as `DataAccessed`
    /// first (a failed append fails the read).
    ///
    /// # Errors
    /// `FORBIDDEN` without the right; the append's error when the record cannot be written.
    pub async fn data_of(&self, caller: &Caller, subject: Uuid, reading: Reading) -> ApiResult<Subject> {
        if subject == caller.user {
            return self.own_data(caller);
        }
        if caller.role != Role::Admin {
            return Err(ApiError::Forbidden(
                "only an admin under a break-glass grant may read someone else's data",
            ));
        }
        let now = OffsetDateTime::now_utc();
        let Some((grant, justification)) = break_glass::open_grant(self.db(), caller.user, subject, now).await? else {
            return Err(ApiError::Forbidden("no open break-glass grant on this person"));
        };
        let by = self.actor_of(caller).await?;
        self.record(
            subject,
            AccessEvent::DataAccessed {
                by,
                query: reading.query,
                fields: reading.fields,
                grant: Some(grant),
                justification,
                request_id: reading.request_id,
                at: now,
            },
            Service::metadata_for(caller),
        )
        .await?;
        Ok(self.gate().mint.vouch(subject))
    }
}
