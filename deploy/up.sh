#!/usr/bin/env bash
# README command 1: set up the machine, start the whole stack, run the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash deploy/bootstrap.sh
.venv/bin/ims-stack up
.venv/bin/ims-stack demo

cat <<'NEXT'

IMS is running. Try next:
  .venv/bin/ims-stack status            what runs where (pids, ports)
  .venv/bin/ims-stack logs catalog -f   follow one service's log (kafka, postgres, capture, ...)
  open http://127.0.0.1:8081/docs       the catalog API (capture 8082, sharing 8083, notifier 8084)
  .venv/bin/ims-stack down              stop everything, keep the data
  .venv/bin/ims-stack reset --yes       stop and delete all local state
NEXT
