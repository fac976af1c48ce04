//! `deleteMyAccount`: the person erases themselves, now (see `erasure`).

use async_graphql::{Context, Object, SimpleObject};

use super::error::{GqlResult, IntoGql};
use super::mutation::secret;
use super::query::{caller, service};
use crate::access::SecondFactorProof;
use crate::service::ApiError;

/// Erasure mutations.
#[derive(Default)]
pub struct ErasureMutations;

/// What proves an erasure happened, for the person to keep.
#[derive(SimpleObject)]
pub struct ErasureReceipt {
    /// The erased account's id (meaningless once its key is gone).
    pub subject: String,
    /// Position of the erasure ledger's entry for it: `vigil verify` and any copy of the log
    /// show the entry, and the account's events reading as erased after it.
    pub ledger_position: u64,
    /// When the erasure finished (RFC 3339).
    pub erased_at: String,
    /// Whether every read model had dropped the account when this answered (otherwise they do
    /// within moments; the log and the keys are erased either way).
    pub read_models_purged: bool,
    /// The signed checkpoint (C2SP signed note) of the smallest recorded tree that contains
    /// the ledger entry (tree size at least `ledgerPosition`), when one is signed already.
    /// Usually null: the erasure is newer than the newest checkpoint, and servers sign one
    /// within their checkpoint interval (a minute by default). Every later checkpoint covers
    /// it too: fetch `/checkpoint` (or `/checkpoint/<size>` for a size at least
    /// `ledgerPosition`) later and check the entry's inclusion against its root.
    pub checkpoint: Option<String>,
}

#[Object]
impl ErasureMutations {
    /// Erases the caller's account and every record of theirs, now and for good: the data key
    /// is destroyed (every copy of the log reads as erased), every session ends on every
    /// server, the email can register again. Needs the password, and the second factor
    /// (`totpCode` or `recoveryCode`) when two-factor sign-in is on.
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        password: String,
        totp_code: Option<String>,
        recovery_code: Option<String>,
    ) -> GqlResult<ErasureReceipt> {
        let c = caller(ctx)?;
        let password = secret("password", password)?;
        let second_factor = match (totp_code, recovery_code) {
            (None, None) => None,
            (Some(code), None) => Some(SecondFactorProof::Code(secret("totpCode", code)?)),
            (None, Some(code)) => Some(SecondFactorProof::RecoveryCode(secret("recoveryCode", code)?)),
            (Some(_), Some(_)) => {
                return Err(ApiError::bad(
                    "totpCode",
                    "give at most one of totpCode and recoveryCode",
                ))
                .gql();
            }
        };
        let svc = service(ctx)?;
        let receipt = svc.delete_my_account(&c, password, second_factor).await.gql()?;
        // The erasure is done; a checkpoint that cannot be read now is fetched later.
        let checkpoint = match svc.store().checkpoint_covering(receipt.ledger_position).await {
            Ok(found) => found.map(|cp| cp.note),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read checkpoints for an erasure receipt");
                None
            }
        };
        Ok(ErasureReceipt {
            subject: receipt.subject.to_string(),
            ledger_position: receipt.ledger_position,
            erased_at: receipt
                .erased_at
                .format(&time::format_description::well_known::Rfc3339)
                .map_err(ApiError::internal)
                .gql()?,
            read_models_purged: receipt.read_models_purged,
            checkpoint,
        })
    }
}
