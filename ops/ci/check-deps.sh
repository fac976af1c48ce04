#!/usr/bin/env bash
# Dependency direction: domain ← eventstore ← projections ← api. The domain has no async or I/O
# crate in its normal dependency graph; the store and projections have no web or GraphQL crate.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0
bad=$(cargo tree -p vigil-domain -e normal --prefix none --locked | grep -E '^(tokio|sqlx[a-z-]*|axum|hyper|async-graphql[a-z-]*|reqwest|mio|futures[a-z-]*|async-std) v' || true)
if [ -n "$bad" ]; then echo "vigil-domain depends on async/IO crates:"; echo "$bad"; fail=1; fi
for crate in vigil-eventstore vigil-projections; do
  cargo metadata --format-version 1 --no-deps --locked | grep -q "\"name\":\"$crate\"" || continue
  bad=$(cargo tree -p "$crate" -e normal --prefix none --locked | grep -E '^(axum|tower-http|async-graphql[a-z-]*|hyper) v' || true)
  if [ -n "$bad" ]; then echo "$crate depends on web/GraphQL crates:"; echo "$bad"; fail=1; fi
done
# The proofs crate is pure (an auditor's verifier runs it offline): no async, I/O, database or
# randomness crate, and no other vigil crate.
bad=$(cargo tree -p vigil-proofs -e normal --prefix none --locked | grep -E '^(tokio|sqlx[a-z-]*|rusqlite|libsqlite3-sys|axum|hyper|async-graphql[a-z-]*|reqwest|mio|futures[a-z-]*|async-std|rand[a-z_-]*|getrandom|vigil-(domain|eventstore|projections|api|tests)) v' || true)
if [ -n "$bad" ]; then echo "vigil-proofs depends on async/IO/RNG or vigil crates:"; echo "$bad"; fail=1; fi
# Upward edges: a lower layer never depends on a higher one.
if cargo tree -p vigil-domain -e normal --prefix none --locked | grep -qE '^vigil-(eventstore|projections|api) v'; then
  echo "vigil-domain depends on a higher layer"; fail=1
fi
if cargo tree -p vigil-eventstore -e normal --prefix none --locked | grep -qE '^vigil-(projections|api) v'; then
  echo "vigil-eventstore depends on a higher layer"; fail=1
fi
if cargo tree -p vigil-projections -e normal --prefix none --locked | grep -qE '^vigil-api v'; then
  echo "vigil-projections depends on a higher layer"; fail=1
fi
[ "$fail" = 0 ] && echo "dependency direction: ok"
exit "$fail"
