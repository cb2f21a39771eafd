#!/usr/bin/env bash
# Train the students on one CUDA GPU. Each starts from its pair's shipped AR model (the standard warm start: the NAR
# students take its encoder and joint embeddings, the fast AR its encoder and first decoder layer; the en→pt AR
# student continues itself), so only two checkpoints have to travel to a GPU machine.
#
#   bash scripts/gpu-train-students.sh en-pt [RUNS_DIR] [MINUTES]
#       AR student, CMLM and CTC-GLAT at once on the Bergamot-distilled corpus data/distill/en-pt.bergamot.{en,pt}
#       (build it first on a CPU, see configs/en-pt/ar-student.yaml: Bergamot's engine is CPU-only) plus
#       LibreOffice's own pt-BR references (the configs' train_corpora); CTC-GLAT reads data/distill/en-pt.kdmix.{en,pt}
#       instead of Bergamot's corpus (bash scripts/en_pt_kdmix.sh, on the CPU too). About 6 GPU-minutes per model.
#   bash scripts/gpu-train-students.sh en-de-distill
#       the LibreOffice + Ding training sources translated by the shipped teacher with beam 4, four shards at once
#       (the concatenated shards equal one unsharded run).
#   bash scripts/gpu-train-students.sh en-de [RUNS_DIR] [MINUTES]
#       fast AR, CMLM and CTC-GLAT at once on that corpus (not run on a GPU yet).
#   bash scripts/gpu-train-students.sh cmlm-en-de [RUNS_DIR] [MINUTES]
#       four CMLM variants at once, all continuing the shipped cmlm-en-de on the en-de corpus above (32k-token
#       batches, lr 5e-4): its 6-3 shape; 6-6 (decoder layers 4-6 new); 6-6 on the distilled corpus alone;
#       6-6 with dropout 0.2. A model this small leaves a large GPU mostly idle, so four cost little more than one.
#   bash scripts/gpu-train-students.sh cmlm-en-de-anneal [RUNS_DIR] [MINUTES]
#       four 6-3 CMLM runs at once, continuing the shipped cmlm-en-de as above but with a fixed step budget and the
#       learning rate decayed linearly to 0 at its end (at a near-constant lr, validation swings by about a BLEU
#       between snapshots 200 steps apart; the decay lets the last steps settle): peak 5e-4 and 3e-4 with 32k-token
#       batches, 7e-4 with 64k, 4e-4 with 16k. The shipped model is cmlm-e-lin5.
# Then, per model: python scripts/export_better.py RUNS_DIR/NAME checkpoints/NAME --device cuda
# WALL=SECONDS stops every training process after that much wall time (validation included), for a fixed lease.
#
# Larger batches than the CPU recipes (16k target tokens, 10k for CTC whose decoder runs over 2x the source),
# peak lr 1e-3 after 300 warm-up steps, bf16 autocast, validation on 500 LibreOffice sentences every 300 steps.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
STAGE=${1:?stage: en-pt, en-de-distill, en-de, cmlm-en-de or cmlm-en-de-anneal}
RUNS=${2:-runs}
MINUTES=${3:-5.8}
mkdir -p "$RUNS"

# run CONFIG NAME OPTIONS...: one training process with this script's GPU settings (bf16, 2 threads, MINUTES of
# training, at most WALL seconds when set) and the --set OPTIONS; its output goes to RUNS/NAME.out.
run() {
  local config=$1 name=$2
  shift 2
  ${WALL:+timeout --signal=INT --kill-after=20 "$WALL"} "$PY" -m translator train --config "$config" \
    --set device="$DEVICE" --set runs_dir="$RUNS" --set threads=2 --set autocast=bf16 \
    --set max_minutes="$MINUTES" "$@" > "$RUNS/$name.out" 2>&1
}

# train CONFIG BATCH_TOKENS AR_MODEL: warm-start from (and share the vocabulary of) the shipped AR_MODEL.
train() {
  local config=$1 tokens=$2 ar_model=$3
  run "$config" "$(sed -n 's/^name: *//p' "$config")" \
    --set init_from="checkpoints/$ar_model" --set tokenizer="checkpoints/$ar_model" --set max_batch_tokens="$tokens" \
    --set lr=0.001 --set warmup_steps=300 --set validate_every=300 --set patience=8
}

# variant NAME OPTIONS...: the en-de CMLM config continued from the shipped cmlm-en-de, named NAME, with --set OPTIONS.
variant() {
  local name=$1
  shift
  run configs/en-de/cmlm.yaml "$name" --set name="$name" \
    --set init_from=checkpoints/cmlm-en-de --set tokenizer=checkpoints/cmlm-en-de --set max_batch_tokens=32000 \
    --set lr=0.0005 --set warmup_steps=300 --set validate_every=200 --set keep_snapshots=6 --set patience=1000 "$@"
}

case "$STAGE" in
  en-pt)
    train configs/en-pt/ar-student.yaml 16000 ar-student-en-pt &
    train configs/en-pt/cmlm.yaml 16000 ar-student-en-pt &
    train configs/en-pt/ctc-glat.yaml 10000 ar-student-en-pt &
    wait ;;
  en-de-distill)
    for k in 1 2 3 4; do
      "$PY" -m translator distill --teacher checkpoints/ar-teacher-en-de:beam=4 --pair en-de \
        --corpora libreoffice,ding --out-prefix data/distill/en-de.teacher --shard "$k/4" --device "$DEVICE" \
        > "$RUNS/distill-en-de-$k.out" 2>&1 &
    done
    wait
    for lang in en de; do
      cat data/distill/en-de.teacher.shard-{1,2,3,4}-of-4."$lang" > "data/distill/en-de.teacher.$lang"
    done ;;
  en-de)
    train configs/en-de/fast-ar.yaml 16000 ar-teacher-en-de &
    train configs/en-de/cmlm.yaml 16000 ar-teacher-en-de &
    train configs/en-de/ctc-glat.yaml 10000 ar-teacher-en-de &
    wait ;;
  cmlm-en-de)
    variant cmlm-a6x3 &
    variant cmlm-b6x6 --set model.decoder_layers=6 &
    variant cmlm-c6x6kd --set model.decoder_layers=6 --set "train_corpora=[]" &
    variant cmlm-d6x6d2 --set model.decoder_layers=6 --set model.dropout=0.2 &
    wait ;;
  cmlm-en-de-anneal)
    variant cmlm-e-lin5 --set lr_schedule=linear --set max_steps=3300 &
    variant cmlm-f-lin3 --set lr_schedule=linear --set max_steps=3300 --set lr=0.0003 --set warmup_steps=200 &
    variant cmlm-g-lin7b64 --set lr_schedule=linear --set max_steps=1650 --set lr=0.0007 --set warmup_steps=200 \
      --set max_batch_tokens=64000 --set validate_every=100 &
    variant cmlm-h-lin4b16 --set lr_schedule=linear --set max_steps=5000 --set lr=0.0004 \
      --set max_batch_tokens=16000 --set validate_every=400 &
    wait ;;
  *) echo "unknown stage $STAGE" >&2; exit 2 ;;
esac
