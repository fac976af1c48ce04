//! The second factor: TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) with ten one-time
//! recovery codes. The secret is generated here from the OS generator and kept only in the
//! person's sealed `totp-<user>` stream, read back when a code is checked, so erasure destroys
//! it with everything else.
//!
//! A code is good for the current and the previous step only (a phone a little behind still
//! works; a code from the future or older than a minute does not), and once: the last accepted
//! step is burnt per account with one conditional update, so a replay, even in parallel on
//! another node, finds it spent. Recovery codes are 80 random bits, stored as blake3 hashes.
//! Must not read the clock in the checks themselves (tests pass the time in).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;
use vigil_domain::access::{AccessEvent, SignInMethod};
use vigil_domain::second_factor::{RECOVERY_CODES, SecondFactor, SecondFactorCommand, SecondFactorState};
use vigil_eventstore::Metadata;
use vigil_projections::streams;
use zeroize::Zeroizing;

use crate::service::{ApiError, ApiResult, Service};

/// Seconds per TOTP step.
pub const STEP_SECONDS: i64 = 30;
const ISSUER: &str = "vigil";

/// What enrolment shows the person once.
pub struct Enrolment {
    /// `otpauth://totp/vigil:<handle>?secret=…&issuer=vigil`.
    pub uri: Zeroizing<String>,
    /// The same as a QR code: `data:image/svg+xml;base64,…`.
    pub qr_svg: Zeroizing<String>,
    /// The secret in base32, for typing it in by hand.
    pub secret: Zeroizing<String>,
}

/// The second factor a person presents.
pub enum SecondFactorProof {
    /// A 6-digit code from the authenticator app.
    Code(Zeroizing<String>),
    /// One of the recovery codes.
    RecoveryCode(Zeroizing<String>),
}

/// A fresh secret: 160 random bits in base32 (32 characters).
fn new_secret() -> ApiResult<Zeroizing<String>> {
    let mut bytes = Zeroizing::new([0u8; 20]);
    getrandom::fill(bytes.as_mut()).map_err(|e| ApiError::internal(anyhow::anyhow!("no randomness: {e}")))?;
    Ok(Zeroizing::new(Secret::from(*bytes).to_base32()))
}

fn totp(secret: &str, account: &str) -> ApiResult<Totp> {
    let secret = Secret::try_from_base32(secret)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("stored TOTP secret is not base32")))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(0)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account)
        .build()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("TOTP parameters refused: {e:?}")))
}

/// The step `code` belongs to at `now`: the current one or the previous one, else `None`.
/// Both are always computed and compared in constant time.
pub fn matching_step(secret: &str, code: &str, now: OffsetDateTime) -> ApiResult<Option<i64>> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret, "check")?;
    let current = now.unix_timestamp().div_euclid(STEP_SECONDS);
    let mut found = None;
    for step in [current, current - 1] {
        let at = u64::try_from(step * STEP_SECONDS).unwrap_or(0);
        let expected = totp.generate(at).to_string();
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// The code an authenticator shows at `now`.
#[cfg(test)]
pub fn code_at(secret: &str, now: OffsetDateTime) -> ApiResult<String> {
    let at = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    Ok(totp(secret, "check")?.generate(at).to_string())
}

/// Ten recovery codes as shown (`ABCD-EFGH-IJKL-MNOP`, 80 bits each) and their hashes.
fn new_recovery_codes() -> ApiResult<(Vec<String>, Vec<String>)> {
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = Zeroizing::new([0u8; 10]);
        getrandom::fill(bytes.as_mut()).map_err(|e| ApiError::internal(anyhow::anyhow!("no randomness: {e}")))?;
        let plain = Secret::from(bytes.to_vec()).to_base32();
        let grouped = plain
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-");
        hashes.push(recovery_hash(&grouped));
        shown.push(grouped);
    }
    Ok((shown, hashes))
}

/// The stored form of a recovery code: blake3 of its letters, uppercased, without separators.
fn recovery_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    blake3::hash(normal.as_bytes()).to_hex().to_string()
}

fn qr_data_url(uri: &str) -> ApiResult<Zeroizing<String>> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| ApiError::internal(anyhow::anyhow!("QR code: {e}")))?;
    let svg = Zeroizing::new(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build(),
    );
    let mut url = Zeroizing::new(String::from("data:image/svg+xml;base64,"));
    STANDARD.encode_string(svg.as_bytes(), &mut url);
    Ok(url)
}

