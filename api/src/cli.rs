//! The command line, as clap types. Names and flags here are part of vigil's contract.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// vigil: a privacy-first health-protocol tracker backend.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives; every command takes these.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store (events.db, keys.db).
    #[arg(long, global = true, default_value = "./vigil-data", env = "VIGIL_DATA_DIR")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…); overrides --data-dir.
    #[arg(long, global = true, env = "VIGIL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the schema.
    Migrate,
    /// Write realistic test events (deterministic content with --seed).
    Seed(SeedArgs),
    /// Verify the whole hash chain; exit 0 when intact, 3 when broken. Needs no key, opens
    /// the log read-only and writes nothing (an auditor's copy of events.db is enough).
    Verify,
    /// Auditors' replay: one JSON object per event and line.
    Events(EventsArgs),
    /// Data-key and master-key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Benchmarks, each beside a raw baseline measured in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Run the GraphQL API with the projection runner (migrates first).
    Serve(Box<crate::server::ServeArgs>),
    /// Read-model maintenance.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Staff accounts and account locks, from the server's shell: the only way to make an
    /// admin. Each change is recorded with actor `system:cli` and the reason given.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// The read-only switch ("kill switch"): while on, every mutation on every server
    /// answers READ_ONLY; reads, subscriptions and sign-in keep working.
    #[command(subcommand)]
    Maintenance(MaintenanceCommand),
    /// People's accounts as a whole: the inactivity check.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// The log's checkpoint key: print its public verifier key, or make a new one.
    #[command(subcommand)]
    Checkpoint(CheckpointCommand),
    /// Witness a log: verify its newest checkpoint is consistent with the last one this
    /// witness cosigned, then cosign it (`witness new-key` makes the witness's key).
    Witness(crate::witness::WitnessArgs),
    /// Print the GraphQL schema (SDL), as committed in api/schema.graphql.
    Schema,
    /// Audit bundles (docs/audit-bundle.md): export a range of the log with its checkpoints and
    /// proofs, or verify one offline with the log's public key.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Encrypted backups of the log and the key vault (separate archives and recipients),
    /// their rotation, restore and restore drill.
    #[command(subcommand)]
    Backup(crate::backup::args::BackupCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit bundle of events A+1..=B: their ciphertext (never plaintext or keys),
    /// every recorded checkpoint in [A, B] and the proofs tying them. Needs no key, opens the
    /// log read-only and writes nothing into it (an auditor's copy of events.db is enough).
    Export {
        /// A: 0 (the genesis) or a recorded checkpoint size.
        #[arg(long, default_value_t = 0)]
        from_size: u64,
        /// B: a recorded checkpoint size; the newest by default.
        #[arg(long)]
        to_size: Option<u64>,
        /// The bundle file (`-`: standard output); written whole or not at all.
        #[arg(short = 'o', long)]
        output: PathBuf,
    },
    /// Check a bundle offline with nothing but the log's public key (and optionally a
    /// checkpoint pinned earlier). Exit 0 proved, 3 a check failed (the first failure named),
    /// 4 unreadable or malformed input. Opens no database and no data dir.
    Verify(crate::audit::verify::VerifyArgs),
}

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Sign the Merkle root of the whole log now with the checkpoint key and record it (what
    /// the server's checkpoint job does), then print the signed note. When the newest
    /// checkpoint already covers the log, print that one. A dev store without a key gets a dev
    /// key in its data dir, as `serve --dev` would make.
    Sign,
    /// Print the verifier key line (`<origin>+<keyid>+<base64>`) of the checkpoint key
    /// (VIGIL_CHECKPOINT_KEY or _FILE, else the dev key in the data dir): what auditors and
    /// witnesses verify signed checkpoints with. Writes nothing, never generates a key.
    PublicKey,
    /// Generate a new checkpoint signer key for an origin and print it on stdout (a secret:
    /// store it as VIGIL_CHECKPOINT_KEY or in the file VIGIL_CHECKPOINT_KEY_FILE names); its
    /// verifier key goes to stderr. A new key means a new origin (`…/vigil/2`): that is how
    /// the checkpoint key rotates.
    NewKey {
        /// The origin the key signs for, a schema-less URL such as `vigil.example.org/vigil/1`
        /// (no spaces, no `+`).
        #[arg(long)]
        name: String,
    },
}

