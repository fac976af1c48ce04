//! Unit tests of the checker: a good bundle built in memory, then each failure the doc names.

use super::*;
use crate::chain::genesis;
use crate::merkle::{CompactRange, MemoryTree, SubtreeSource, consistency_proof, inclusion_proof, leaf_hash};
use crate::note::{Algorithm, Checkpoint, Note, SignerKey, VerifierKey, cosign, sign_checkpoint};

const ORIGIN: &str = "test.example/vigil/1";

fn key() -> SignerKey {
    SignerKey::from_seed(ORIGIN, Algorithm::Ed25519, &[7; 32]).unwrap()
}

fn event(position: u64, prev: [u8; 32]) -> BundleEvent {
    let mut e = BundleEvent {
        position,
        event_id: Uuid16((position as u128).to_be_bytes()),
        stream_id: format!("s-{}", position % 3),
        stream_version: position,
        subject: Uuid16([9; 16]),
        event_type: "T".into(),
        schema_version: 1,
        recorded_at_micros: 1_700_000_000_000_000 + position as i64,
        actor: "system:test".into(),
        correlation_id: None,
        causation_id: Some(Uuid16([1; 16])),
        command_id: None,
        key_id: Uuid16([3; 16]),
        nonce: Nonce([position as u8; 12]),
        ciphertext: Ciphertext(vec![position as u8; 40]),
        prev_hash: HexHash(prev),
        hash: HexHash([0; 32]),
    };
    e.hash = HexHash(e.link_hash(&prev));
    e
}

/// A log of `n` events, its tree, and checkpoints signed at `sizes`.
struct Log {
    events: Vec<BundleEvent>,
    tree: MemoryTree,
    key: SignerKey,
}

impl Log {
    fn new(n: u64) -> Log {
        let mut events = Vec::new();
        let mut tree = MemoryTree::new();
        let mut prev = genesis();
        for p in 1..=n {
            let e = event(p, prev);
            prev = e.hash.0;
            tree.push_hash(leaf_hash(&e.hash.0));
            events.push(e);
        }
        Log {
            events,
            tree,
            key: key(),
        }
    }

    fn note(&self, size: u64) -> String {
        let root = crate::merkle::root(&self.tree, size).unwrap();
        sign_checkpoint(&Checkpoint::new(ORIGIN, size, root).unwrap(), &self.key).unwrap()
    }

    fn bundle(&self, from: u64, to: u64, sizes: &[u64]) -> (Header, Vec<BundleEvent>) {
        let mut edge = Vec::new();
        for part in CompactRange::parts(from) {
            edge.push(HexHash(self.tree.subtree(part).unwrap()));
        }
        let last_hash = if from == 0 {
            genesis()
        } else {
            self.events[from as usize - 1].hash.0
        };
        let last_proof = if from == 0 {
            vec![]
        } else {
            inclusion_proof(&self.tree, from - 1, from).unwrap()
        };
        let proof = if from == 0 || from == to {
            vec![]
        } else {
            consistency_proof(&self.tree, from, to).unwrap()
        };
        (
            Header {
                format: FORMAT.into(),
                origin: ORIGIN.into(),
                from_size: from,
                to_size: to,
                checkpoints: sizes.iter().map(|&s| self.note(s)).collect(),
                prefix: Prefix {
                    edge,
                    last_hash: HexHash(last_hash),
                    last_proof: last_proof.into_iter().map(HexHash).collect(),
                },
                consistency_proof: proof.into_iter().map(HexHash).collect(),
            },
            self.events[from as usize..to as usize].to_vec(),
        )
    }
}

fn run(header: &Header, events: &[BundleEvent], pinned: Option<&str>) -> Result<Report, CheckError> {
    let vkey = key().verifier();
    let mut c = Checker::new(header, &vkey, pinned.map(str::as_bytes), &[])?;
    for e in events {
        c.push(e)?;
    }
    c.finish()
}

