#!/usr/bin/env python3
"""An independent verifier of a vigil audit bundle, for auditors who do not trust the binary
that wrote the log.

It implements docs/audit-bundle.md from the public specifications alone (RFC 9162 Merkle
trees with SHA-256, C2SP signed notes and checkpoints with Ed25519, vigil's `VGL1` blake3
chain encoding) and shares no code with vigil. It needs Python 3.9+ and two packages from
PyPI: `blake3` and `cryptography` (`pip install blake3 cryptography`).

    verify_bundle.py BUNDLE --key 'origin+keyid+base64' [--pinned CHECKPOINT_FILE]

Exit codes: 0 every check passed; 3 a check failed (the first failure is named);
4 the bundle, key or pinned file is unreadable or not well-formed; 2 wrong arguments.

The bundle is read as a stream: the events are checked one by one as they are parsed, so a
bundle of millions of events needs little memory.
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys
import uuid

try:
    import blake3
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as missing:  # pragma: no cover - environment problem, not a verdict
    print(f"verify_bundle: missing package ({missing}); pip install blake3 cryptography", file=sys.stderr)
    sys.exit(4)

FORMAT = "vigil-audit-bundle/1"
MEMBERS = ["format", "origin", "from_size", "to_size", "checkpoints", "prefix", "consistency_proof", "events"]
EVENT_MEMBERS = [
    "position", "event_id", "stream_id", "stream_version", "subject", "event_type", "schema_version",
    "recorded_at_micros", "actor", "correlation_id", "causation_id", "command_id", "key_id", "nonce",
    "ciphertext", "prev_hash", "hash",
]
GENESIS = blake3.blake3(b"vigil event chain genesis v1").digest()
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


# --- vigil's chain (VGL1) -------------------------------------------------------------------

def link_hash(prev, e):
    def text(s):
        b = s.encode()
        return min(len(b), 0xFFFF).to_bytes(2, "big") + b

    h = blake3.blake3()
    h.update(prev)
    h.update(b"VGL1")
    h.update(e["position"].to_bytes(8, "big"))
    h.update(e["event_id"])
    h.update(text(e["stream_id"]))
    h.update(e["stream_version"].to_bytes(8, "big"))
    h.update(e["subject"])
    h.update(text(e["event_type"]))
    h.update(e["schema_version"].to_bytes(4, "big"))
    h.update(e["recorded_at_micros"].to_bytes(8, "big", signed=True))
    h.update(text(e["actor"]))
    for opt in (e["correlation_id"], e["causation_id"], e["command_id"]):
        h.update(b"\x00" if opt is None else b"\x01" + opt)
    h.update(e["key_id"])
    h.update(e["nonce"])
    h.update(len(e["ciphertext"]).to_bytes(4, "big"))
    h.update(e["ciphertext"])
    return h.digest()


def hex32(value, what):
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        raise Malformed(f"{what}: not 32 bytes of lowercase hex")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise Malformed(f"{what}: not hex") from None


def hashes(values, what):
    if not isinstance(values, list):
        raise Malformed(f"{what}: not an array")
    return [hex32(v, what) for v in values]


def integer(value, what, lo=0, hi=U64):
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise Malformed(f"{what}: not an integer in range")
    return value


def event_of(raw, position):
    what = f"position {position}"
    if not isinstance(raw, dict) or list(raw) != EVENT_MEMBERS:
        raise Malformed(f"{what}: members are not {', '.join(EVENT_MEMBERS)}")

    def uid(value, field, optional=False):
        if value is None and optional:
            return None
        try:
            if not isinstance(value, str) or str(uuid.UUID(value)) != value:
                raise ValueError
        except ValueError:
            raise Malformed(f"{what}: {field} is not a lowercase hyphenated UUID") from None
        return uuid.UUID(value).bytes

    def text(value, field):
        if not isinstance(value, str):
            raise Malformed(f"{what}: {field} is not a string")
        return value

    e = {
        "position": integer(raw["position"], what),
        "event_id": uid(raw["event_id"], "event_id"),
        "stream_id": text(raw["stream_id"], "stream_id"),
        "stream_version": integer(raw["stream_version"], what),
        "subject": uid(raw["subject"], "subject"),
        "event_type": text(raw["event_type"], "event_type"),
        "schema_version": integer(raw["schema_version"], what, hi=0xFFFFFFFF),
        "recorded_at_micros": integer(raw["recorded_at_micros"], what, lo=-(1 << 63), hi=(1 << 63) - 1),
        "actor": text(raw["actor"], "actor"),
        "correlation_id": uid(raw["correlation_id"], "correlation_id", True),
        "causation_id": uid(raw["causation_id"], "causation_id", True),
        "command_id": uid(raw["command_id"], "command_id", True),
        "key_id": uid(raw["key_id"], "key_id"),
        "prev_hash": hex32(raw["prev_hash"], f"{what}: prev_hash"),
        "hash": hex32(raw["hash"], f"{what}: hash"),
    }
    try:
        e["nonce"] = bytes.fromhex(text(raw["nonce"], "nonce"))
        e["ciphertext"] = base64.b64decode(text(raw["ciphertext"], "ciphertext"), validate=True)
    except (ValueError, binascii.Error):
        raise Malformed(f"{what}: nonce or ciphertext is not well-formed") from None
    if len(e["nonce"]) != 12:
        raise Malformed(f"{what}: nonce is not 12 bytes")
    return e


# --- Streaming JSON -------------------------------------------------------------------------

class Stream:
    """A JSON text read in chunks: values are decoded one at a time with `raw_decode`."""

    CHUNK = 1 << 20

    def __init__(self, f):
        self.f, self.buf, self.pos, self.eof = f, "", 0, False
        self.decoder = json.JSONDecoder()

    def _more(self):
        if self.eof:
            return False
        chunk = self.f.read(self.CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self):
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                raise Malformed("bundle: ends early (truncated?)")

    def expect(self, char):
        if self.peek() != char:
            raise Malformed(f"bundle: expected '{char}' at character {self.pos}")
        self.pos += 1

    def value(self):
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                # Possibly cut by the chunk boundary: read more and try again.
                if self._more():
                    continue
                raise Malformed(f"bundle: not JSON ({e.msg})") from None
            # A number at the very end of the buffer may continue in the next chunk.
            if end == len(self.buf) and not self.eof and self._more():
                continue
            self.pos = end
            return value

    def rest_is_empty(self):
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return False
            if not self._more():
                return True


# --- The checks of docs/audit-bundle.md, in order -------------------------------------------

def verify(f, key, pinned_note):
    s = Stream(f)
    s.expect("{")
    header = {}
    for i, name in enumerate(MEMBERS):
        if i:
            s.expect(",")
        member = s.value()
        if member != name:
            raise Malformed(f"bundle: member {i + 1} is {member!r}, expected {name!r}")
        s.expect(":")
        if name == "events":
            break
        header[name] = s.value()

    # 1. Header.
    if header["format"] != FORMAT:
        raise Failed(f"header: format is not {FORMAT}")
    if header["origin"] != key.name:
        raise Failed(f"header: origin {header['origin']!r} is not the key's {key.name!r}")
    a = integer(header["from_size"], "from_size")
    b = integer(header["to_size"], "to_size")
    if a > b or b == 0:
        raise Failed(f"header: range {a}..{b} is empty or backwards")

    # 2. Signatures.
    notes = header["checkpoints"]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes) or not notes:
        raise Malformed("checkpoints: not a non-empty array of strings")
    signed = {}
    last = -1
    for i, note in enumerate(notes):
        size, root = checkpoint(key, note, named(note, "checkpoint", i))
        if size <= last or not a <= size <= b:
            raise Failed(f"checkpoint {size}: out of order or outside {a}..{b}")
        signed[size] = root
        last = size
    if last != b:
        raise Failed(f"checkpoint {b}: the bundle's last size is not signed")
    if a > 0 and a not in signed:
        raise Failed(f"checkpoint {a}: the bundle's first size is not signed")
    pin = checkpoint(key, pinned_note, named(pinned_note, "pinned")) if pinned_note is not None else None

    # 3. Prefix.
    prefix = header["prefix"]
    if not isinstance(prefix, dict) or sorted(prefix) != ["edge", "last_hash", "last_proof"]:
        raise Malformed("prefix: members are not edge, last_hash, last_proof")
    edge = hashes(prefix["edge"], "prefix: edge")
    last_hash = hex32(prefix["last_hash"], "prefix: last_hash")
    last_proof = hashes(prefix["last_proof"], "prefix: last_proof")
    tree = CompactRange(a, edge)
    if a == 0:
        if edge or last_proof or last_hash != GENESIS:
            raise Failed("prefix: a bundle from the genesis has no edge or proof and starts at the genesis hash")
    else:
        if tree.root() != signed[a]:
            raise Failed(f"prefix: the edge's root is not checkpoint {a}'s")
        if root_from_inclusion(a - 1, a, leaf_hash(last_hash), last_proof) != signed[a]:
            raise Failed(f"prefix: last_hash is not leaf {a - 1} of tree {a}")

    # 4. Consistency.
    proof = hashes(header["consistency_proof"], "consistency_proof")
    if 0 < a < b:
        if not consistent(a, b, signed[a], signed[b], proof):
            raise Failed(f"consistency {a}->{b}: the proof does not verify")
    elif proof:
        raise Failed(f"consistency {a}->{b}: a proof where none belongs")

    # 6 (first half). A pin outside the range cannot be checked: refuse it.
    if pin is not None:
        p, pin_root = pin
        if p > b:
            raise Failed(f"pinned {p}: the bundle ends at {b}, before the history the log signed at {p} (dropped tail?)")
        if p < a:
            raise Failed(f"pinned {p}: the bundle starts after {a}; export it from a size at or below {p}")
    # The pinned root is compared once the events have passed (step 5 comes before step 6).
    pin_differs = pin is not None and pin[0] == a and tree.root() != pin[1]

    # 5. Events.
    s.expect("[")
    prev, count = last_hash, 0
    first = s.peek() != "]"
    while first or s.peek() == ",":
        if not first:
            s.expect(",")
        first = False
        expected = a + count + 1
        e = event_of(s.value(), expected)
        if e["position"] != expected:
            raise Failed(f"position {expected}: found position {e['position']} (missing, repeated or reordered)")
        if expected > b:
            raise Failed(f"position {expected}: beyond the bundle's {b}")
        if e["prev_hash"] != prev:
            raise Failed(f"position {expected}: broken link (prev_hash is not the previous event's hash)")
        if link_hash(prev, e) != e["hash"]:
            raise Failed(f"position {expected}: hash mismatch (the event differs from what was chained)")
        tree.push(leaf_hash(e["hash"]))
        prev, count = e["hash"], count + 1
        if expected in signed and tree.root() != signed[expected]:
            raise Failed(f"checkpoint {expected}: root differs from the events")
        if pin is not None and expected == pin[0] and tree.root() != pin[1]:
            pin_differs = True
    s.expect("]")
    s.expect("}")
    if not s.rest_is_empty():
        raise Malformed("bundle: text after the object")
    if a + count != b:
        raise Failed(f"position {a + count + 1}: missing (the bundle ends early)")
    if pin_differs:
        raise Failed(f"pinned {pin[0]}: root differs (the log was rewritten or forked since the pin)")
    return a, b, count, signed, tree.root(), pin


def main():
    ap = argparse.ArgumentParser(description="Verify a vigil audit bundle (docs/audit-bundle.md).")
    ap.add_argument("bundle")
    ap.add_argument("--key", required=True, help="the log's verifier key, name+keyid+base64")
    ap.add_argument("--pinned", help="a checkpoint (signed note) kept from earlier")
    args = ap.parse_args()
    try:
        key = VerifierKey(args.key)
        pinned = None
        if args.pinned:
            with open(args.pinned, encoding="utf-8", newline="") as f:
                pinned = f.read()
        with open(args.bundle, encoding="utf-8", newline="") as f:
            a, b, count, signed, root, pin = verify(f, key, pinned)
    except Failed as e:
        print(f"NOT PROVED: {e}")
        return 3
    except (Malformed, OSError, UnicodeDecodeError) as e:
        print(f"unreadable: {e}", file=sys.stderr)
        return 4
    print(f"proved: events {a + 1}..{b} ({count} events) chained and in the tree; root {base64.b64encode(root).decode()}")
    print(f"signed: {len(signed)} checkpoint(s) by {key.name}+{key.key_id.hex()}, sizes {min(signed)}..{max(signed)}")
    if 0 < a < b:
        print(f"consistent: tree {a} is a prefix of tree {b}")
    if pin is not None:
        print(f"pinned: the checkpoint of size {pin[0]} you kept is part of this history")
    return 0


if __name__ == "__main__":
    sys.exit(main())