impl Service {
    async fn second_factor_state(&self, user: Uuid) -> ApiResult<SecondFactorState> {
        Ok(self
            .catch_up::<SecondFactor>(&streams::second_factor(user), None)
            .await?
            .0)
    }

    /// Whether `user` signs in with a second factor (TOTP on).
    ///
    /// # Errors
    /// Store errors.
    pub(crate) async fn has_second_factor(&self, user: Uuid) -> ApiResult<bool> {
        Ok(self.second_factor_state(user).await?.secret.is_some())
    }

    /// Starts (or restarts) TOTP enrolment for `user`, labelled with their handle.
    ///
    /// # Errors
    /// `CONFLICT` when TOTP is already on.
    pub async fn start_totp_enrolment(&self, user: Uuid, handle: &str) -> ApiResult<Enrolment> {
        let secret = new_secret()?;
        let now = OffsetDateTime::now_utc();
        let metadata = Metadata::actor(format!("user:{user}"));
        let pending = secret.to_string();
        self.execute::<SecondFactor>(&streams::second_factor(user), user, metadata, |_| {
            Ok(SecondFactorCommand::StartEnrolment {
                secret: pending.clone(),
                at: now,
            })
        })
        .await?;
        let uri = Zeroizing::new(
            totp(&secret, handle)?
                .to_url()
                .map_err(|e| ApiError::internal(anyhow::anyhow!("otpauth URI: {e:?}")))?,
        );
        let qr_svg = qr_data_url(&uri)?;
        Ok(Enrolment { uri, qr_svg, secret })
    }

    /// Turns TOTP on once `code` matches the pending secret; returns the recovery codes (shown
    /// once, stored only hashed).
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a wrong or replayed code; `CONFLICT` without a pending enrolment.
    pub async fn confirm_totp_enrolment(&self, user: Uuid, code: &str) -> ApiResult<Vec<String>> {
        let now = OffsetDateTime::now_utc();
        let state = self.second_factor_state(user).await?;
        if state.enabled() {
            return Err(ApiError::Conflict("two-factor sign-in is already on".into()));
        }
        let Some(secret) = state.pending_secret.as_deref() else {
            return Err(ApiError::Conflict("no enrolment is pending; start one first".into()));
        };
        self.accept_code(user, secret, code, now).await?;
        let (shown, hashes) = new_recovery_codes()?;
        let metadata = Metadata::actor(format!("user:{user}"));
        let committed = self
            .commit::<SecondFactor>(&streams::second_factor(user), user, metadata, |_| {
                Ok(SecondFactorCommand::Confirm {
                    recovery_code_hashes: hashes.clone(),
                    at: now,
                })
            })
            .await?;
        self.record_or_warn(user, AccessEvent::SecondFactorEnabled { at: now })
            .await;
        // Two-factor is on from the commit; the codes exist nowhere else in clear, so a slow
        // read side must not swallow them (sign-in reads the factor from its stream).
        if let Err(e) = self.settled(&committed).await {
            tracing::debug!(error = %e, "second factor enabled; read models still catching up");
        }
        Ok(shown)
    }

    /// Turns TOTP off after checking a current code.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a wrong code; `CONFLICT` when it is off.
    pub async fn disable_totp(&self, user: Uuid, code: &str) -> ApiResult<u64> {
        let now = OffsetDateTime::now_utc();
        let state = self.second_factor_state(user).await?;
        let Some(secret) = state.secret.as_deref() else {
            return Err(ApiError::Conflict("two-factor sign-in is off".into()));
        };
        self.accept_code(user, secret, code, now).await?;
        let metadata = Metadata::actor(format!("user:{user}"));
        let position = self
            .execute::<SecondFactor>(&streams::second_factor(user), user, metadata, |_| {
                Ok(SecondFactorCommand::Disable { at: now })
            })
            .await?;
        self.record_or_warn(user, AccessEvent::SecondFactorDisabled { at: now })
            .await;
        Ok(position)
    }

