//! argon2id password hashing into PHC strings, verification with a rehash signal, the dummy
//! verification that makes "no such account" cost the same as "wrong password", and the
//! bounded pool that runs all of it off the async runtime.
//!
//! Each hash takes tens of milliseconds of CPU and 19 MiB of memory, so this module must not
//! run argon2 on an async worker thread nor let concurrent logins allocate without bound.

use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};

use argon2::password_hash::Error as PhcError;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use super::MAX_PASSWORD_CHARS;
use crate::auth::{AuthError, random_bytes};

/// Longest password, in bytes, worth running argon2 on: the policy's character cap times the
/// longest UTF-8 character. Anything longer cannot match a password set under the policy.
const MAX_PASSWORD_BYTES: usize = MAX_PASSWORD_CHARS * 4;
/// OWASP and the argon2 crate agree on 16 random bytes of salt.
const SALT_BYTES: usize = 16;
/// Ceilings on the cost a stored hash may ask for (256 MiB, 16 passes, 16 lanes): far above
/// anything this server makes, low enough that a damaged or planted row cannot make one login
/// allocate gigabytes or spin for minutes.
const MAX_STORED_M_COST_KIB: u32 = 256 * 1024;
const MAX_STORED_T_COST: u32 = 16;
const MAX_STORED_P_COST: u32 = 16;

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Whether the password is the one the hash was made from.
    pub matched: bool,
    /// The password matched but the stored hash uses other parameters (or another argon2
    /// variant) than today's: hash it again now, while the plaintext is at hand. Always
    /// false when the password did not match.
    pub needs_rehash: bool,
}

impl Verification {
    const FAILED: Verification = Verification {
        matched: false,
        needs_rehash: false,
    };
}

/// argon2id with fixed parameters, synchronous. Wrapped by [`PasswordHasher`] for async use.
#[derive(Debug)]
struct Argon2id {
    params: Params,
    /// The hash of a random password nobody knows, with the same parameters as real hashes,
    /// so verifying against it costs the same. Made by `PasswordHasher::warm` at start-up;
    /// made lazily, the first login for an unknown account would pay a hash more and so be
    /// told apart by its time.
    dummy_hash: OnceLock<String>,
}

impl Argon2id {
    fn new(params: Params) -> Self {
        Argon2id {
            params,
            dummy_hash: OnceLock::new(),
        }
    }

    fn context(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash(&self, password: &[u8]) -> Result<String, AuthError> {
        let salt = random_bytes::<SALT_BYTES>()?;
        let phc = self
            .context()
            .hash_password_with_salt(password, salt.as_ref())
            .map_err(|_| AuthError::Hashing)?;
        Ok(phc.to_string())
    }

    fn verify(&self, password: &[u8], stored: &str) -> Result<Verification, AuthError> {
        let parsed = PasswordHash::new(stored).map_err(|_| AuthError::StoredHashMalformed)?;
        let params = Params::try_from(&parsed).map_err(|_| AuthError::StoredHashMalformed)?;
        if params.m_cost() > MAX_STORED_M_COST_KIB
            || params.t_cost() > MAX_STORED_T_COST
            || params.p_cost() > MAX_STORED_P_COST
        {
            return Err(AuthError::StoredHashMalformed);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            // Cannot match; still pay for one hash so the answer takes the usual time.
            self.dummy_verify(b"")?;
            return Ok(Verification::FAILED);
        }
        // argon2 takes algorithm, version and parameters from the stored hash, not from
        // `context()`, so hashes made under older settings still verify.
        match PasswordVerifier::<PasswordHash>::verify_password(&self.context(), password, &parsed) {
            Ok(()) => Ok(Verification {
                matched: true,
                needs_rehash: self.needs_rehash(&parsed, &params),
            }),
            Err(PhcError::PasswordInvalid) => Ok(Verification::FAILED),
            Err(_) => Err(AuthError::StoredHashMalformed),
        }
    }

    /// Whether `stored` was made with anything other than today's variant and parameters.
    fn needs_rehash(&self, stored: &PasswordHash, params: &Params) -> bool {
        let output_len = |p: &Params| p.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        stored.algorithm.as_str() != Algorithm::Argon2id.as_str()
            || stored.version != Some(u32::from(Version::V0x13))
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
            || output_len(params) != output_len(&self.params)
            || stored.salt.as_ref().is_none_or(|salt| salt.len() < SALT_BYTES)
    }

    fn dummy_hash(&self) -> Result<&str, AuthError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash);
        }
        let secret = random_bytes::<32>()?;
        let hash = self.hash(secret.as_ref())?;
        // A concurrent first caller may have won; either hash serves.
        Ok(self.dummy_hash.get_or_init(|| hash))
    }

    /// Verifies `password` against the dummy hash and discards the result: the work of a
    /// failed login, for an account that does not exist.
    fn dummy_verify(&self, password: &[u8]) -> Result<(), AuthError> {
        let dummy = self.dummy_hash()?;
        let password = password.get(..MAX_PASSWORD_BYTES).unwrap_or(password);
        self.verify(password, dummy).map(|_| ())
    }
}

