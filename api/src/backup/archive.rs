//! One archive file: a tar of plain files, compressed with zstd, encrypted with age to X25519
//! recipients (age-encryption.org/v1). So any operator can open it without vigil:
//! `age -d -i KEY FILE | zstd -d | tar x`. Also the recipients and identities files, in the
//! age CLI's formats (`age1…` lines; `AGE-SECRET-KEY-1…` lines, `#` comments).
//!
//! Owns: packing, unpacking, and reading keys. Must not: know which files a backup holds or
//! where archives live (`create`, `restore`), or ever write a decrypted file outside the
//! directory it is given.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use std::str::FromStr;

pub use age::x25519::Identity;
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// An X25519 recipient. The age crate marks these deprecated in favour of its post-quantum
/// hybrid recipients, but those are not in the age format the Debian `age` CLI (1.1) reads, and
/// an operator must be able to open a backup with stock tools: X25519, on purpose.
#[allow(deprecated)]
pub type Recipient = age::x25519::Recipient;

/// zstd level: 3 is zstd's default; ciphertext (most of the log) does not compress anyway.
const ZSTD_LEVEL: i32 = 3;

/// Reads recipients (`age1…`, one per line; blank lines and `#` comments skipped).
///
/// # Errors
/// An unreadable file, or a line that is not an X25519 recipient (named by its number).
pub fn recipients_file(path: &Path) -> anyhow::Result<Vec<Recipient>> {
    key_lines(path)?
        .into_iter()
        .map(|(n, line)| recipient(&line).with_context(|| format!("{} line {n}", path.display())))
        .collect()
}

/// The key lines of a recipients or identities file, numbered from 1: blank lines and `#`
/// comments skipped, the rest trimmed.
fn key_lines(path: &Path) -> anyhow::Result<Vec<(usize, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| (n, line.to_owned()))
        .collect())
}

/// One recipient, `age1…`.
///
/// # Errors
/// Anything else; the text is not echoed beyond its first characters.
pub fn recipient(text: &str) -> anyhow::Result<Recipient> {
    Recipient::from_str(text.trim()).map_err(|_| {
        let shown: String = text.chars().take(8).collect();
        anyhow::anyhow!("not an age X25519 recipient (age1…): {shown}…")
    })
}

/// Reads identities (`AGE-SECRET-KEY-1…` lines; blank lines and `#` comments skipped), as
/// `age-keygen` and `vigil backup keygen` write them. Secret: never echoed in errors.
///
/// # Errors
/// An unreadable file, one without identities, or a line that is not an X25519 identity.
pub fn identities_file(path: &Path) -> anyhow::Result<Vec<Identity>> {
    let out = key_lines(path)?
        .into_iter()
        .map(|(n, line)| {
            Identity::from_str(&line)
                .map_err(|_| anyhow::anyhow!("{} line {n}: not an age X25519 identity", path.display()))
        })
        .collect::<anyhow::Result<Vec<Identity>>>()?;
    if out.is_empty() {
        bail!("{} holds no age identity", path.display());
    }
    Ok(out)
}

