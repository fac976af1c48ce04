//! `vigil checkpoint …`: the log's checkpoint key for operators. `public-key` prints the
//! verifier key line auditors and witnesses configure; `new-key` makes a signer key for an
//! origin, printed once on stdout for the operator to store as a secret; `sign` signs the
//! current head now through the checkpoint job's own code path and prints the note.
//! `public-key` and `new-key` must not write anything (no data dir, no key file) nor open the
//! store; only `sign` opens it, and only a dev store gets a dev key written.

use std::process::ExitCode;

use anyhow::{Context, bail};
use vigil_eventstore::Location;

use crate::checkpoint::job::{Cadence, Tick, tick};
use crate::checkpoint::{KeyError, key};
use crate::cli::{CheckpointCommand, StoreArgs};
use crate::master_key::KeySource;

pub async fn run(args: &StoreArgs, cmd: CheckpointCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CheckpointCommand::Sign => return sign(args).await,
        CheckpointCommand::PublicKey => {
            let signer = key::find(&super::location(args)?)?;
            println!("{}", signer.verifier());
        }
        CheckpointCommand::NewKey { name } => {
            let key = key::generate(&name)?;
            // The secret alone on stdout, so `> file` or a secret store's stdin takes it whole.
            println!("{}", key.to_secret_text().as_str());
            eprintln!(
                "new checkpoint key for origin {name}; keep the line above secret (VIGIL_CHECKPOINT_KEY or \
                 VIGIL_CHECKPOINT_KEY_FILE). Verifier key for auditors and witnesses:\n{}",
                key.verifier()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Signs the whole log now, exactly as the server's job would when due, and prints the note as
/// served (with any cosignature lines).
async fn sign(args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let location = super::location(args)?;
    let (store, source) = super::open(args).await?;
    let signer = match (key::find(&location), &location, &source) {
        (Ok(signer), _, _) => Ok(signer),
        // A dev store (generated master key) gets a dev checkpoint key, as `serve --dev` does.
        (Err(KeyError::NotFound), Location::Sqlite(dir), KeySource::DevFile(_)) => key::dev_key(dir, None),
        (Err(e), _, _) => Err(e),
    };
    let result = async {
        let signer = signer?;
        // Due whenever the log has grown past the newest checkpoint.
        let now = Cadence {
            every: std::time::Duration::ZERO,
            events: 1,
        };
        let size = match tick(&store, &signer, now).await? {
            Tick::Signed(size, _) => size,
            Tick::Idle => match store.latest_checkpoint().await? {
                Some(cp) => cp.size,
                None => bail!("the log is empty: there is nothing to sign"),
            },
        };
        let cp = store
            .checkpoint_at(size)
            .await?
            .with_context(|| format!("checkpoint {size} was signed but is not recorded"))?;
        let lines = store.cosignatures(size).await?;
        anyhow::Ok(crate::checkpoint::served_note(&cp.note, &lines))
    }
    .await;
    store.close().await;
    print!("{}", result?);
    Ok(ExitCode::SUCCESS)
}