/// Runs argon2id (OWASP parameters: 19 MiB, t=2, p=1) on the blocking thread pool, at most
/// one hash per CPU at a time: 64 simultaneous logins queue for a permit instead of claiming
/// 64 × 19 MiB and starving the async runtime. Cheap to clone; clones share the limit.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    argon: Arc<Argon2id>,
    permits: Arc<Semaphore>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// OWASP parameters, one permit per available CPU.
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::with_params(Params::DEFAULT, cpus)
    }

    fn with_params(params: Params, permits: usize) -> Self {
        PasswordHasher {
            argon: Arc::new(Argon2id::new(params)),
            permits: Arc::new(Semaphore::new(permits.max(1))),
        }
    }

    /// Makes the dummy hash now, before the first login for an unknown account needs it.
    ///
    /// # Errors
    /// The failures of [`PasswordHasher::hash`].
    pub async fn warm(&self) -> Result<(), AuthError> {
        self.run(|argon| argon.dummy_hash().map(|_| ())).await?
    }

    /// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) with a
    /// fresh random salt. Check [`check_password_policy`](super::check_password_policy) first:
    /// it is cheap and this is not.
    ///
    /// # Errors
    /// [`AuthError::Randomness`], [`AuthError::Hashing`] or [`AuthError::WorkerFailed`].
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<String, AuthError> {
        self.run(move |argon| argon.hash(password.as_bytes())).await?
    }

    /// Checks `password` against the account's stored hash, or, when there is no such
    /// account (`stored` is `None`), does the same amount of work against a dummy hash and
    /// reports no match, so the two cases cannot be told apart by timing.
    ///
    /// # Errors
    /// [`AuthError::StoredHashMalformed`] when the stored hash cannot be read; the failures of
    /// [`PasswordHasher::hash`].
    pub async fn verify(&self, password: Zeroizing<String>, stored: Option<String>) -> Result<Verification, AuthError> {
        self.run(move |argon| match stored {
            Some(stored) => argon.verify(password.as_bytes(), &stored),
            None => argon.dummy_verify(password.as_bytes()).map(|()| Verification::FAILED),
        })
        .await?
    }

    /// Runs `work` on the blocking pool once a permit is free. The permit moves into the
    /// blocking task, so it is held until argon2 finishes even if the caller's request is
    /// cancelled meanwhile: the memory stays bounded.
    async fn run<T, F>(&self, work: F) -> Result<T, AuthError>
    where
        T: Send + 'static,
        F: FnOnce(&Argon2id) -> T + Send + 'static,
    {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::WorkerFailed)?;
        let argon = self.argon.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| work(&argon))
        })
        .await
        .map_err(|_| AuthError::WorkerFailed)
    }
}

#[cfg(test)]
mod tests;
