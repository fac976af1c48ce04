#!/usr/bin/env bash
# The repository stands alone: no file in it may cite research notes kept outside it
# (`domain.md`, `shared/reference/…`, `../shared`). The facts the code relies on live in docs/
# with their primary sources, and comments cite docs/<file>.md. Searches every tracked file and
# every untracked file that is not ignored; this script is the one file allowed to name the
# patterns.
set -euo pipefail
cd "$(dirname "$0")/../.."
self=ops/ci/check-citations.sh
pattern='domain[._]md|shared/reference|\.\./shared'
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-citations: not a git work tree, cannot list the repository's files" >&2
  exit 2
fi
status=0
hits=$(git grep --untracked -n -I -i -E "$pattern" -- . ":(exclude)$self") || status=$?
case "$status" in
  0)
    echo "files cite a document outside the repository (state the fact in docs/ with its primary source, and cite that):"
    echo "$hits"
    exit 1
    ;;
  1) echo "citations: ok" ;;
  *) echo "check-citations: git grep failed ($status)" >&2; exit 2 ;;
esac
