//! Finding the checkpoint key: `VIGIL_CHECKPOINT_KEY` (the signer key line) or
//! `VIGIL_CHECKPOINT_KEY_FILE` (a file holding it). Only `serve --dev` on a SQLite data dir may
//! fall back to `checkpoint.key` in the data dir, generated on first start with a loud warning,
//! like the dev master and token keys. Never stored in a database: the log it signs for must
//! not hold the key that vouches for it.
//! Must not print or log the secret; errors name the variable or file, never the value.

use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use vigil_eventstore::{Location, MasterKey};
use vigil_proofs::note::{Algorithm, SignerKey, is_valid_key_name};
use zeroize::Zeroizing;

use super::{CheckpointSigner, DEFAULT_DEV_ORIGIN, KeyError};
use crate::auth::TokenKey;

/// The dev key file inside a SQLite data dir.
pub const DEV_FILE: &str = "checkpoint.key";

const VAR: &str = "VIGIL_CHECKPOINT_KEY";
const VAR_FILE: &str = "VIGIL_CHECKPOINT_KEY_FILE";

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// The key the environment names, if it names one.
fn from_env(origin: Option<&str>) -> Result<Option<CheckpointSigner>, KeyError> {
    match (env(VAR).map(Zeroizing::new), env(VAR_FILE)) {
        (Some(_), Some(_)) => Err(KeyError::BothSet),
        (Some(text), None) => parse(&text, VAR, origin).map(Some),
        (None, Some(path)) => read_file(Path::new(&path), origin).map(Some),
        (None, None) => Ok(None),
    }
}

fn parse(text: &str, came_from: &str, origin: Option<&str>) -> Result<CheckpointSigner, KeyError> {
    let key = SignerKey::parse(text.trim()).map_err(|source| KeyError::Malformed {
        origin: came_from.to_owned(),
        source,
    })?;
    CheckpointSigner::new(key, origin, came_from)
}

fn read_file(path: &Path, origin: Option<&str>) -> Result<CheckpointSigner, KeyError> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?);
    parse(&text, &format!("checkpoint key file {}", path.display()), origin)
}

/// The checkpoint signer `serve` runs with. Production needs the variable; `--dev` on SQLite
/// reads, or first generates, the data dir's key file (for `origin`, or the default origin).
/// The key must not be the master or token key's secret, nor a placeholder.
///
/// # Errors
/// Every [`KeyError`] but `NotFound`.
pub fn for_serve(
    location: &Location,
    dev: bool,
    origin: Option<&str>,
    master: &MasterKey,
    token: &TokenKey,
) -> Result<CheckpointSigner, KeyError> {
    let signer = match from_env(origin)? {
        Some(signer) => signer,
        None => match (dev, location) {
            (true, Location::Sqlite(dir)) => dev_key(dir, origin)?,
            (true, Location::Postgres(_)) => return Err(KeyError::MissingOnPostgres),
            (false, _) => return Err(KeyError::Missing),
        },
    };
    refuse_reuse(&signer, master, token)?;
    Ok(signer)
}

/// The key `vigil checkpoint public-key` describes: the environment's, else a dev key file
/// already in the data dir. Never generates one and writes nothing.
///
/// # Errors
/// [`KeyError::NotFound`], and the parse errors.
pub fn find(location: &Location) -> Result<CheckpointSigner, KeyError> {
    if let Some(signer) = from_env(None)? {
        return Ok(signer);
    }
    match location {
        Location::Sqlite(dir) if dir.join(DEV_FILE).is_file() => read_file(&dir.join(DEV_FILE), None),
        _ => Err(KeyError::NotFound),
    }
}

/// A new random log key named `name` (the origin it will sign for).
///
/// # Errors
/// [`KeyError::InvalidName`]; [`KeyError::Generate`] when the system's randomness fails.
pub fn generate(name: &str) -> Result<SignerKey, KeyError> {
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    let seed = vigil_eventstore::random_key_bytes().map_err(|e| KeyError::Generate(e.to_string()))?;
    SignerKey::from_seed(name, Algorithm::Ed25519, &seed).map_err(|_| KeyError::InvalidName(name.to_owned()))
}

pub fn dev_key(dir: &Path, origin: Option<&str>) -> Result<CheckpointSigner, KeyError> {
    let path: PathBuf = dir.join(DEV_FILE);
    if !path.exists() {
        let key = generate(origin.unwrap_or(DEFAULT_DEV_ORIGIN))?;
        crate::master_key::write_secret_file(&path, &key.to_secret_text())
            .map_err(|e| KeyError::Generate(format!("{e:#}")))?;
        eprintln!(
            "WARNING: dev mode: generated checkpoint signing key {} (mode 0600) for origin {}; \
             production needs {VAR} or {VAR_FILE}.",
            path.display(),
            key.name()
        );
    }
    read_file(&path, origin)
}

