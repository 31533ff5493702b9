#!/usr/bin/env bash
# Starts the built server for the Playwright suite: fresh SQLite database with
# the demo accounts, on E2E_PORT. Run from the repository root.
set -euo pipefail
data="target/e2e-data"
rm -rf "$data"
mkdir -p "$data"
export JOBCHAT_DATA_DIR="$data"
export DATABASE_URL="sqlite://$data/jobchat.db"
export JOBCHAT_BIND="127.0.0.1:${E2E_PORT:-3100}"
export LEPTOS_SITE_ROOT="target/site"
export RUST_LOG="${RUST_LOG:-info}"
exec target/debug/server
