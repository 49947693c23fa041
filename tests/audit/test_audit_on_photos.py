"""The audit on the real Cats-vs-Dogs photos with planted label errors (needs ALLENCV_DATA_DIR).

A subset keeps it fast: the first 300 training photos of each class, 5 % of them (30, seeded)
moved into the other class's folder. Features come from the default feature cache, which is
keyed by file content, so a machine that has audited the photos (notebook 07, the benchmark)
computes none of them again; a cold cache costs 600 forward passes (about 20 s on 2 idle cores).
"""
import os
import random

from allencv_lite.audit import audit
from benchmarks.audit import near_copy
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import find_labelled_images

PER_CLASS, FLIPPED_FRACTION = 300, 0.05


def test_planted_label_errors_are_flagged_with_at_least_90_percent_precision(cats_dogs_dir, tmp_path):
    samples, labels = find_labelled_images(cats_dogs_dir / "train", SkippedFiles(warn=False))
    chosen = [sample for label in labels for sample in [s for s in samples if s[1] == label][:PER_CLASS]]
    flipped_indices = set(random.Random(0).sample(range(len(chosen)), round(FLIPPED_FRACTION * len(chosen))))
    flipped = set()
    for index, (path, label) in enumerate(chosen):
        new_label = next(other for other in labels if other != label) if index in flipped_indices else label
        (tmp_path / new_label).mkdir(exist_ok=True)
        os.symlink(os.path.abspath(path), tmp_path / new_label / os.path.basename(path))
        if index in flipped_indices:
            flipped.add(f"{new_label}/{os.path.basename(path)}")
    report = audit(tmp_path, progress=False)
    flagged = set(report.label_issues.path)
    precision = len(flagged & flipped) / len(flagged)
    recall = len(flagged & flipped) / len(flipped)
    assert precision >= 0.9 and recall >= 0.85, (precision, recall)


def test_a_resized_reencoded_photo_is_found_at_the_default_threshold(cats_dogs_dir, tmp_path):
    for label in ("Cat", "Dog"):
        (tmp_path / label).mkdir()
        for name in sorted(os.listdir(cats_dogs_dir / "train" / label))[:10]:
            os.symlink(cats_dogs_dir / "train" / label / name, tmp_path / label / name)
    original = sorted(os.listdir(tmp_path / "Dog"))[0]
    (tmp_path / "Dog" / "copy.jpg").write_bytes(near_copy(tmp_path / "Dog" / original))
    report = audit(tmp_path, progress=False)
    assert [({row.path, row.other_path}, row.exact) for row in report.duplicates.itertuples()] == [
        ({f"Dog/{original}", "Dog/copy.jpg"}, False)]