fn refuse_reuse(signer: &CheckpointSigner, master: &MasterKey, token: &TokenKey) -> Result<(), KeyError> {
    let seed = signer.seed();
    if let Some(why) = crate::auth::weak_key(seed) {
        return Err(KeyError::Refused(why));
    }
    if bool::from(seed.ct_eq(master.expose_bytes())) {
        return Err(KeyError::Refused(
            "it holds the master key's secret: use different random keys",
        ));
    }
    if token.is_the_same_secret_as(seed) {
        return Err(KeyError::Refused(
            "it holds the token key's secret: use different random keys",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> [u8; 32] {
        core::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11))
    }

    #[test]
    fn a_generated_key_parses_back_and_names_its_origin() {
        let key = generate("vigil.example/vigil/1").unwrap();
        let signer = parse(&key.to_secret_text(), "test", Some("vigil.example/vigil/1")).unwrap();
        assert_eq!(signer.origin(), "vigil.example/vigil/1");
        assert!(matches!(generate("has space"), Err(KeyError::InvalidName(_))));
        assert!(matches!(generate("a+b"), Err(KeyError::InvalidName(_))));
    }

    #[test]
    fn malformed_keys_name_where_they_came_from_and_never_their_text() {
        let secret = "PRIVATE+KEY+n+00000000+AXN1cGVyc2VjcmV0";
        let err = parse(secret, VAR, None).unwrap_err().to_string();
        assert!(err.contains(VAR), "{err}");
        assert!(!err.contains("AXN1cGVyc2VjcmV0"), "{err}");
    }

    #[test]
    fn the_key_must_not_be_another_keys_secret() {
        let key = SignerKey::from_seed("n", Algorithm::Ed25519, &seed()).unwrap();
        let signer = CheckpointSigner::new(key, None, "t").unwrap();
        let other: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(53).wrapping_add(3));
        let master = MasterKey::from_bytes(&seed()).unwrap();
        let token = TokenKey::new(Zeroizing::new(other));
        assert!(matches!(
            refuse_reuse(&signer, &master, &token),
            Err(KeyError::Refused(_))
        ));
        let master = MasterKey::from_bytes(&other).unwrap();
        let token = TokenKey::new(Zeroizing::new(seed()));
        assert!(matches!(
            refuse_reuse(&signer, &master, &token),
            Err(KeyError::Refused(_))
        ));
        let third: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(91).wrapping_add(5));
        let token = TokenKey::new(Zeroizing::new(third));
        assert!(refuse_reuse(&signer, &master, &token).is_ok());
        let placeholder = SignerKey::from_seed("n", Algorithm::Ed25519, &[0; 32]).unwrap();
        let placeholder = CheckpointSigner::new(placeholder, None, "t").unwrap();
        assert!(matches!(
            refuse_reuse(&placeholder, &master, &token),
            Err(KeyError::Refused(_))
        ));
    }

    #[test]
    fn without_the_variable_production_and_dev_on_postgres_are_told_apart() {
        if ["VIGIL_CHECKPOINT_KEY", "VIGIL_CHECKPOINT_KEY_FILE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            return; // The variable decides; nothing to tell apart here.
        }
        let master = MasterKey::from_bytes(&seed()).unwrap();
        let other: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(53).wrapping_add(3));
        let token = TokenKey::new(Zeroizing::new(other));
        let postgres = Location::Postgres("postgres://db.invalid/vigil".into());
        let dev_on_postgres = for_serve(&postgres, true, None, &master, &token).err();
        assert!(matches!(dev_on_postgres, Some(KeyError::MissingOnPostgres)));
        assert!(
            dev_on_postgres.is_some_and(|e| !e.to_string().contains("use --dev")),
            "--dev was given: the message must not ask for it"
        );
        let production = for_serve(&postgres, false, None, &master, &token).err();
        assert!(matches!(production, Some(KeyError::Missing)));
    }

    #[test]
    fn a_dev_key_is_generated_once_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let first = dev_key(dir.path(), Some("dev.example/vigil/1")).unwrap();
        let again = dev_key(dir.path(), None).unwrap();
        assert_eq!(first.verifier(), again.verifier());
        assert_eq!(again.origin(), "dev.example/vigil/1");
        // Another origin with the same dev key: refused, naming how to get a key for it.
        assert!(matches!(
            dev_key(dir.path(), Some("dev.example/vigil/2")),
            Err(KeyError::OriginMismatch { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(DEV_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