#[test]
fn a_good_bundle_proves_its_range_from_zero_and_from_a_checkpoint() {
    let log = Log::new(40);
    let (h, ev) = log.bundle(0, 40, &[13, 29, 40]);
    let r = run(&h, &ev, Some(&log.note(29))).unwrap();
    assert_eq!(
        (r.from_size, r.to_size, r.events, r.checkpoints, r.pinned),
        (0, 40, 40, 3, Some(29))
    );
    assert_eq!(r.root, crate::merkle::root(&log.tree, 40).unwrap());
    let (h, ev) = log.bundle(13, 40, &[13, 29, 40]);
    let r = run(&h, &ev, Some(&log.note(13))).unwrap();
    assert!(r.consistency_checked);
    assert_eq!(r.events, 27);
    let (h, ev) = log.bundle(40, 40, &[40]);
    assert_eq!(run(&h, &ev, None).unwrap().events, 0);
}

#[test]
fn the_same_bundle_streams_through_serde() {
    let log = Log::new(20);
    let (h, ev) = log.bundle(7, 20, &[7, 20]);
    let json = serde_json::json!({
        "format": h.format, "origin": h.origin, "from_size": h.from_size, "to_size": h.to_size,
        "checkpoints": h.checkpoints, "prefix": h.prefix, "consistency_proof": h.consistency_proof,
        "events": ev,
    });
    let text = serde_json::to_string(&json).unwrap();
    // serde_json's map keeps keys sorted unless preserve_order: write the order by hand.
    let ordered = format!(
        "{{\"format\":{},\"origin\":{},\"from_size\":7,\"to_size\":20,\"checkpoints\":{},\"prefix\":{},\"consistency_proof\":{},\"events\":{}}}",
        json["format"], json["origin"], json["checkpoints"], json["prefix"], json["consistency_proof"], json["events"]
    );
    let vkey = key().verifier();
    let mut de = serde_json::Deserializer::from_str(&ordered);
    let out = check_stream(&mut de, &vkey, None, &[]).unwrap();
    assert_eq!(out.unwrap().events, 13);
    // Another member order is malformed, not a failed check.
    let mut de = serde_json::Deserializer::from_str(&text);
    assert!(check_stream(&mut de, &vkey, None, &[]).is_err());
    // A truncated file too.
    let mut de = serde_json::Deserializer::from_str(&ordered[..ordered.len() - 300]);
    assert!(check_stream(&mut de, &vkey, None, &[]).is_err());
    // A failed check is an answer.
    let tampered = ordered.replacen("\"position\":9", "\"position\":10", 1);
    let mut de = serde_json::Deserializer::from_str(&tampered);
    let err = check_stream(&mut de, &vkey, None, &[]).unwrap().unwrap_err();
    assert!(err.to_string().starts_with("position 9: missing"), "{err}");
}

