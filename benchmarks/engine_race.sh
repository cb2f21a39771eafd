#!/usr/bin/env bash
# The engine race of issue 30, one `python -m translator evaluate` run per pair (same process, same thread count):
# the AR side in torch and in CTranslate2 int8 (the optimized AR self-hosters deploy), the NAR side in torch fp32,
# torch int8, and ONNX Runtime int8 with and without the lexical shortlist (translator/models/ctc_onnx.py), CMLM at
# 4 and 10 iterations, Bergamot for en→pt. Goals and results: docs/engine-race.md.
#   bash benchmarks/engine_race.sh en-de|en-pt [extra evaluate args, e.g. --limit 200]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
pair=$1
shift
case "$pair" in
en-de)
  systems=(
    --system ar-teacher-en-de:beam=4 --system ar-teacher-en-de:beam=1
    --system ar-teacher-en-de-ct2:beam=4 --system ar-teacher-en-de-ct2:beam=1
    --system fast-ar-en-de:beam=1 --system fast-ar-en-de:beam=1,precision=int8 --system fast-ar-en-de-ct2:beam=1
  )
  ;;
en-pt)
  systems=(
    --system bergamot-en-pt
    --system ar-student-en-pt:beam=4 --system ar-student-en-pt:beam=1 --system ar-student-en-pt:beam=1,precision=int8
    --system ar-student-en-pt-ct2:beam=4 --system ar-student-en-pt-ct2:beam=1
  )
  ;;
*)
  echo "usage: $0 en-de|en-pt [evaluate args]" >&2
  exit 2
  ;;
esac
systems+=(
  --system "ctc-glat-$pair" --system "ctc-glat-$pair:precision=int8"
  --system "ctc-glat-$pair:precision=onnx-int8" --system "ctc-glat-$pair:precision=onnx-int8-shortlist"
  --system "cmlm-$pair:iterations=4" --system "cmlm-$pair:iterations=10"
)
"$PY" -m translator export-ct2
"$PY" -m translator evaluate "${systems[@]}" --test-set "$pair/libreoffice" \
  --threads 1 --latency-sentences 200 --out "benchmarks/results/engine-race-$pair.json" "$@"
"$PY" benchmarks/report_table.py "benchmarks/results/engine-race-$pair.json"