/// Checkpoint settings of `serve`.
#[derive(Debug, Args, Clone)]
pub struct CheckpointArgs {
    /// The origin line of this log's checkpoints (`vigil.example.org/vigil/1`). It must be the
    /// checkpoint key's name; by default it is. `--dev` generates its key for this origin
    /// (default `localhost/vigil/1`).
    #[arg(long, env = "VIGIL_CHECKPOINT_ORIGIN")]
    pub checkpoint_origin: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Clear read models and replay the log into them (all, or the one named).
    Rebuild {
        /// accounts, credentials, protocols, doses, health_logs or bloodwork.
        name: Option<String>,
    },
    /// Each projection's checkpoint and how far it lags the log.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Switch read-only mode on or off (recorded with actor `system:cli` and the reason).
    ReadOnly {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Why (recorded; 1–500 characters). Required to switch on.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Whether read-only mode is on, since when, by whom and why.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Run the inactivity check once, now (servers run it every hour, one at a time): a
    /// user account nobody used for the period gets a notice 30 days before, and is erased
    /// (ledger actor `system:inactivity`) once the day its notice named has come. Staff
    /// accounts are never erased for inactivity.
    EraseInactive(EraseInactiveArgs),
}

#[derive(Debug, Args)]
pub struct EraseInactiveArgs {
    /// The day to judge by (YYYY-MM-DD, UTC); today when omitted. A later day does now what
    /// the check would do on that day, notices and erasures included.
    #[arg(long, value_parser = day)]
    pub today: Option<time::Date>,
    #[command(flatten)]
    pub inactivity: InactivityArgs,
    /// Queue the notices' and erasures' e-mail for the servers to send (give it where the
    /// servers send mail; without it this run sends none).
    #[arg(long)]
    pub queue_mail: bool,
}

/// The inactivity period, shared by `serve` and `accounts erase-inactive`.
#[derive(Debug, Args, Clone, Copy)]
pub struct InactivityArgs {
    /// Erase user accounts nobody used (signed in, refreshed a session or wrote anything) for
    /// this many days, each after a notice 30 days before.
    #[arg(long, default_value_t = crate::erasure::inactivity::DEFAULT_DAYS, env = "VIGIL_ERASE_INACTIVE_AFTER",
          value_parser = clap::value_parser!(u32).range(31..=36_500))]
    pub erase_inactive_after: u32,
}

impl InactivityArgs {
    /// The policy these flags describe.
    ///
    /// # Errors
    /// A period outside the domain's bounds (clap's range already refuses it).
    pub fn policy(self) -> anyhow::Result<vigil_domain::account::InactivityPolicy> {
        vigil_domain::account::InactivityPolicy::after_days(self.erase_inactive_after).ok_or_else(|| {
            anyhow::anyhow!(
                "--erase-inactive-after must be {} to {} days",
                vigil_domain::account::InactivityPolicy::MIN_DAYS,
                vigil_domain::account::InactivityPolicy::MAX_DAYS
            )
        })
    }
}

