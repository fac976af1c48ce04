//! Signed checkpoints: the C2SP `tlog-checkpoint` body (origin, tree size, root hash) inside a
//! C2SP `signed-note` with Ed25519 signatures, the verifier key line `name+keyid+base64`, and
//! witness cosignatures.
