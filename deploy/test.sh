#!/usr/bin/env bash
# README command 2: set up the machine, then lint, type-check and run every test.
# Extra arguments go to pytest. The exit code is pytest's (no tests collected is a failure),
# or 1 when only the linters failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash deploy/bootstrap.sh || exit $?

lint=0
printf '\033[1m==> ruff\033[0m\n'
.venv/bin/ruff check services schemas deploy tests ims_testkit || lint=1
.venv/bin/ruff format --check services schemas deploy tests ims_testkit || lint=1
printf '\033[1m==> mypy --strict\033[0m\n'
.venv/bin/mypy --strict services schemas deploy tests ims_testkit || lint=1

printf '\033[1m==> pytest\033[0m\n'
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  rc=1
fi
if [ "$rc" -eq 0 ] && [ "$lint" -ne 0 ]; then
  echo "test.sh: tests passed but ruff or mypy failed" >&2
  rc=1
fi
exit "$rc"
