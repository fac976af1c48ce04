"""Transparency-log cryptography for ops/audit/verify_bundle.py, from the public specs alone:
RFC 9162 §2.1 Merkle trees with SHA-256 (leaf and node hashing, the compact range, inclusion
and consistency proof verification) and C2SP signed notes and checkpoints with Ed25519
(`docs/checkpoints.md`). Nothing here knows vigil's event format; it shares no code with vigil.
"""

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

U64 = (1 << 64) - 1

class Failed(Exception):
    """A check failed: the bundle does not prove the log (exit 3)."""


class Malformed(Exception):
    """The input is unreadable or not well-formed (exit 4)."""


# --- RFC 9162 Merkle tree, SHA-256 ---------------------------------------------------------

def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def leaf_hash(data):
    return sha256(b"\x00", data)


def node_hash(left, right):
    return sha256(b"\x01", left, right)


class CompactRange:
    """The right edge of a tree: one perfect subtree hash per set bit of its size."""

    def __init__(self, size, hashes):
        if bin(size).count("1") != len(hashes):
            raise Failed(f"prefix: {len(hashes)} edge hashes cannot cover {size} leaves")
        self.size = size
        self.hashes = list(hashes)

    def push(self, leaf):
        self.hashes.append(leaf)
        self.size += 1
        n = self.size
        while n & 1 == 0:
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            n >>= 1

    def root(self):
        if not self.hashes:
            return sha256()
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or None when it cannot."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def consistent(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2: whether `proof` shows tree `first` a prefix of tree `second`."""
    if first == 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first & (first - 1) == 0:
        proof = [first_root] + list(proof)
    if not proof:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# --- C2SP signed notes and checkpoints -----------------------------------------------------

class VerifierKey:
    """`name+hex8(key id)+base64(0x01 || Ed25519 public key)` (C2SP signed-note)."""

    def __init__(self, text):
        parts = text.strip().split("+", 2)  # base64 has "+" of its own
        if len(parts) != 3 or not parts[0]:
            raise Malformed("key: expected name+keyid+base64")
        self.name = parts[0]
        try:
            self.key_id = bytes.fromhex(parts[1])
            raw = base64.b64decode(parts[2], validate=True)
        except (ValueError, binascii.Error) as e:
            raise Malformed(f"key: {e}") from None
        if len(self.key_id) != 4 or len(raw) != 33 or raw[0] != 0x01:
            raise Malformed("key: not an Ed25519 (type 0x01) verifier key")
        if sha256(self.name.encode() + b"\n" + raw)[:4] != self.key_id:
            raise Malformed("key: the key id does not match the name and public key")
        self.public = Ed25519PublicKey.from_public_bytes(raw[1:])

    def open(self, note, what):
        """The checked text of a signed note (its body), or Failed/Malformed."""
        if not note.endswith("\n") or "\n\n" not in note:
            raise Malformed(f"{what}: not a signed note")
        cut = note.rfind("\n\n")
        body, signatures = note[: cut + 1], note[cut + 2 :]
        signed = False
        for line in signatures[:-1].split("\n"):
            if not line.startswith("\u2014 ") or " " not in line[2:]:
                raise Malformed(f"{what}: malformed signature line")
            name, sig = line[2:].rsplit(" ", 1)
            try:
                raw = base64.b64decode(sig, validate=True)
            except binascii.Error:
                raise Malformed(f"{what}: signature is not base64") from None
            if name != self.name or raw[:4] != self.key_id:
                continue  # another key's line, a witness's cosignature for instance
            try:
                self.public.verify(raw[4:], body.encode())
            except InvalidSignature:
                raise Failed(f"{what}: signature does not verify under {self.name}") from None
            signed = True
        if not signed:
            raise Failed(f"{what}: not signed by {self.name}")
        return body


def named(note, what, index=None):
    """How a failure at this note is named: `what N` with N its size when the text gives one,
    else `what #index` (docs/audit-bundle.md)."""
    lines = note.split("\n")
    size = lines[1] if len(lines) > 2 else ""
    if size.isdigit() and (size == "0" or not size.startswith("0")) and int(size) <= U64:
        return f"{what} {int(size)}"
    return f"{what} #{index}" if index is not None else what


def checkpoint(key, note, what):
    """(size, root) of a checkpoint note signed by `key` for its origin."""
    lines = key.open(note, what).split("\n")
    if len(lines) < 4 or lines[0] != key.name:
        raise Failed(f"{what}: origin is not {key.name}")
    size_text, root_text = lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")) or int(size_text) > U64:
        raise Malformed(f"{what}: bad tree size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise Malformed(f"{what}: bad root hash") from None
    if len(root) != 32:
        raise Malformed(f"{what}: root hash is not 32 bytes")
    return int(size_text), root
