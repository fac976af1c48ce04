//! Audit bundles (`docs/audit-bundle.md`, ADR 0011): `vigil audit export` writes one from a log
//! opened read-only ([`export`]); `vigil audit verify` checks one offline with nothing but the
//! log's public key ([`verify`]). Must not open a vault, read a master key, or write into a
//! store; the checks themselves live in `vigil_proofs::bundle`.

pub mod export;
pub mod verify;