    /// Checks `proof` for `user` (TOTP on) and spends it; returns how they signed in.
    ///
    /// # Errors
    /// `UNAUTHENTICATED` for a wrong, replayed or spent code.
    pub(crate) async fn check_second_factor(
        &self,
        user: Uuid,
        proof: &SecondFactorProof,
        now: OffsetDateTime,
    ) -> ApiResult<SignInMethod> {
        let state = self.second_factor_state(user).await?;
        let Some(secret) = state.secret.as_deref() else {
            return Err(ApiError::Unauthenticated(WRONG_CODE));
        };
        match proof {
            SecondFactorProof::Code(code) => {
                self.accept_code(user, secret, code, now).await?;
                Ok(SignInMethod::PasswordAndTotp)
            }
            SecondFactorProof::RecoveryCode(code) => {
                let hash = recovery_hash(code);
                let metadata = Metadata::actor(format!("user:{user}"));
                self.execute::<SecondFactor>(&streams::second_factor(user), user, metadata, |_| {
                    Ok(SecondFactorCommand::UseRecoveryCode {
                        hash: hash.clone(),
                        at: now,
                    })
                })
                .await
                .map_err(|e| match e {
                    ApiError::Internal(_) => e,
                    _ => ApiError::Unauthenticated(WRONG_CODE),
                })?;
                Ok(SignInMethod::PasswordAndRecoveryCode)
            }
        }
    }

    /// Accepts `code` against `secret` once: its step must be newer than the last accepted.
    async fn accept_code(&self, user: Uuid, secret: &str, code: &str, now: OffsetDateTime) -> ApiResult<()> {
        let Some(step) = matching_step(secret, code, now)? else {
            return Err(ApiError::Unauthenticated(WRONG_CODE));
        };
        let burnt = self
            .db()
            .execute_durably(
                sqlx::query(
                    "insert into totp_steps (user_id, last_step) values ($1, $2) on conflict (user_id) do update \
                     set last_step = excluded.last_step where totp_steps.last_step < excluded.last_step",
                )
                .bind(user.to_string())
                .bind(step),
            )
            .await
            .map_err(ApiError::internal)?;
        if burnt.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated(WRONG_CODE))
        }
    }
}

const WRONG_CODE: &str = "the code is not valid";

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    // RFC 6238 appendix B's SHA-1 seed, "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_rfc_6238_test_vectors() {
        // Appendix B lists 8 digits; the 6-digit code is the last six of them.
        for (unix, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let at = OffsetDateTime::from_unix_timestamp(unix).unwrap();
            assert_eq!(code_at(RFC_SECRET, at).unwrap(), eight[2..], "{unix}");
        }
    }

    #[test]
    fn the_current_and_the_previous_step_match_and_nothing_else() {
        let now = datetime!(2026-12-07 10:00:15 UTC);
        let step = now.unix_timestamp() / STEP_SECONDS;
        let at = |offset: i64| OffsetDateTime::from_unix_timestamp((step + offset) * STEP_SECONDS).unwrap();
        let current = code_at(RFC_SECRET, at(0)).unwrap();
        let previous = code_at(RFC_SECRET, at(-1)).unwrap();
        let older = code_at(RFC_SECRET, at(-2)).unwrap();
        let next = code_at(RFC_SECRET, at(1)).unwrap();
        assert_eq!(matching_step(RFC_SECRET, &current, now).unwrap(), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &previous, now).unwrap(), Some(step - 1));
        assert_eq!(matching_step(RFC_SECRET, &older, now).unwrap(), None);
        assert_eq!(matching_step(RFC_SECRET, &next, now).unwrap(), None);
    }

    #[test]
    fn malformed_codes_never_match() {
        let now = datetime!(2026-12-07 10:00:15 UTC);
        for code in ["", "12345", "1234567", "12a456", "１２３４５６", &"9".repeat(10_000)] {
            assert_eq!(matching_step(RFC_SECRET, code, now).unwrap(), None, "{code:?}");
        }
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_hash_ignoring_case_and_dashes() {
        let (shown, hashes) = new_recovery_codes().unwrap();
        assert_eq!(shown.len(), RECOVERY_CODES);
        let mut distinct = hashes.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert_eq!(shown[0].len(), 19, "{}", shown[0]);
        assert_eq!(recovery_hash(&shown[0].to_lowercase().replace('-', "")), hashes[0]);
    }

    #[test]
    fn the_enrolment_uri_and_qr_code_carry_the_secret() {
        let secret = new_secret().unwrap();
        assert_eq!(secret.len(), 32);
        let uri = totp(&secret, "QuietOtter7").unwrap().to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/vigil:QuietOtter7?"), "{uri}");
        assert!(uri.contains(&format!("secret={}", *secret)), "{uri}");
        let qr = qr_data_url(&uri).unwrap();
        let svg = STANDARD
            .decode(qr.strip_prefix("data:image/svg+xml;base64,").unwrap())
            .unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}
