#!/usr/bin/env bash
# The README's en→de results table: every shipped en→de model on the three held-out test sets (full),
# in ONE `python -m translator evaluate` run (same process, same thread count, baseline = teacher beam 4).
# The int8 teacher row is there so that int8 students are also compared with an AR beam of the same precision.
# 20-50 minutes on one CPU core depending on the CPU (AVX2-only CPUs are the slow end); run it on an otherwise idle
# machine.
#   bash benchmarks/en_de_models.sh [extra evaluate args, e.g. --limit 100]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m translator evaluate \
  --system checkpoints/ar-teacher-en-de:beam=4 \
  --system checkpoints/ar-teacher-en-de:beam=4,precision=int8 \
  --system checkpoints/ar-teacher-en-de:beam=1 \
  --system checkpoints/fast-ar-en-de:beam=1 \
  --system checkpoints/fast-ar-en-de:beam=1,precision=int8 \
  --system checkpoints/cmlm-en-de:iterations=10 \
  --system checkpoints/cmlm-en-de:iterations=4 \
  --system checkpoints/cmlm-en-de:iterations=1 \
  --system checkpoints/ctc-glat-en-de \
  --system checkpoints/ctc-glat-en-de:blank_penalty=0 \
  --system checkpoints/ctc-glat-en-de:precision=int8 \
  --test-set en-de/libreoffice --test-set en-de/gettext --test-set en-de/ding --test-set en-de/bible \
  --threads 1 --latency-sentences 200 --out benchmarks/results/en-de-models.json "$@"
"$PY" benchmarks/report_table.py benchmarks/results/en-de-models.json
