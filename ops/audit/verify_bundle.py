#!/usr/bin/env python3
"""An independent verifier of a vigil audit bundle, for auditors who do not trust the binary
that wrote the log.

It implements docs/audit-bundle.md from the public specifications alone (RFC 9162 Merkle
trees with SHA-256, C2SP signed notes and checkpoints with Ed25519, vigil's `VGL1` blake3
chain encoding) and shares no code with vigil; the generic parts (RFC 9162, C2SP notes) are in
`tlog.py` beside it. It needs Python 3.9+ and two packages from
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
import json
import sys
import uuid

try:
    import blake3
    from tlog import (U64, CompactRange, Failed, Malformed, VerifierKey, checkpoint, consistent, leaf_hash, named,
                      root_from_inclusion)
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
    print(f"proved: events {a + 1}..{b} ({count} events) chained and in the tree")
    print(f"root at {b}: {root.hex()} (base64 {base64.b64encode(root).decode()}, as the checkpoint writes it)")
    print(f"signed: {len(signed)} checkpoint(s) by {key.name}+{key.key_id.hex()}, sizes {min(signed)}..{max(signed)}")
    if 0 < a < b:
        print(f"consistent: tree {a} is a prefix of tree {b}")
    if pin is not None:
        print(f"pinned: the checkpoint of size {pin[0]} you kept is part of this history")
    return 0


if __name__ == "__main__":
    sys.exit(main())
