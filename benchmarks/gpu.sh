#!/usr/bin/env bash
# The GPU path, measured in one short run (issue 10, item 5): time to accuracy with
#   1. ResNet-50 at 224 px (training_config/cats_dogs_resnet50.jsonnet, AllenCV's recipe),
#   2. EfficientNet-Lite0 with its offline ImageNet weights (training_config/cats_dogs_efficientnet_finetune.jsonnet),
#   3. ResNet-50 again on two GPUs with DistributedDataParallel, if the machine has two,
# each with mixed precision (bfloat16 where the GPU has it, else float16 with loss scaling),
# channels_last, pinned memory and worker processes; then a markdown table in OUT_DIR/gpu.md.
#
#   ALLENCV_DATA_DIR=/path/to/cats_dogs bash benchmarks/gpu.sh OUT_DIR
#
# About 2-4 minutes on one H200 (budget: 8). It installs nothing from the network but
# `pip install -e .` of this checkout. torchvision's ResNet-50 weights cannot be downloaded
# offline: if resnet50-0676ba61.pth is not in the torch hub cache, ResNet-50 starts from random
# weights and the table says so (its accuracy then measures nothing, its speed still does).
# Without CUDA it runs the same commands on the CPU on a tiny setting (16 images per class,
# 64 px, one epoch), so that the script itself can be checked anywhere.
set -euo pipefail

OUT_DIR=${1:?usage: ALLENCV_DATA_DIR=... bash benchmarks/gpu.sh OUT_DIR}
DATA=${ALLENCV_DATA_DIR:?set ALLENCV_DATA_DIR to a folder with train/ and val/}
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
cd "$REPO"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"  # the checkout runs even if pip cannot install it
python -m pip install -q -e . >"$OUT_DIR/pip.log" 2>&1 || echo "pip install -e . failed (see pip.log); running from the checkout"

read -r GPUS BF16 <<<"$(python -c "import torch; c = torch.cuda.is_available(); print(torch.cuda.device_count() if c else 0, int(c and torch.cuda.is_bf16_supported()))")"
WORKERS=$(( $(nproc) > 10 ? 8 : ( $(nproc) > 2 ? $(nproc) - 2 : 0 ) ))
if [ "$GPUS" -gt 0 ]; then
  SETTING="CUDA, $GPUS GPU(s): $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
  PRECISION=$([ "$BF16" = 1 ] && echo "bfloat16" || echo "float16 with loss scaling")
  PRECISION="$PRECISION, channels_last, pinned memory, $WORKERS loader workers"
  TRAIN=$DATA/train VALIDATION=$DATA/val DEVICE=0 SIZE_OVERRIDES='{}' EPOCHS_OVERRIDE='{}'
else  # the CPU fallback: a tiny copy (links) of the data, small images, one epoch
  SETTING="no CUDA: CPU fallback on a tiny setting (16 images per class, 64 px, 1 epoch)"
  python - "$DATA" "$OUT_DIR/tiny_data" <<'EOF'
import sys
from pathlib import Path
data, tiny = Path(sys.argv[1]), Path(sys.argv[2])
for folder in sorted(path for path in data.glob("*/*") if path.is_dir()):  # <split>/<label>
    (tiny / folder.relative_to(data)).mkdir(parents=True, exist_ok=True)
    for image in sorted(folder.glob("*.jpg"))[:16]:
        link = tiny / image.relative_to(data)
        if not link.is_symlink():
            link.symlink_to(image)
EOF
  TRAIN=$OUT_DIR/tiny_data/train VALIDATION=$OUT_DIR/tiny_data/val DEVICE=-1 WORKERS=0
  PRECISION="float32 (use_amp is ignored without CUDA), channels_last, no workers"
  SMALL='[{"type": "resize", "height": 64, "width": 64}, {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]'
  SIZE_OVERRIDES="{\"dataset_reader.augmentation\": $SMALL, \"validation_dataset_reader.augmentation\": $SMALL}"
  EPOCHS_OVERRIDE='{"trainer.num_epochs": 1, "trainer.learning_rate_scheduler.num_epochs": 1}'
