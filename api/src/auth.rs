//! Security primitives for accounts and sessions: the password policy and argon2id hashing,
//! access tokens (JWT HS256) and refresh tokens. (The keyed blind index of email addresses
//! lives in `vigil_projections::identity`, because a rebuild must recompute it.)
//!
//! Everything here is pure apart from the OS random generator and the blocking-thread pool used
//! for argon2: no database, no HTTP, no clock (the current time arrives as a parameter), no
//! logging of secrets. The GraphQL layer composes these pieces into register, login, refresh
//! and logout.
//!
//! Errors are one enum, [`AuthError`]. Its variants fall into three groups that the API maps
//! differently: a
//! rejected password is the user's to fix, a rejected token is answered "unauthenticated"
//! without saying why, and everything else is an internal failure.

mod password;
mod secret_key;
mod tokens;

pub use password::{PasswordHasher, check_password_policy};
pub use tokens::{RefreshToken, TokenKey, weak_key};

/// Why an authentication primitive refused or failed.
///
/// The display texts never contain the password, the token or the key that was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The password has fewer than `min` characters (Unicode scalar values, not bytes).
    /// A user-input error: the message may be shown as is.
    #[error("the password must be at least {min} characters long")]
    PasswordTooShort {
        /// The minimum length in characters.
        min: usize,
    },
    /// The password has more than `max` characters. A user-input error. The cap also bounds
    /// the work an anonymous caller can make the server do per attempt.
    #[error("the password must be at most {max} characters long")]
    PasswordTooLong {
        /// The maximum length in characters.
        max: usize,
    },
    /// The password is on the built-in list of common passwords (any letter case) or is one
    /// character repeated. A user-input error.
    #[error("this password is too common; choose a less predictable one")]
    PasswordTooCommon,

    /// The access token is not a well-formed JWT: too long, not three base64url segments,
    /// padded, or its header or claims are not the expected JSON. Unauthenticated.
    #[error("the access token is malformed")]
    TokenMalformed,
    /// The token header asks for something other than exactly `{"alg":"HS256"}` (optionally
    /// with `"typ":"JWT"`): `none`, another algorithm, a missing `alg`, `crit` or any other
    /// header field. The algorithm is fixed server-side. Unauthenticated.
    #[error("the access token header is not accepted")]
    TokenHeaderRejected,
    /// The token's MAC does not match: it was altered or signed with another key.
    /// Unauthenticated.
    #[error("the access token signature is invalid")]
    TokenSignatureInvalid,
    /// The token's `exp` has passed. Unauthenticated; the client should refresh.
    #[error("the access token has expired")]
    TokenExpired,
    /// The token's `iat` lies more than the allowed clock skew in the future. Unauthenticated.
    #[error("the access token was issued in the future")]
    TokenIssuedInFuture,
    /// The token's `iss` or `aud` is not vigil's. Unauthenticated.
    #[error("the access token has the wrong {claim}")]
    TokenClaimMismatch {
        /// The claim that did not match (`iss` or `aud`).
        claim: &'static str,
    },
    /// The text is not a refresh token (wrong prefix, length or alphabet). Unauthenticated.
    #[error("the refresh token is malformed")]
    RefreshTokenMalformed,

    /// A stored password hash is not a PHC string argon2 can verify, or asks for more work
    /// than any hash this server makes: the database row is damaged. Internal.
    #[error("a stored password hash is malformed")]
    StoredHashMalformed,
    /// A configured secret key (`what` names it) is unusable; `reason` says how, without the
    /// key. A startup error.
    #[error("{what} is invalid: {reason}")]
    InvalidKey {
        /// Which key, for example "the token key".
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random generator failed. Internal.
    #[error("the system random generator failed")]
    Randomness,
    /// argon2, the MAC or the claims serializer refused inputs it is always given in a valid
    /// form here (not expected). Internal.
    #[error("password hashing failed")]
    Hashing,
    /// The blocking task that runs argon2 panicked or was cancelled at shutdown. Internal.
    #[error("the password hashing worker failed")]
    WorkerFailed,
}

/// Fills `N` bytes from the operating system's random generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<zeroize::Zeroizing<[u8; N]>, AuthError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut()).map_err(|_| AuthError::Randomness)?;
    Ok(bytes)
}

/// The text of a bearer secret handed to a client: `prefix` (which makes the kind
/// recognizable and keeps one kind from ever parsing as another) then the random bytes in
/// base64url without padding. One spelling for refresh tokens, sign-in challenges and export
/// links.
pub(crate) fn bearer_text(prefix: &str, random: &[u8]) -> zeroize::Zeroizing<String> {
    use base64::Engine;
    let mut text = zeroize::Zeroizing::new(String::with_capacity(prefix.len() + random.len().div_ceil(3) * 4));
    text.push_str(prefix);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(random, &mut text);
    text
}
