//! `vigil checkpoint …`: the log's checkpoint key for operators. `public-key` prints the
//! verifier key line auditors and witnesses configure; `new-key` makes a signer key for an
//! origin, printed once on stdout for the operator to store as a secret.
//! Must not write anything (no data dir, no key file) nor open the store: neither needs it.

use std::process::ExitCode;

use crate::checkpoint::key;
use crate::cli::{CheckpointCommand, StoreArgs};

pub fn run(args: &StoreArgs, cmd: CheckpointCommand) -> anyhow::Result<ExitCode> {
    match cmd {
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
