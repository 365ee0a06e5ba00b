#!/usr/bin/env bash
# Learning check: does pretraining help? Pretrain the demo's tiny ALBERT longer than the demo
# (2000 steps instead of 600), then fine-tune it on SST-2 and compare dev accuracy with the same
# model fine-tuned from random weights on the same budget.
#
#   bash benchmarks/learning_check.sh [work_dir]      (about 25 min on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-output/learning_check}
SHARED=${ALBERT_SHARED_DATA:-../shared/data}

python run_pretraining.py --flagfile=flags/demo.flags --output_dir="$WORK/pretrain" \
    --num_train_steps=2000 --num_warmup_steps=100 --save_checkpoints_steps=500 --log_steps=200

for start in pretrained scratch; do
  init=()
  if [ "$start" = pretrained ]; then init=(--init_checkpoint="$WORK/pretrain/export"); fi
  python run_classifier.py --task_name=sst-2 --data_dir="$SHARED/glue/SST-2" \
      --albert_config_file=albert_tf/demo/albert_config.json --spm_model_file="$WORK/pretrain/data/spm.model" \
      "${init[@]}" --output_dir="$WORK/sst-2_$start" --do_train --do_eval --max_seq_length=64 \
      --train_batch_size=32 --learning_rate=1e-4 --num_train_steps=1500 --num_warmup_steps=150 \
      --save_checkpoints_steps=500 --log_steps=250 --seed=12345
done
for start in pretrained scratch; do
  echo "SST-2 dev from $start: $(grep '^accuracy' "$WORK/sst-2_$start/eval_results.txt")"
done
