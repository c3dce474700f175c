#!/usr/bin/env bash
# The main job: sets up, builds, and scores GSM8K on all 1319 test questions with the published
# chain-of-thought outputs of code-davinci-002 (base) and text-davinci-002 (instruction-tuned),
# replayed from datasets/gsm8k/outputs/. Prints both accuracies side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh >/dev/null
out=${1:-runs/gsm8k-demo}
./build/yardstick run --task gsm8k \
  --model replay:datasets/gsm8k/outputs/code-davinci-002.cot.jsonl --label code-davinci-002 \
  --model replay:datasets/gsm8k/outputs/text-davinci-002.cot.jsonl --label text-davinci-002 \
  --out "$out" --overwrite
