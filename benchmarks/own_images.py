"""Seconds from one folder of photos to a trained model, and its accuracy on new photos.

    python benchmarks/own_images.py                                   # 30 photos per class, 200 new ones
    python benchmarks/own_images.py --images-per-class 10 --new-per-class 10   # quick check
    python benchmarks/own_images.py --seed 1                          # other photos of the same classes

Beside it, issue 22's calibration check on the same new photos, which neither training nor the
temperature saw: ECE (15 bins), NLL and Brier score with temperature 1 and with the temperature
the archive applies (``train_model`` keeps a fitted one only where it helps out of sample).

Issue 21's acceptance: 2 classes × 30 photos in one folder, no split made by hand, trained with
``training_config/own_images.jsonnet`` in at most 60 s on 2 idle cores, and at least 97 % right on
200 unseen Cats-vs-Dogs photos predicted as an unlabelled folder.

The photos come from ``$ALLENCV_DATA_DIR`` (``train/`` for the folder, ``val/`` for the new photos,
see :func:`allencv_lite.lessons.sample_own_photos`). Training runs as a person runs it, ``allencv-lite
train`` in its own process, and its wall time includes starting Python and loading torch; the new
photos are then predicted in this process. The load average before and after is printed beside the
time: on a busy machine the time is an upper bound, not the idle number.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from allencv_lite.interpret.calibration import calibration_scores
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.lessons import find_lesson_data, sample_own_photos
from machine import describe_machine  # benchmarks/ is not a package: its folder is on the path
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors.image_files import find_images, predict_image_files
from allencv_lite.predictors.image_predictor import ImagePredictor

RECIPE = Path(__file__).resolve().parents[1] / "training_config" / "own_images.jsonnet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-per-class", type=int, default=30)
    parser.add_argument("--new-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="which photos are sampled")
    args = parser.parse_args()

    data = find_lesson_data(Path(__file__).resolve().parents[1] / "data")
    with tempfile.TemporaryDirectory() as scratch:
        photos = sample_own_photos(data, Path(scratch) / "sample", args.images_per_class, args.new_per_class,
                                   seed=args.seed)
        command = [sys.executable, "-m", "allencv_lite", "train", str(RECIPE), "-s", str(Path(scratch) / "run")]
        machine_before = describe_machine()
        started = time.perf_counter()
        subprocess.run(command, check=True, env={**os.environ, "DATA_PATH": str(photos.folder)},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        machine_after = describe_machine()
        archive = load_archive(Path(scratch) / "run" / "model.tar.gz")
        predictor = ImagePredictor(archive.model, archive.dataset_reader)
        images, _ = find_images([photos.new_photos])
        results = list(predict_image_files(predictor, images, batch_size=32))
        right = sum(ok and record["label"] == photos.truth[record["path"]] for ok, record in results)
        labelled = Path(scratch) / "new_photos_by_label"  # the same photos in <label>/ folders, to score them
        for path, label in photos.truth.items():
            (labelled / label).mkdir(parents=True, exist_ok=True)
            (labelled / label / Path(path).name).symlink_to(Path(path).resolve())
        scored = ClassificationInterpretation.from_archive(archive, labelled, progress=False)
        before = calibration_scores(scored.logits, scored.targets)
        after = calibration_scores(scored.logits, scored.targets, scored.temperature)
    labels = len(set(photos.truth.values()))
    print(f"{data.name}: {labels} classes x {args.images_per_class} photos in one folder -> allencv-lite train "
          f"{RECIPE.name} in {seconds:.1f} s; {right}/{len(results)} = {right / len(results):.1%} of the new photos "
          f"right\ncalibration on the new photos (archived temperature {scored.temperature:.3f}): ECE "
          f"{before['ece']:.2%} -> {after['ece']:.2%}, NLL {before['nll']:.4f} -> {after['nll']:.4f}, Brier "
          f"{before['brier']:.4f} -> {after['brier']:.4f}\nbefore: {machine_before}\nafter: {machine_after}")


if __name__ == "__main__":
    main()
