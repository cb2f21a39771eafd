#!/usr/bin/env bash
# The README's en→pt results table: the Bergamot engine (the teacher, baseline) and whichever of its students
# are shipped, on the full held-out LibreOffice pt-BR test set, in ONE `python -m translator evaluate` run (same
# process, same thread count). The offline sources have no public-domain Portuguese Bible: no Bible test for en→pt.
#   bash benchmarks/en_pt_models.sh [extra evaluate args, e.g. --limit 500]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
# Bergamot is the baseline; each en→pt student joins the same run once its checkpoint folder exists.
systems=(--system bergamot-en-pt)
# Bergamot runs int8 matrix products, so each student is also measured with int8 weights (precision=int8,
# translator/quantize.py) next to its fp32 row: the race is then about architectures, not number formats.
[ -d checkpoints/ar-student-en-pt ] && systems+=(--system checkpoints/ar-student-en-pt:beam=4
  --system checkpoints/ar-student-en-pt:beam=1 --system checkpoints/ar-student-en-pt:beam=1,precision=int8)
[ -d checkpoints/cmlm-en-pt ] && systems+=(--system checkpoints/cmlm-en-pt:iterations=10 --system checkpoints/cmlm-en-pt:iterations=4)
[ -d checkpoints/ctc-glat-en-pt ] && systems+=(--system checkpoints/ctc-glat-en-pt
  --system checkpoints/ctc-glat-en-pt:precision=int8)
"$PY" -m translator evaluate "${systems[@]}" \
  --test-set en-pt/libreoffice \
  --threads 1 --latency-sentences 200 --out benchmarks/results/en-pt-models.json "$@"
"$PY" benchmarks/report_table.py benchmarks/results/en-pt-models.json
