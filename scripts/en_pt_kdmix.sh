#!/usr/bin/env bash
# The en→pt CTC-GLAT student's training corpus: one teacher per source.
#   - LibreOffice's en→pt training sources (31,146): the shipped AR student's greedy outputs
#     (ar-student-en-pt:beam=1). That student was trained on LibreOffice's own pt-BR references, so its outputs
#     carry LibreOffice's terminology, and as a teacher's outputs they are more uniform than the references.
#   - every other English source (Ding, and LibreOffice sources outside the en→pt training split): Bergamot's
#     outputs, data/distill/en-pt.bergamot.{en,pt} (build it first: see configs/en-pt/ar-student.yaml).
# The config adds LibreOffice's references themselves (train_corpora).
# Writes data/distill/en-pt.kdmix.{en,pt}. Two distill processes (one per core, a few minutes each);
# distill resumes, so finished shards are not translated again and rerunning only rebuilds the files.
# DATA_DIR (default data) points elsewhere, e.g. at the test's small fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DATA=${DATA_DIR:-data}
D=$DATA/distill

pids=()
for k in 1 2; do
  "$PY" -m translator distill --teacher ar-student-en-pt:beam=1 --corpora libreoffice --pair en-pt \
    --data-dir "$DATA" --out-prefix "$D/en-pt.arstudent" --shard "$k/2" --threads 1 > "$D/en-pt.arstudent.shard-$k.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done  # a failed shard fails the script
for lang in en pt; do
  cat "$D/en-pt.arstudent.shard-1-of-2.$lang" "$D/en-pt.arstudent.shard-2-of-2.$lang" > "$D/en-pt.arstudent.$lang"
done

# Bergamot's pairs whose source is NOT a LibreOffice en→pt training source (sources hold no tabs)...
paste "$D/en-pt.bergamot.en" "$D/en-pt.bergamot.pt" \
  | awk -F'\t' 'NR == FNR { libreoffice[$0] = 1; next } !($1 in libreoffice)' "$D/en-pt.arstudent.en" - \
  > "$D/en-pt.kdmix.bergamot.tsv"
# ... then the AR student's pairs.
cut -f1 "$D/en-pt.kdmix.bergamot.tsv" | cat - "$D/en-pt.arstudent.en" > "$D/en-pt.kdmix.en"
cut -f2 "$D/en-pt.kdmix.bergamot.tsv" | cat - "$D/en-pt.arstudent.pt" > "$D/en-pt.kdmix.pt"
rm "$D/en-pt.kdmix.bergamot.tsv"
wc -l "$D/en-pt.kdmix.en" "$D/en-pt.kdmix.pt"
