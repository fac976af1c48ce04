//! `vigil audit verify`: checks an audit bundle offline, streaming it through
//! `vigil_proofs::bundle::check_stream`, so a bundle of any length is checked in constant memory.
//! Needs the log's public key and nothing else: no database, no data dir, no secret; it opens
//! only the files it is given. Prints what was proved. Exit codes are the doc's: 0 proved, 3 a
//! check failed (the first failure named), 4 the bundle, key or pinned file unreadable or
//! malformed (2, wrong arguments, is clap's). Must not write anything.

use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use vigil_proofs::bundle::{Report, check_stream};
use vigil_proofs::note::{Checkpoint, Note, VerifierKey};

/// A check failed.
const FAILED: u8 = 3;
/// Something given could not be read or is not well-formed.
const UNREADABLE: u8 = 4;

/// The command's inputs.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle file (`-`: standard input).
    pub file: PathBuf,
    /// The log's verifier key, `<origin>+<keyid>+<base64>` (`vigil checkpoint public-key`,
    /// `GET /checkpoint/key`).
    #[arg(long)]
    pub key: String,
    /// A checkpoint note kept earlier (`GET /checkpoint`): the bundle must reach its size and
    /// give its root.
    #[arg(long)]
    pub pinned: Option<PathBuf>,
    /// A witness's verifier key whose cosignature lines, where present, must verify
    /// (repeatable).
    #[arg(long)]
    pub witness: Vec<String>,
}

fn unreadable(what: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {what}");
    ExitCode::from(UNREADABLE)
}

/// Runs the check and prints its outcome.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let key = match VerifierKey::parse(args.key.trim()) {
        Ok(k) => k,
        Err(e) => return unreadable(format_args!("--key is not a verifier key: {e}")),
    };
    let mut witnesses = Vec::new();
    for w in &args.witness {
        match VerifierKey::parse(w.trim()) {
            Ok(k) => witnesses.push(k),
            Err(e) => return unreadable(format_args!("--witness {w:?} is not a verifier key: {e}")),
        }
    }
    let pinned = match &args.pinned {
        None => None,
        Some(path) => match std::fs::read(path) {
            Err(e) => {
                return unreadable(format_args!(
                    "cannot read the pinned checkpoint {}: {e}",
                    path.display()
                ));
            }
            Ok(bytes) => {
                let well_formed = Note::parse(&bytes).and_then(|n| Checkpoint::parse(n.text()).map(|_| ()));
                if let Err(e) = well_formed {
                    return unreadable(format_args!("{} is not a signed checkpoint: {e}", path.display()));
                }
                Some(bytes)
            }
        },
    };
    let reader: Box<dyn std::io::Read> = if args.file.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(&args.file) {
            Ok(f) => Box::new(f),
            Err(e) => return unreadable(format_args!("cannot read the bundle {}: {e}", args.file.display())),
        }
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, reader));
    let outcome = check_stream(&mut de, &key, pinned.as_deref(), &witnesses);
    let outcome = match outcome {
        Ok(Ok(report)) => de.end().map(|()| Ok(report)),
        other => other,
    };
    match outcome {
        Err(e) => unreadable(format_args!("the bundle is not well-formed: {e}")),
        Ok(Err(failure)) => {
            println!("NOT PROVED: {failure}");
            ExitCode::from(FAILED)
        }
        Ok(Ok(report)) => {
            print_report(&report, &key);
            ExitCode::SUCCESS
        }
    }
}

fn print_report(r: &Report, key: &VerifierKey) {
    println!("proved: {} from size {} to size {}", r.origin, r.from_size, r.to_size);
    println!(
        "events: {} (positions {}..={}), each linked to the one before and its hash recomputed",
        r.events,
        r.from_size + 1,
        r.to_size
    );
    println!("root at {}: {}", r.to_size, hex::encode(r.root));
    println!("checkpoints: {} signed by {key}", r.checkpoints);
    if r.consistency_checked {
        println!("consistency {}->{}: proved", r.from_size, r.to_size);
    } else if r.from_size == 0 {
        println!("consistency: from the genesis, every leaf recomputed");
    } else {
        println!("consistency: from_size = to_size, nothing to prove");
    }
    match r.pinned {
        Some(p) => println!("pinned {p}: the bundle gives the pinned root"),
        None => println!("pinned: none given"),
    }
    if r.witnesses.is_empty() {
        println!("witnesses: no cosignature lines");
    }
    for w in &r.witnesses {
        println!(
            "witness {}+{:08x}: cosigned {} checkpoint(s), {}",
            w.name,
            w.key_id,
            w.checkpoints,
            if w.verified {
                "verified"
            } else {
                "not checked (no --witness key given)"
            }
        );
    }
}
