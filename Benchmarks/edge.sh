#!/usr/bin/env bash
# The edge benchmark on tansu: HTTP ingest into the spool, drain to tansu beside a produce loop.
#   bash Benchmarks/edge.sh [plantrouter-bench edge options, e.g. --events 100000 --runs 3]
HERE="$(cd "$(dirname "$0")" && pwd)"
exec bash "$HERE/on-tansu.sh" edge --topics "$(dirname "$HERE")/Topics" "$@"
