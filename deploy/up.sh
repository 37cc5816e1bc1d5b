#!/usr/bin/env bash
# README command 1: set up the machine, start the whole stack, run the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash deploy/bootstrap.sh
.venv/bin/ims-stack up
.venv/bin/ims-stack demo   # ends with what to try next, with this stack's ports and paths

