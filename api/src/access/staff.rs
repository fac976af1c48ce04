//! What staff may change about an account: its role, whether it is disabled, and a sign-in
//! lock. The server's command line (`vigil staff …`) may do all of it; an admin through
//! GraphQL may set roles below admin and disable or unlock non-admin accounts. Each change is
//! an event on the account's stream (with actor and reason) and on the person's access log,
//! and a role change or a disable revokes every session of the account, so it is in force on
//! the next request.
//! Must not let an admin act on their own account or on another admin (only the command
//! line, run by whoever operates the server, can).

use time::OffsetDateTime;
use uuid::Uuid;
use vigil_domain::access::{AccessEvent, Actor};
use vigil_domain::account::{Account, AccountCommand, Role};
use vigil_eventstore::Metadata;
use vigil_projections::{read, streams};

use super::lockout;
use crate::service::{ApiError, ApiResult, Caller, Service, sessions};

/// Who is making a staff change.
#[derive(Debug, Clone, Copy)]
pub enum StaffActor {
    /// `vigil staff …` on the server.
    Cli,
    /// An admin through the API.
    Admin(Caller),
}

/// A change to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffChange {
    /// Give it this role.
    Role(Role),
    /// Disable it.
    Disable,
    /// Enable it again.
    Enable,
}

impl StaffActor {
    fn by(&self) -> String {
        match self {
            StaffActor::Cli => "system:cli".into(),
            StaffActor::Admin(c) => format!("user:{}", c.user),
        }
    }

    fn metadata(&self) -> Metadata {
        Metadata::actor(self.by())
    }
}

impl Service {
    async fn staff_actor(&self, actor: &StaffActor) -> ApiResult<Actor> {
        match actor {
            StaffActor::Cli => Ok(Actor {
                user: None,
                role: Role::Admin,
                handle: "system".into(),
            }),
            StaffActor::Admin(caller) => self.actor_of(caller).await,
        }
    }

    /// Checks that `actor` may act on `target` at all; returns the target's current role.
    async fn may_change(&self, actor: &StaffActor, target: Uuid, change: Option<StaffChange>) -> ApiResult<Role> {
        let account = read::account(self.db(), target).await?.ok_or(ApiError::NotFound)?;
        if let StaffActor::Admin(caller) = actor {
            if caller.role != Role::Admin {
                return Err(ApiError::Forbidden("only an admin may change accounts"));
            }
            if caller.user == target {
                return Err(ApiError::Forbidden("an admin cannot change their own account"));
            }
            if account.role == Role::Admin || change == Some(StaffChange::Role(Role::Admin)) {
                return Err(ApiError::Forbidden(
                    "admins are made and changed only with `vigil staff` on the server",
                ));
            }
        }
        Ok(account.role)
    }

    /// Changes `target`'s role or disables or enables it.
    ///
    /// # Errors
    /// `FORBIDDEN` outside the actor's rights; `BAD_USER_INPUT` for the reason; `NOT_FOUND`.
    pub async fn change_account(
        &self,
        actor: &StaffActor,
        target: Uuid,
        change: StaffChange,
        reason: &str,
    ) -> ApiResult<u64> {
        let from = self.may_change(actor, target, Some(change)).await?;
        let now = OffsetDateTime::now_utc();
        let by = actor.by();
        let reason_text = reason.to_owned();
        let command = move |_: &vigil_domain::account::AccountState| {
            Ok(match change {
                StaffChange::Role(role) => AccountCommand::ChangeRole {
                    role,
                    by: by.clone(),
                    reason: reason_text.clone(),
                    changed_at: now,
                },
                StaffChange::Disable => AccountCommand::Disable {
                    by: by.clone(),
                    reason: reason_text.clone(),
                    at: now,
                },
                StaffChange::Enable => AccountCommand::Enable {
                    by: by.clone(),
                    reason: reason_text.clone(),
                    at: now,
                },
            })
        };
        // What follows the commit is done even when the read models lag behind it: a
        // disabled account or a changed role must not keep its sessions.
        let committed = self
            .commit::<Account>(&streams::account(target), target, actor.metadata(), command)
            .await?;
        let description = match change {
            StaffChange::Role(role) => format!("role: {} -> {}", from.name(), role.name()),
            StaffChange::Disable => "disabled".into(),
            StaffChange::Enable => "enabled".into(),
        };
        if change != StaffChange::Enable {
            sessions::revoke_all(self.db(), self.live(), target, &description, now).await?;
        }
        let by = self.staff_actor(actor).await?;
        self.record(
            target,
            AccessEvent::AccountChangedByStaff {
                by,
                change: description,
                reason: reason.trim().to_owned(),
                at: now,
            },
            actor.metadata(),
        )
        .await?;
        self.settled(&committed).await?;
        Ok(committed.position)
    }

    /// Lifts `target`'s sign-in lock early; returns whether it was locked.
    ///
    /// # Errors
    /// `FORBIDDEN` outside the actor's rights; `BAD_USER_INPUT` for the reason; `NOT_FOUND`.
    pub async fn unlock_account(&self, actor: &StaffActor, target: Uuid, reason: &str) -> ApiResult<bool> {
        self.may_change(actor, target, None).await?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(ApiError::bad("reason", "a reason of 1 to 500 characters is required"));
        }
        let now = OffsetDateTime::now_utc();
        let lifted = lockout::unlock(self.db(), target, now).await?;
        if lifted {
            let by = self.staff_actor(actor).await?;
            self.record(
                target,
                AccessEvent::AccountUnlocked {
                    by,
                    reason: reason.to_owned(),
                    at: now,
                },
                actor.metadata(),
            )
            .await?;
        }
        Ok(lifted)
    }

    /// The account with id `user`, for staff tools.
    ///
    /// # Errors
    /// `NOT_FOUND`.
    pub async fn account_by_handle_or_id(&self, user: Uuid) -> ApiResult<read::AccountMetadata> {
        read::account_metadata(self.db(), Some(user), None)
            .await?
            .ok_or(ApiError::NotFound)
    }

    /// The account with `handle`, for staff tools.
    ///
    /// # Errors
    /// `NOT_FOUND`.
    pub async fn account_by_handle(&self, handle: &str) -> ApiResult<read::AccountMetadata> {
        read::account_metadata(self.db(), None, Some(handle))
            .await?
            .ok_or(ApiError::NotFound)
    }
}
