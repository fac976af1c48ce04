//! Access tokens: compact JWTs signed with HMAC-SHA256 under the [`TokenKey`], written by hand
//! so that exactly one algorithm exists and there is nothing to confuse it with.
//!
//! The claims name the account and the session family and nothing else: no email, handle or
//! role, since a JWT is readable by anyone who holds it. This module must not read the clock;
//! `now` is a parameter.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::TokenKey;
use crate::auth::AuthError;

/// How long an access token is valid. Short, because it cannot be revoked: logout and reuse
/// detection act on the refresh token, and a stolen access token dies within this window.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::minutes(15);

const ISSUER: &str = "vigil";
const AUDIENCE: &str = "vigil-api";
/// Tolerated clock difference between the issuing and the verifying server for `iat`.
const MAX_CLOCK_SKEW: Duration = Duration::seconds(60);
/// Our tokens are about 330 bytes. The cap bounds the work (base64, JSON, MAC) an anonymous
/// caller can cause with a forged header.
const MAX_TOKEN_BYTES: usize = 4096;
/// The only header we ever write.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

type HmacSha256 = Hmac<Sha256>;

/// What a verified access token says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    /// The account (`sub`).
    pub subject: Uuid,
    /// The session family, i.e. the chain of refresh tokens this login started (`sid`); lets
    /// the server refuse access tokens of a family it revoked.
    pub session: Uuid,
    /// `iat`, whole seconds.
    pub issued_at: OffsetDateTime,
    /// `exp`, whole seconds.
    pub expires_at: OffsetDateTime,
    /// A random id for this token (`jti`), for audit trails.
    pub token_id: Uuid,
}

/// A freshly signed access token and what it says.
#[derive(Clone)]
pub struct IssuedAccessToken {
    token: String,
    /// The claims inside `token`.
    pub claims: AccessClaims,
}

impl IssuedAccessToken {
    /// The compact JWT to hand to the client. Named loudly: it is a bearer credential.
    pub fn expose_secret(&self) -> &str {
        &self.token
    }
}

impl fmt::Debug for IssuedAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedAccessToken")
            .field("token", &"<redacted>")
            .field("claims", &self.claims)
            .finish()
    }
}

/// The claims as they appear on the wire.
#[derive(Serialize, Deserialize)]
struct WireClaims {
    iss: String,
    aud: String,
    sub: Uuid,
    sid: Uuid,
    iat: i64,
    exp: i64,
    jti: Uuid,
}

/// The header fields we tolerate. Anything else (`crit`, `kid`, `jku`, `jwk`, `x5u`, …) is a
/// request to change how the token is checked, and the answer is always no; duplicate fields
/// are refused too, so two parsers can never read different algorithms from one header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHeader {
    alg: Option<String>,
    typ: Option<String>,
}

