#!/usr/bin/env python3
"""Self-test of verify_bundle.py's Merkle code against the transparency-dev/merkle vectors
(proofs/tests/testdata/merkle, Apache-2.0): every inclusion and consistency case must be
accepted or refused as its `wantErr` says. Run by ops/test.sh with the verifier's virtualenv:

    python ops/audit/test_verify_bundle.py
"""

import base64
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import verify_bundle as v  # noqa: E402

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "proofs/tests/testdata/merkle"


def b64(value):
    return base64.b64decode(value) if isinstance(value, str) else None


def proof(value):
    return [] if value is None else [b64(x) for x in value]


def main():
    judged = 0
    for path in sorted((VECTORS / "inclusion").rglob("*.json")):
        c = json.loads(path.read_text())
        leaf, p, root = b64(c["leafHash"]), proof(c["proof"]), b64(c["root"])
        ok = bool(leaf) and bool(root) and all(len(x) == 32 for x in p) and \
            v.root_from_inclusion(c["leafIdx"], c["treeSize"], leaf, p) == root
        assert ok == (not c["wantErr"]), path
        judged += 1
    for path in sorted((VECTORS / "consistency").rglob("*.json")):
        c = json.loads(path.read_text())
        p, r1, r2 = proof(c["proof"]), b64(c["root1"]), b64(c["root2"])
        ok = bool(r1) and bool(r2) and all(len(x) == 32 for x in p) and \
            v.consistent(c["size1"], c["size2"], r1, r2, p)
        assert ok == (not c["wantErr"]), path
        judged += 1
    assert judged > 150, judged
    # The compact range folds to the same roots as the vectors' reference tree (RFC 6962's).
    leaves = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
              bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
    tree = v.CompactRange(0, [])
    for leaf in leaves:
        tree.push(v.leaf_hash(leaf))
    assert base64.b64encode(tree.root()).decode() == "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", tree.root()
    print(f"verify_bundle self-test: {judged} vectors judged as expected")


if __name__ == "__main__":
    main()