/// What [`pack`] wrote.
#[derive(Debug, Clone)]
pub struct Packed {
    /// Bytes of the archive file.
    pub bytes: u64,
    /// SHA-256 of the archive file, hex.
    pub sha256: String,
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `files` (name inside the archive, path now) into a new archive at `out` for
/// `recipients`. Blocking: run it off the async threads. The file is created new (mode 0600)
/// and synced; a failure leaves a partial file for the caller's temporary directory to drop.
///
/// # Errors
/// No recipients, file errors.
pub fn pack(files: &[(String, PathBuf)], recipients: &[Recipient], out: &Path) -> anyhow::Result<Packed> {
    if recipients.is_empty() {
        bail!("an archive needs at least one recipient");
    }
    let file = create_private(out)?;
    let hashing = Hashing {
        inner: BufWriter::with_capacity(1 << 20, file),
        hash: Sha256::new(),
        bytes: 0,
    };
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .context("cannot set up age encryption")?;
    let encrypted = encryptor.wrap_output(hashing).context("cannot write the age header")?;
    let compressed = zstd::Encoder::new(encrypted, ZSTD_LEVEL).context("cannot start zstd")?;
    let mut tar = tar::Builder::new(compressed);
    tar.mode(tar::HeaderMode::Deterministic);
    for (name, path) in files {
        let mut source = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        tar.append_file(name, &mut source)
            .with_context(|| format!("cannot archive {name}"))?;
    }
    let compressed = tar.into_inner().context("cannot finish the tar stream")?;
    let encrypted = compressed.finish().context("cannot finish zstd")?;
    let mut hashing = encrypted.finish().context("cannot finish age")?;
    hashing.flush()?;
    let Hashing { inner, hash, bytes } = hashing;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(Packed {
        bytes,
        sha256: hex::encode(hash.finalize()),
    })
}

/// SHA-256 and size of a file, hex.
///
/// # Errors
/// File errors.
pub fn digest(path: &Path) -> anyhow::Result<Packed> {
    let mut file = BufReader::with_capacity(
        1 << 20,
        File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(Packed {
        bytes,
        sha256: hex::encode(hash.finalize()),
    })
}

/// Decrypts the archive at `path` with whichever of `identities` opens it and writes its files
/// into `into` (private, existing). Returns their names. Entries that are not plain files, or
/// whose names are not one plain component, are refused: an archive never writes elsewhere.
///
/// # Errors
/// No identity opens it (`wrong identity`), corruption, file errors.
pub fn unpack(path: &Path, identities: &[Identity], into: &Path) -> anyhow::Result<Vec<String>> {
    let file = BufReader::with_capacity(
        1 << 20,
        File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let decryptor =
        age::Decryptor::new_buffered(file).with_context(|| format!("{}: not an age file", path.display()))?;
    let reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => {
                anyhow::anyhow!(
                    "{}: none of the identities given opens it (wrong identity)",
                    path.display()
                )
            }
            other => anyhow::anyhow!("{}: cannot decrypt: {other}", path.display()),
        })?;
    let decompressed = zstd::Decoder::new(reader).context("cannot start zstd")?;
    let mut tar = tar::Archive::new(decompressed);
    let mut names = Vec::new();
    for entry in tar.entries().context("cannot read the tar stream")? {
        let mut entry = entry.with_context(|| format!("{}: corrupt archive", path.display()))?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let plain = !name.is_empty()
            && !name.contains('/')
            && name != "."
            && name != ".."
            && entry.header().entry_type() == tar::EntryType::Regular;
        if !plain {
            bail!(
                "{}: refusing archive entry {name:?} (only plain file names)",
                path.display()
            );
        }
        let target = into.join(&name);
        let mut out = create_private(&target)?;
        std::io::copy(&mut entry, &mut out).with_context(|| format!("{}: corrupt archive", path.display()))?;
        out.sync_all()?;
        names.push(name);
    }
    Ok(names)
}

/// A new file readable by its owner only; an existing one is an error, never overwritten.
///
/// # Errors
/// The file exists or cannot be created.
pub fn create_private(path: &Path) -> anyhow::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))
}

/// A new identity file's text and its recipient (what `vigil backup keygen` prints).
pub fn new_identity() -> (String, String) {
    use age::secrecy::ExposeSecret;
    #[allow(deprecated)] // X25519 on purpose: see [`Recipient`].
    let identity = Identity::generate();
    let recipient = identity.to_public().to_string();
    let created = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        format!(
            "# created: {created}\n# public key: {recipient}\n{}\n",
            identity.to_string().expose_secret()
        ),
        recipient,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_archive_opens_with_its_identity_only_and_holds_exactly_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        std::fs::write(&a, b"ciphertext only".repeat(1000)).unwrap();
        let (text, recipient_text) = new_identity();
        let id_path = dir.path().join("id.txt");
        std::fs::write(&id_path, text).unwrap();
        let ids = identities_file(&id_path).unwrap();
        let out = dir.path().join("x.tar.zst.age");
        let packed = pack(
            &[("a.db".into(), a.clone())],
            &[recipient(&recipient_text).unwrap()],
            &out,
        )
        .unwrap();
        assert_eq!(digest(&out).unwrap().sha256, packed.sha256);
        let into = dir.path().join("out");
        std::fs::create_dir(&into).unwrap();
        assert_eq!(unpack(&out, &ids, &into).unwrap(), vec!["a.db".to_string()]);
        assert_eq!(std::fs::read(into.join("a.db")).unwrap(), std::fs::read(&a).unwrap());

        let (other, _) = new_identity();
        let other_path = dir.path().join("other.txt");
        std::fs::write(&other_path, other).unwrap();
        let wrong = unpack(&out, &identities_file(&other_path).unwrap(), &into).unwrap_err();
        assert!(wrong.to_string().contains("wrong identity"), "{wrong}");
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_secrets() {
        assert!(recipient("age1nope").is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("id.txt");
        std::fs::write(&p, "AGE-SECRET-KEY-1SECRETSECRETSECRET\n").unwrap();
        let Err(err) = identities_file(&p) else {
            panic!("a bad identity was accepted")
        };
        let err = err.to_string();
        assert!(!err.contains("SECRETSECRET"), "{err}");
        std::fs::write(&p, "# only a comment\n").unwrap();
        assert!(identities_file(&p).is_err());
    }
}