impl TokenKey {
    /// Signs an access token for `subject` in session family `session`, valid from `now` for
    /// [`ACCESS_TOKEN_LIFETIME`] (times are truncated to whole seconds, as JWT requires).
    ///
    /// # Errors
    /// [`AuthError::Randomness`] if no token id can be drawn; [`AuthError::Hashing`] if the
    /// claims cannot be serialized (not expected).
    pub fn issue_access_token(
        &self,
        subject: Uuid,
        session: Uuid,
        now: OffsetDateTime,
    ) -> Result<IssuedAccessToken, AuthError> {
        let iat = now.unix_timestamp();
        let exp = iat + ACCESS_TOKEN_LIFETIME.whole_seconds();
        // From our own random source rather than `Uuid::new_v4`, which panics if the OS
        // generator fails.
        let token_id = uuid::Builder::from_random_bytes(*crate::auth::random_bytes::<16>()?).into_uuid();
        let wire = WireClaims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: subject,
            sid: session,
            iat,
            exp,
            jti: token_id,
        };
        let payload = serde_json::to_vec(&wire).map_err(|_| AuthError::Hashing)?;
        let mut token = URL_SAFE_NO_PAD.encode(HEADER_JSON);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let signature = self.mac(token.as_bytes())?.finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(IssuedAccessToken {
            token,
            claims: AccessClaims {
                subject,
                session,
                issued_at: timestamp(iat)?,
                expires_at: timestamp(exp)?,
                token_id,
            },
        })
    }

    /// Checks an access token presented at `now` and returns its claims.
    ///
    /// The checks run cheapest and least trusting first: size and shape, then the header
    /// (only HS256), then the MAC in constant time, and only then is the payload parsed and
    /// `iss`, `aud`, `exp` and `iat` compared.
    ///
    /// # Errors
    /// One of the token variants of [`AuthError`];
    /// [`AuthError::Hashing`] only if the MAC cannot be keyed (not expected).
    pub fn verify_access_token(&self, token: &str, now: OffsetDateTime) -> Result<AccessClaims, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TokenMalformed);
        }
        // Only the base64url alphabet and the separators: this refuses padding, whitespace and
        // the standard alphabet's `+`/`/` before any decoding.
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(AuthError::TokenMalformed);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (segments.next(), segments.next(), segments.next(), segments.next())
        else {
            return Err(AuthError::TokenMalformed);
        };

        check_header(header)?;

        // A signature that does not decode is as wrong as one that does not match.
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| AuthError::TokenSignatureInvalid)?;
        let signed_len = header.len() + 1 + payload.len();
        let signed = token.get(..signed_len).ok_or(AuthError::TokenMalformed)?;
        // `verify_slice` compares in constant time and refuses a tag of the wrong length.
        self.mac(signed.as_bytes())?
            .verify_slice(&signature)
            .map_err(|_| AuthError::TokenSignatureInvalid)?;

        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| AuthError::TokenMalformed)?;
        let claims: WireClaims = serde_json::from_slice(&payload).map_err(|_| AuthError::TokenMalformed)?;
        if claims.iss != ISSUER {
            return Err(AuthError::TokenClaimMismatch { claim: "iss" });
        }
        if claims.aud != AUDIENCE {
            return Err(AuthError::TokenClaimMismatch { claim: "aud" });
        }
        let now = now.unix_timestamp();
        // RFC 7519: the token must not be accepted on or after `exp`.
        if now >= claims.exp {
            return Err(AuthError::TokenExpired);
        }
        if claims.iat > now + MAX_CLOCK_SKEW.whole_seconds() {
            return Err(AuthError::TokenIssuedInFuture);
        }
        Ok(AccessClaims {
            subject: claims.sub,
            session: claims.sid,
            issued_at: timestamp(claims.iat)?,
            expires_at: timestamp(claims.exp)?,
            token_id: claims.jti,
        })
    }

    fn mac(&self, signed: &[u8]) -> Result<HmacSha256, AuthError> {
        // HMAC accepts keys of any length, so this cannot fail with our 32 bytes.
        let mut mac = HmacSha256::new_from_slice(self.signing_bytes()).map_err(|_| AuthError::Hashing)?;
        mac.update(signed);
        Ok(mac)
    }
}

/// Accepts only a JSON object whose `alg` is `HS256` and whose `typ`, if present, is `JWT`.
fn check_header(segment: &str) -> Result<(), AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| AuthError::TokenMalformed)?;
    // Two steps so the error says which: not a JSON object at all is malformed; an object
    // asking for anything we do not do is a rejected header.
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes)
        .map_err(|_| AuthError::TokenMalformed)?;
    let header: WireHeader = serde_json::from_slice(&bytes).map_err(|_| AuthError::TokenHeaderRejected)?;
    let alg_ok = header.alg.as_deref() == Some("HS256");
    let typ_ok = header.typ.as_deref().is_none_or(|typ| typ == "JWT");
    if alg_ok && typ_ok {
        Ok(())
    } else {
        Err(AuthError::TokenHeaderRejected)
    }
}

fn timestamp(seconds: i64) -> Result<OffsetDateTime, AuthError> {
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| AuthError::TokenMalformed)
}

#[cfg(test)]
mod tests;