/// A day written `YYYY-MM-DD`.
fn day(text: &str) -> Result<time::Date, String> {
    time::Date::parse(text.trim(), time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("{text:?}: expected a day as YYYY-MM-DD ({e})"))
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create a staff account; the password is read from standard input (one line). It must
    /// enrol TOTP at its first sign-in before it gets a session.
    Add {
        /// The staff member's email (kept only sealed, like every email).
        #[arg(long)]
        email: String,
        /// support, auditor or admin.
        #[arg(long)]
        role: String,
        /// Public handle (generated when omitted).
        #[arg(long)]
        handle: Option<String>,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Give an account another role (user, support, auditor, admin); its sessions end.
    Role {
        /// The account's handle.
        #[arg(long)]
        handle: String,
        /// The new role.
        #[arg(long)]
        role: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Disable an account: no sign-in, its sessions end.
    Disable {
        /// The account's handle.
        #[arg(long)]
        handle: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Enable a disabled account.
    Enable {
        /// The account's handle.
        #[arg(long)]
        handle: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Lift a sign-in lock before it ends.
    Unlock {
        /// The account's handle.
        #[arg(long)]
        handle: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Number of data subjects (users).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub subjects: u64,
    /// Events per subject.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub events_per_subject: u64,
    /// Seed for the generated content.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this stream.
    #[arg(long, conflicts_with = "subject")]
    pub stream: Option<String>,
    /// Only events sealed under this subject's keys.
    #[arg(long)]
    pub subject: Option<uuid::Uuid>,
    /// First position (or stream version with --stream), inclusive.
    #[arg(long, default_value_t = 1)]
    pub from: u64,
    /// At most this many events.
    #[arg(long)]
    pub limit: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Crypto-shred a subject: destroy every version of its data key.
    Shred {
        /// The subject (user) id.
        #[arg(long)]
        subject: uuid::Uuid,
        /// Queue the erasure's confirmation e-mail for the servers to send (give it where the
        /// servers send mail; without it none is sent).
        #[arg(long)]
        queue_mail: bool,
    },
    /// Re-wrap every data key under a new master key; events are not touched.
    RotateMaster {
        /// File holding the new master key (base64 of 32 bytes). Also VIGIL_NEW_MASTER_KEY(_FILE).
        /// For a dev store with a generated key file, a new key is generated when omitted.
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Batched append and 64-writer group commit vs raw INSERT baselines.
    Append(BenchArgs),
    /// verify_chain vs a raw scan.
    Verify(BenchArgs),
    /// read_all (decrypting) vs a raw scan.
    Read(BenchArgs),
    /// Shredding a subject with 100k events vs one with 100.
    Shred(BenchArgs),
    /// Append latency on an empty store vs after --events prefilled events.
    Scale(BenchArgs),
    /// Rebuilding a read model vs raw multi-row INSERTs of the same rows.
    Rebuild(BenchArgs),
    /// The GraphQL API under concurrent clients (dashboard reads, health-log writes) vs a bare
    /// axum handler running the same read-model queries, both served in-process.
    Api(ApiBenchArgs),
    /// Sign-in timing: failed logins of unknown, wrong-password and locked accounts (and
    /// registrations of free and taken emails) must not be told apart by time. Prints medians
    /// and two-sample Kolmogorov–Smirnov statistics; asserts nothing.
    Login(LoginBenchArgs),
    /// A bounded loopback flood under the production rate limits: reads from one person and
    /// requests without a session from one address, while `/healthz` is probed and memory
    /// sampled. Prints the figures; asserts nothing.
    Flood(FloodBenchArgs),
    /// One person with --events events (default 100 000): time and peak memory (VmHWM) of
    /// downloading their JSON export, beside reading the same events from the store.
    Export(BenchArgs),
    /// Merkle roots, inclusion and consistency proofs served by the store at 1 k, 10 k, … up
    /// to --events (default 10 M) synthetic events filled in bulk (the tree is built by the
    /// store's backfill); generation and verification p50/p99. 100 samples per --runs.
    Proofs(BenchArgs),
}

#[derive(Debug, Args, Clone)]
pub struct FloodBenchArgs {
    /// Requests per phase.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub requests: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
}

#[derive(Debug, Args, Clone)]
pub struct LoginBenchArgs {
    /// Login attempts per kind (unknown, wrong password, locked).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(8..=100_000))]
    pub attempts: u32,
    /// Registrations per kind (free email, taken email).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub registrations: u32,
}

#[derive(Debug, Args, Clone)]
pub struct ApiBenchArgs {
    /// Concurrent clients, each signed in as its own person.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub clients: u32,
    /// Measured seconds per phase (after one second of warm-up).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=600))]
    pub seconds: u32,
    /// Share of the mixed phase's requests that are health-log writes, in percent.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub write_percent: u32,
    /// Runs per figure; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub runs: u32,
    /// Record Prometheus metrics as `serve --metrics-listen` does, to measure what they cost
    /// (compare runs with and without it).
    #[arg(long)]
    pub metrics: bool,
}

#[derive(Debug, Args, Clone)]
pub struct BenchArgs {
    /// Events per measured run (prefill size for `scale`).
    #[arg(long)]
    pub events: Option<u64>,
    /// Runs per figure; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub runs: u32,
    /// Concurrent writers for the group-commit figure.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub writers: u32,
    /// Events per batch for the batched-append figure.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
}
