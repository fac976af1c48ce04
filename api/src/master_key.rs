//! Finding the master key: `VIGIL_MASTER_KEY` (base64 of 32 bytes) or `VIGIL_MASTER_KEY_FILE`.
//! Only a local SQLite dev store may fall back to a key file generated in its data dir, with a
//! loud warning; a Postgres (production) store refuses to start without an explicit key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use vigil_eventstore::{Location, MasterKey};

/// The generated dev key file inside a SQLite data dir.
pub fn dev_key_path(dir: &Path) -> PathBuf {
    dir.join("master.key")
}

/// Where the key came from; rotation needs to know whether it may rewrite a dev key file.
pub enum KeySource {
    Env,
    File,
    DevFile(PathBuf),
}

pub fn parse_key(text: &str, origin: &str) -> anyhow::Result<MasterKey> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| anyhow::anyhow!("{origin} is not valid base64 (expected 32 random bytes in base64)"))?;
    if bytes.len() != 32 {
        bail!(
            "{origin} decodes to {} bytes; a master key is exactly 32 bytes",
            bytes.len()
        );
    }
    Ok(MasterKey::from_bytes(&bytes)?)
}

pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read master key file {}", path.display()))?;
    parse_key(&text, &format!("master key file {}", path.display()))
}

fn env_key(var: &str) -> anyhow::Result<Option<(MasterKey, KeySource)>> {
    let direct = std::env::var(var).ok().filter(|v| !v.is_empty());
    let file = std::env::var(format!("{var}_FILE")).ok().filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => bail!("set only one of {var} and {var}_FILE"),
        (Some(text), None) => Ok(Some((parse_key(&text, var)?, KeySource::Env))),
        (None, Some(path)) => {
            let path = PathBuf::from(path);
            Ok(Some((read_key_file(&path)?, KeySource::File)))
        }
        (None, None) => Ok(None),
    }
}

/// Resolves the master key for `location`, generating a dev key only for a brand-new local
/// SQLite store.
pub async fn resolve(location: &Location) -> anyhow::Result<(MasterKey, KeySource)> {
    if let Some(found) = env_key("VIGIL_MASTER_KEY")? {
        return Ok(found);
    }
    let dir = match location {
        Location::Postgres(_) => bail!(
            "a Postgres store needs an explicit master key: set VIGIL_MASTER_KEY (base64 of 32 random bytes) \
             or VIGIL_MASTER_KEY_FILE; create one with `head -c 32 /dev/urandom | base64`"
        ),
        Location::Sqlite(dir) => dir,
    };
    let path = dev_key_path(dir);
    if path.exists() {
        return Ok((read_key_file(&path)?, KeySource::DevFile(path)));
    }
    if vigil_eventstore::sqlite_vault_has_master_key(dir).await? {
        bail!(
            "{} holds a key vault but no master key: set VIGIL_MASTER_KEY or VIGIL_MASTER_KEY_FILE to the key it was created with",
            dir.display()
        );
    }
    let key = MasterKey::generate()?;
    write_key_file(&path, &key)?;
    eprintln!(
        "WARNING: dev mode: generated master key {} (mode 0600). Keep it out of backups of the data; \
         production needs VIGIL_MASTER_KEY or VIGIL_MASTER_KEY_FILE.",
        path.display()
    );
    Ok((key, KeySource::DevFile(path)))
}

/// Writes a key file with mode 0600, durably, refusing to overwrite.
pub fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let text = zeroize::Zeroizing::new(STANDARD.encode(key.expose_bytes()));
    write_secret_file(path, &text)
}

/// Writes `text` and a newline to a new file of mode 0600, durably, refusing to overwrite:
/// every generated dev secret (master, token, checkpoint key) is written this way.
pub fn write_secret_file(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        vigil_eventstore::create_private_dir(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create key file {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_key_gets_a_clear_error() {
        let err = parse_key("not base64!!", "VIGIL_MASTER_KEY").err().unwrap().to_string();
        assert!(err.contains("not valid base64"), "{err}");
        let err = parse_key(&STANDARD.encode([1u8; 16]), "VIGIL_MASTER_KEY")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("16 bytes"), "{err}");
        assert!(parse_key(&STANDARD.encode([1u8; 32]), "k").is_ok());
    }

    #[test]
    fn a_dev_key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let key = MasterKey::generate().unwrap();
        write_key_file(&path, &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(read_key_file(&path).unwrap().expose_bytes(), key.expose_bytes());
        assert!(write_key_file(&path, &MasterKey::generate().unwrap()).is_err());
    }
}
