#!/usr/bin/env bash
# How long rebuilding a ledger's index from the audit topic takes, on tansu (issue 17):
#   bash Benchmarks/audit-index.sh [--entries 1000000] [--runs 1]
HERE="$(cd "$(dirname "$0")" && pwd)"
exec bash "$HERE/on-tansu.sh" audit-index "$@"
