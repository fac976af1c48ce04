//! The `backup` command line and the backup flags of `serve`, as clap types.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::create::Recipients;
use super::rotate::{DEFAULT_DAILY, DEFAULT_MONTHLY, Policy};

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Make a new age identity (X25519) for backups: the identity (a secret: keep it off the
    /// servers) on stdout, its recipient (`age1…`, public) on stderr. `age-keygen` does the same.
    Keygen,
    /// Take a backup set now into a backup dir: the log and the key vault, each in its own
    /// archive (zstd, then age to its own recipients), a manifest, then rotation.
    Create(CreateArgs),
    /// The sets in a backup dir with their size, age and last drill.
    List {
        /// The backup dir.
        #[arg(long = "dir", env = "VIGIL_BACKUP_DIR")]
        dir: PathBuf,
    },
    /// Restore a set into the empty store named by --data-dir / --database-url, then rebuild
    /// its read models and re-apply the erasure ledger. Refuses a store that holds anything.
    Restore(RestoreArgs),
    /// Restore the newest set (or --set) into a scratch store and check it: tables and row
    /// counts, chain, tree, checkpoints, read models, erasures. Records the verdict (in the
    /// set's drill.json and as an event in the live store) and exits 3 when a check fails.
    Drill(DrillArgs),
}

/// Who the archives are encrypted to.
#[derive(Debug, Args, Clone, Default)]
pub struct RecipientArgs {
    /// A recipient (`age1…`) of the log archive; repeat for several.
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
    /// A file of log-archive recipients, one `age1…` per line.
    #[arg(long, env = "VIGIL_BACKUP_RECIPIENTS_FILE")]
    pub recipients_file: Option<PathBuf>,
    /// A recipient of the vault archive; repeat for several. Must differ from the log's.
    #[arg(long = "vault-recipient")]
    pub vault_recipients: Vec<String>,
    /// A file of vault-archive recipients.
    #[arg(long, env = "VIGIL_BACKUP_VAULT_RECIPIENTS_FILE")]
    pub vault_recipients_file: Option<PathBuf>,
}

impl RecipientArgs {
    /// Whether any recipient was given.
    pub fn any(&self) -> bool {
        !self.recipients.is_empty()
            || self.recipients_file.is_some()
            || !self.vault_recipients.is_empty()
            || self.vault_recipients_file.is_some()
    }

    /// The recipients, checked.
    ///
    /// # Errors
    /// Malformed keys, unreadable files, an empty set, or a recipient of both archives.
    pub fn resolve(&self) -> anyhow::Result<Recipients> {
        let read = |list: &[String], file: &Option<PathBuf>| -> anyhow::Result<Vec<super::archive::Recipient>> {
            let mut out = Vec::new();
            for r in list {
                out.push(super::archive::recipient(r)?);
            }
            if let Some(file) = file {
                out.extend(super::archive::recipients_file(file)?);
            }
            Ok(out)
        };
        Recipients::new(
            read(&self.recipients, &self.recipients_file)?,
            read(&self.vault_recipients, &self.vault_recipients_file)?,
        )
    }
}

/// How many sets rotation keeps.
#[derive(Debug, Args, Clone, Copy)]
pub struct RetentionArgs {
    /// Days whose newest set is kept.
    #[arg(long, default_value_t = DEFAULT_DAILY, env = "VIGIL_BACKUP_KEEP_DAILY")]
    pub keep_daily: u32,
    /// Months whose newest set is kept.
    #[arg(long, default_value_t = DEFAULT_MONTHLY, env = "VIGIL_BACKUP_KEEP_MONTHLY")]
    pub keep_monthly: u32,
}

impl RetentionArgs {
    /// The policy.
    pub fn policy(self) -> Policy {
        Policy {
            daily: self.keep_daily,
            monthly: self.keep_monthly,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The backup dir (one directory per set inside).
    #[arg(long = "to", env = "VIGIL_BACKUP_DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub recipients: RecipientArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The set's directory (`<backup dir>/<id>`).
    #[arg(long = "from")]
    pub from: PathBuf,
    /// An age identity file that opens the archives; repeat when the log's and the vault's
    /// identities are in different files.
    #[arg(long = "identity", required = true)]
    pub identities: Vec<PathBuf>,
    /// The erasure ledger to re-apply; by default `erasure-ledger.json` in the set's backup dir.
    #[arg(long, conflicts_with = "without_ledger")]
    pub ledger: Option<PathBuf>,
    /// Restore without an erasure ledger beyond the set's own: people erased after the set
    /// was taken come back. Only when the ledger is truly lost.
    #[arg(long)]
    pub without_ledger: bool,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The backup dir.
    #[arg(long = "dir", env = "VIGIL_BACKUP_DIR")]
    pub dir: PathBuf,
    /// The set to drill; the newest by default.
    #[arg(long = "set")]
    pub set: Option<String>,
    /// An age identity file that opens the archives (repeatable).
    #[arg(long = "identity", required = true)]
    pub identities: Vec<PathBuf>,
    /// An empty Postgres database to restore into, for a Postgres set; by default the drill
    /// creates one on the live store's server and drops it afterwards.
    #[arg(long, env = "VIGIL_BACKUP_SCRATCH_DATABASE_URL", hide_env_values = true)]
    pub scratch_database_url: Option<String>,
}

/// The backup flags of `serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeBackupArgs {
    /// Take a backup set this often (`6h`, `24h`, `7d`; 1 minute to 31 days), one server at a
    /// time, judged against the newest set the log records. Off unless given; needs
    /// --backup-dir and the recipients.
    #[arg(long, env = "VIGIL_BACKUP_EVERY", value_parser = every)]
    pub backup_every: Option<std::time::Duration>,
    /// The backup dir of the scheduled sets.
    #[arg(long, env = "VIGIL_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
    #[command(flatten)]
    pub recipients: RecipientArgs,
    #[command(flatten)]
    pub retention: RetentionArgs,
}

/// An interval of `s`, `m`, `h` or `d`, from 1 second (for tests) to 31 days.
fn every(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("{text:?}: write an interval as a number and s, m, h or d, such as 24h or 7d");
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (amount, unit) = text.split_at(split);
    let amount: u64 = amount.parse().map_err(|_| bad())?;
    // The units every other interval flag takes, and days.
    let seconds = match unit {
        "d" => amount.checked_mul(86_400),
        _ => crate::limits::rate::span_seconds(amount, unit),
    }
    .ok_or_else(bad)?;
    if seconds == 0 || seconds > 31 * 86_400 {
        return Err(format!("{text:?}: the interval must be 1 second to 31 days"));
    }
    Ok(std::time::Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::every;

    #[test]
    fn backup_intervals_parse_as_operators_write_them() {
        assert_eq!(every("24h").unwrap().as_secs(), 86_400);
        assert_eq!(every("7d").unwrap().as_secs(), 604_800);
        assert_eq!(every("2s").unwrap().as_secs(), 2);
        for bad in ["", "1", "d", "0h", "32d", "-1d", "1.5d", "1w"] {
            assert!(every(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