#[test]
fn each_failure_is_named() {
    let log = Log::new(40);
    let msg = |r: Result<Report, CheckError>| r.unwrap_err().to_string();

    let (mut h, ev) = log.bundle(0, 40, &[13, 40]);
    h.format = "other/1".into();
    assert!(msg(run(&h, &ev, None)).starts_with("header: unknown format"));

    let (h, mut ev) = log.bundle(0, 40, &[13, 40]);
    ev[20].ciphertext.0[0] ^= 1;
    assert_eq!(
        msg(run(&h, &ev, None)),
        "position 21: hash mismatch: the event's content was altered"
    );

    let (h, mut ev) = log.bundle(0, 40, &[13, 40]);
    ev.swap(4, 5);
    assert!(msg(run(&h, &ev, None)).starts_with("position 5: missing (found position 6"));

    let (h, mut ev) = log.bundle(0, 40, &[13, 40]);
    let (a, b) = (ev[4].clone(), ev[5].clone());
    ev[4] = BundleEvent { position: 5, ..b };
    ev[5] = BundleEvent { position: 6, ..a };
    assert!(msg(run(&h, &ev, None)).starts_with("position 5: broken link"));

    let (h, mut ev) = log.bundle(0, 40, &[13, 40]);
    ev.pop();
    assert!(msg(run(&h, &ev, None)).starts_with("position 40: missing"));

    let (mut h, ev) = log.bundle(0, 40, &[13, 40]);
    h.checkpoints[0] = h.checkpoints[0].replacen("\n13\n", "\n14\n", 1);
    assert!(msg(run(&h, &ev, None)).starts_with("checkpoint 14: the signature"));

    let (mut h, ev) = log.bundle(0, 40, &[13, 40]);
    h.checkpoints.swap(0, 1);
    assert!(msg(run(&h, &ev, None)).starts_with("checkpoint 13: size does not ascend"));

    let (mut h, ev) = log.bundle(0, 40, &[13, 40]);
    h.checkpoints.pop();
    assert!(msg(run(&h, &ev, None)).starts_with("checkpoint 40: the last checkpoint"));

    // A checkpoint signed over another root (a log that signed two histories).
    let (mut h, ev) = log.bundle(0, 40, &[13, 40]);
    h.checkpoints[0] = sign_checkpoint(&Checkpoint::new(ORIGIN, 13, [5; 32]).unwrap(), &log.key).unwrap();
    assert!(msg(run(&h, &ev, None)).starts_with("checkpoint 13: root mismatch"));

    let (mut h, ev) = log.bundle(13, 40, &[13, 40]);
    h.prefix.edge[0].0[0] ^= 1;
    assert!(msg(run(&h, &ev, None)).starts_with("prefix: the edge does not fold"));

    let (mut h, ev) = log.bundle(13, 40, &[13, 40]);
    h.prefix.last_hash.0[0] ^= 1;
    assert!(msg(run(&h, &ev, None)).starts_with("prefix: last_proof"));

    let (mut h, ev) = log.bundle(13, 40, &[13, 40]);
    h.consistency_proof[0].0[0] ^= 1;
    assert!(msg(run(&h, &ev, None)).starts_with("consistency 13->40: "));

    // Pins: beyond B (a dropped tail), another root (a rewrite or fork), another key.
    let (h, ev) = log.bundle(0, 29, &[13, 29]);
    assert!(msg(run(&h, &ev, Some(&log.note(40)))).starts_with("pinned 40: beyond the bundle's to_size 29"));
    let mut forked = Log::new(40);
    forked.events.truncate(0);
    let mut tree = MemoryTree::new();
    let mut prev = genesis();
    for p in 1..=40 {
        let mut e = event(p, prev);
        if p >= 20 {
            e.actor = "system:fork".into();
            e.hash = HexHash(e.link_hash(&prev));
        }
        prev = e.hash.0;
        tree.push_hash(leaf_hash(&e.hash.0));
        forked.events.push(e);
    }
    forked.tree = tree;
    let (h, ev) = forked.bundle(0, 40, &[40]);
    assert!(run(&h, &ev, None).is_ok());
    assert!(run(&h, &ev, Some(&log.note(19))).is_ok(), "the common prefix matches");
    assert!(msg(run(&h, &ev, Some(&log.note(30)))).starts_with("pinned 30: root mismatch"));
    let stranger = SignerKey::from_seed(ORIGIN, Algorithm::Ed25519, &[8; 32]).unwrap();
    let pin = sign_checkpoint(&Checkpoint::new(ORIGIN, 30, [1; 32]).unwrap(), &stranger).unwrap();
    assert!(msg(run(&h, &ev, Some(&pin))).starts_with("pinned 30: the note has no signature"));

    // The origin must be the key's name.
    let (mut h, ev) = log.bundle(0, 40, &[40]);
    h.origin = "else/vigil/1".into();
    assert!(msg(run(&h, &ev, None)).starts_with("header: origin"));
}

#[test]
fn witness_lines_are_reported_and_checked_when_trusted() {
    let log = Log::new(16);
    let (mut h, ev) = log.bundle(0, 16, &[16]);
    let witness = SignerKey::from_seed("w.example", Algorithm::CosignatureV1, &[2; 32]).unwrap();
    let mut note = Note::parse(h.checkpoints[0].as_bytes()).unwrap();
    note.add_signature(cosign(&note, &witness, 1_700_000_000).unwrap());
    h.checkpoints[0] = note.to_string();
    let vkey: VerifierKey = key().verifier();
    let trusted = [witness.verifier()];
    let mut c = Checker::new(&h, &vkey, None, &trusted).unwrap();
    for e in &ev {
        c.push(e).unwrap();
    }
    let r = c.finish().unwrap();
    assert_eq!(r.witnesses.len(), 1);
    assert!(r.witnesses[0].verified);
    // A forged line by a trusted witness fails.
    let forged = h.checkpoints[0].replace(&note.signatures()[1].to_line(), &{
        let mut s = note.signatures()[1].clone();
        s.bytes[20] ^= 1;
        s.to_line()
    });
    h.checkpoints[0] = forged;
    let err = Checker::new(&h, &vkey, None, &trusted).unwrap_err().to_string();
    assert!(err.starts_with("checkpoint 16: witness cosignature"), "{err}");
}