fi
RESNET_WEIGHTS=$(python -c "import torch; print(torch.hub.get_dir())")/checkpoints/resnet50-0676ba61.pth
if [ -f "$RESNET_WEIGHTS" ]; then RESNET_INIT=ImageNet; PRETRAINED=true; else RESNET_INIT="random (no $RESNET_WEIGHTS)"; PRETRAINED=false; fi
echo "$SETTING; $PRECISION; ResNet-50 starts from $RESNET_INIT weights" | tee "$OUT_DIR/setting.txt"

# name, config, device(s), model overrides; every run: AMP, pinned memory, workers, the setting's sizes and epochs.
run() {
  local name=$1 config=$2 devices=$3 model=$4
  local common="{\"trainer.cuda_device\": $devices, \"trainer.use_amp\": true, \"iterator.num_workers\": $WORKERS}"
  local overrides
  overrides=$(python -c "import json, sys; merged = {}; [merged.update(json.loads(a)) for a in sys.argv[1:]]; print(json.dumps(merged))" \
    "$common" "$model" "$SIZE_OVERRIDES" "$EPOCHS_OVERRIDE")
  echo "== $name: $overrides"
  local start=$SECONDS
  TRAIN_PATH=$TRAIN VALIDATION_PATH=$VALIDATION python -m allencv_lite train "$config" -s "$OUT_DIR/$name" --force \
    -o "$overrides" >"$OUT_DIR/$name.log" 2>&1 || { echo "$name failed; the end of $OUT_DIR/$name.log:"; tail -20 "$OUT_DIR/$name.log"; }
  echo $(( SECONDS - start )) >"$OUT_DIR/$name.wall_seconds"
}

RESNET="{\"model.im2im_encoder.pretrained\": $PRETRAINED, \"model.im2im_encoder.channels_last\": true}"
run resnet50 training_config/cats_dogs_resnet50.jsonnet "$DEVICE" "$RESNET"
run efficientnet_lite0 training_config/cats_dogs_efficientnet_finetune.jsonnet "$DEVICE" '{}'
if [ "$GPUS" -ge 2 ]; then
  run resnet50_ddp2 training_config/cats_dogs_resnet50.jsonnet '[0, 1]' "$RESNET"
fi

python - "$OUT_DIR" "$SETTING" "$PRECISION" "$RESNET_INIT" <<'EOF'
"""Writes OUT_DIR/gpu.md: per run, time to the first epoch at 99 % validation accuracy, best accuracy, speed."""
import csv, json, statistics, sys
from pathlib import Path

out, setting, precision, resnet_init = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
TARGET = 0.99
lines = [f"Setting: {setting}. Training: {precision}. ResNet-50 weights: {resnet_init}.", "",
         "| run | image px | epochs | time to 99 % val (s, training only) | best val accuracy | training images/s "
         "(median epoch) | wall time (s, with start-up and decoding) |", "| --- | --- | --- | --- | --- | --- | --- |"]
for run in ("resnet50", "efficientnet_lite0", "resnet50_ddp2"):
    rows_file = out / run / "metrics.csv"
    if not rows_file.exists():
        if (out / f"{run}.log").exists():
            lines.append(f"| {run} | failed: see {run}.log | | | | | |")
        continue
    rows = list(csv.DictReader(rows_file.open()))
    config = json.loads((out / run / "config.json").read_text())
    size = next((step.get("height") or step.get("max_size") for step in config["validation_dataset_reader"]["augmentation"]
                 if step.get("type") in ("resize", "smallest_max_size")), "?")
    elapsed, reached = 0.0, "not reached"
    for row in rows:
        elapsed += float(row["epoch_duration_seconds"])
        if float(row["validation_accuracy"]) >= TARGET:
            reached = f"{elapsed:.1f} (epoch {int(row['epoch']) + 1})"
            break
    best = max(float(row["validation_accuracy"]) for row in rows)
    speed = statistics.median(float(row["training_images_per_second"]) for row in rows)
    wall = (out / f"{run}.wall_seconds").read_text().strip()
    lines.append(f"| {run} | {size} | {len(rows)} | {reached} | {100 * best:.1f} % | {speed:.0f} | {wall} |")
(out / "gpu.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
