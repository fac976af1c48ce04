//! The Merkle tree over the event log (RFC 9162 §2.1): leaf and node hashing, the root of any
//! size, and inclusion and consistency proofs, generated from a source of subtree hashes and
//! verified from nothing but the proof.
