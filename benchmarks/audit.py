"""How well the dataset audit finds planted label errors and duplicates, and how long it takes.

    python benchmarks/audit.py                                   # $ALLENCV_DATA_DIR or ../shared/data/cats_dogs
    python benchmarks/audit.py DATA_DIR --per-class 40           # a tiny setting, to check the script

1. The unmodified DATA_DIR (``train/`` and ``val/``) is audited with an empty feature cache (the
   first run's wall time), then again (the rerun, from the cache). Every label issue, duplicate
   and leakage pair it reports is listed, so a reader can judge them: real label errors in the
   photos count against the precision below.
2. A copy of ``train/`` (symbolic links) gets 5 % of its labels flipped (seeded: each chosen image
   moves to another class folder), plus exact duplicates (byte copies under new names) and near
   duplicates (resized to 90 %, re-encoded at JPEG quality 75) of other images. The audit's
   precision and recall on the flipped images, its precision at k = number flipped, and the
   injected pairs it finds are reported, for L2-normalised and for raw features (the logistic
   regression on the same cached features, re-run).
3. The near-duplicate threshold each set gave itself, and its margins: the lowest similarity of an
   injected near copy to its original, and the highest similarities between distinct photos of the
   unmodified set.

Prints Markdown for ``benchmarks/RESULTS.md``; the load average is printed beside the timings.
"""
import argparse
import io
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from allencv_lite.audit import audit
from allencv_lite.audit.label_issues import l2_normalise, out_of_sample_probabilities, rank_label_issues
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import find_labelled_images


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, e.g. ``"1.52 1.40 1.10"``."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def near_copy(path: Path) -> bytes:
    """The picture resized to 90 % (bicubic) and re-encoded at JPEG quality 75."""
    image = Image.open(path).convert("RGB")
    image = image.resize((round(image.width * 0.9), round(image.height * 0.9)), Image.BICUBIC)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()


def timed_audit(folder: Path, cache: Path, **options):
    start = time.perf_counter()
    report = audit(folder, cache_folder=cache, **options)
    return report, time.perf_counter() - start


def sample_data(source: Path, destination: Path, per_class: int) -> Path:
    """``per_class`` images of each class of each split of ``source``, linked into ``destination``."""
    for split in ("train", "val"):
        samples, _ = find_labelled_images(source / split, SkippedFiles(warn=False))
        by_label = {}
        for path, label in samples:
            by_label.setdefault(label, []).append(path)
        for label, paths in by_label.items():
            (destination / split / label).mkdir(parents=True)
            for path in paths[:per_class]:
                os.symlink(os.path.abspath(path), destination / split / label / Path(path).name)
    return destination


def plant_problems(train: Path, destination: Path, flip_fraction: float, duplicates: int, seed: int):
    """A linked copy of ``train`` with flipped labels, exact and near duplicates (see the module docstring).

    Returns:
        the flipped images' new keys, the exact pairs and the near pairs (keys relative to ``destination``).
    """
    samples, _ = find_labelled_images(train, SkippedFiles(warn=False))
    labels = sorted({label for _, label in samples})
    rng = random.Random(seed)
    order = list(range(len(samples)))
    rng.shuffle(order)
    flipped_indices = set(order[:round(flip_fraction * len(samples))])
    copied = order[len(flipped_indices):len(flipped_indices) + 2 * duplicates]
    flipped, keys = set(), {}
    for index, (path, label) in enumerate(samples):
        new_label = rng.choice([other for other in labels if other != label]) if index in flipped_indices else label
        target = destination / new_label / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.abspath(path), target)
        keys[index] = f"{new_label}/{Path(path).name}"
        if index in flipped_indices:
            flipped.add(keys[index])
    exact, near = set(), set()
    for position, index in enumerate(copied):
        path = Path(samples[index][0])
        label = keys[index].split("/")[0]
        if position < duplicates:
            name = f"{path.stem}_copy{path.suffix}"
            shutil.copyfile(path, destination / label / name)
            exact.add(tuple(sorted((keys[index], f"{label}/{name}"))))
        else:
            name = f"{path.stem}_q75_90pct.jpg"
            (destination / label / name).write_bytes(near_copy(path))
            near.add(tuple(sorted((keys[index], f"{label}/{name}"))))
    return flipped, exact, near


def flagged_scores(flagged: list, flipped: set) -> str:
    k = len(flipped)
    hits = [key in flipped for key in flagged]
    precision = sum(hits) / max(1, len(flagged))
    recall = sum(hits) / max(1, k)
    return (f"{len(flagged)} flagged, precision {precision:.3f}, recall {recall:.3f}, "
            f"precision@{k} {sum(hits[:k]) / max(1, k):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?",
                        default=os.environ.get("ALLENCV_DATA_DIR", "../shared/data/cats_dogs"))
    parser.add_argument("--flip-fraction", type=float, default=0.05)
    parser.add_argument("--duplicates", type=int, default=20, help="exact and as many near copies injected")
    parser.add_argument("--per-class", type=int, default=None, help="use only this many images per class and split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None,
                        help="reuse this feature cache (the first run is then not cold); default: a new empty one")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="audit_benchmark_"))
    cache = Path(args.cache_dir) if args.cache_dir else work / "cache"
    data = Path(args.data_dir)
    if args.per_class:
        data = sample_data(data, work / "sample", args.per_class)

    print(f"## Dataset audit\n\n`python benchmarks/audit.py {args.data_dir}` "
          f"(flip {args.flip_fraction:.0%}, {args.duplicates} exact + {args.duplicates} near copies, seed "
          f"{args.seed}{f', {args.per_class} per class' if args.per_class else ''}).\n")
    print(f"load average before: {load_average()}")
    report, first = timed_audit(data, cache, progress=False)
    cold = "" if not args.cache_dir else f" (cache {cache} given: not a cold first run)"
    print(f"first run  {len(report.images)} images: {first:.1f} s wall{cold} (load average after: {load_average()})")
    report, rerun = timed_audit(data, cache, progress=False)
    print(f"rerun (cache): {rerun:.1f} s wall (load average after: {load_average()})\n")

    print(f"### Findings on the unmodified {data}\n")
    print(f"near-duplicate threshold of this data: {report.settings['near_duplicate_similarity']:.4f}\n")
    print(f"{len(report.label_issues)} label issues (worst first):\n")
    for row in report.label_issues.itertuples():
        print(f"- {row.path}: labelled {row.label}, suggested {row.suggested_label}, score {row.score:.3f}")
    for name, table in (("duplicate", report.duplicates), ("leakage", report.leakage)):
        print(f"\n{len(table)} {name} pairs:\n")
        for row in table.itertuples():
            print(f"- {row.path} ~ {row.other_path}: similarity {row.similarity:.4f}{' (exact)' if row.exact else ''}")

    unit = l2_normalise(report.features)
    similarities = unit @ unit.T
    np.fill_diagonal(similarities, -1)
    reported = {tuple(sorted(pair)) for table in (report.duplicates, report.leakage)
                for pair in zip(table.path, table.other_path)}
    upper = similarities[np.triu_indices(len(unit), 1)]
    print(f"\nSimilarity of distinct photos: 99.9th percentile {np.percentile(upper, 99.9):.3f}, "
          f"99.99th {np.percentile(upper, 99.99):.3f}, max {upper.max():.4f}; "
          f"pairs >= 0.95: {int((upper >= 0.95).sum())}, >= 0.90: {int((upper >= 0.90).sum())}, "
          f">= 0.85: {int((upper >= 0.85).sum())} ({len(reported)} pairs reported above)")

    planted = work / "planted"
    flipped, exact, near = plant_problems(data / "train", planted / "train", args.flip_fraction, args.duplicates,
                                          args.seed)
    report, planted_time = timed_audit(planted / "train", cache, progress=False)
    print(f"\n### Planted problems in a copy of train/ ({len(report.images)} images, {len(flipped)} flipped)\n")
    print(f"audit of the copy: {planted_time:.1f} s wall ({report.settings['features_computed']} near copies "
          f"computed; load average after: {load_average()})\n")
    print(f"- L2-normalised features (the default): {flagged_scores(list(report.label_issues.path), flipped)}")
    labels = np.array([report.classes.index(label) for label in report.images.label])
    raw = out_of_sample_probabilities(report.features, labels, len(report.classes), normalise=False)
    raw_flagged = [report.images.path.iloc[i] for i in rank_label_issues(labels, raw)]
    print(f"- raw features, same classifier: {flagged_scores(raw_flagged, flipped)}")
    found = {tuple(sorted(pair)): similarity for pair, similarity in
             zip(zip(report.duplicates.path, report.duplicates.other_path), report.duplicates.similarity)}
    near_similarities = [found.get(pair) for pair in near]
    lowest = min((s for s in near_similarities if s is not None), default=float("nan"))
    print(f"- near-duplicate threshold of the copy: {report.settings['near_duplicate_similarity']:.4f}")
    print(f"- exact duplicates found: {sum(pair in found for pair in exact)} of {len(exact)}; near duplicates found: "
          f"{sum(s is not None for s in near_similarities)} of {len(near)} (lowest similarity {lowest:.4f})")
    own = {pair: float(similarity) for pair, similarity in found.items() if pair not in exact | near}
    print(f"- other pairs reported in the copy: {len(own)}")
    missed_near = [pair for pair, s in zip(near, near_similarities) if s is None]
    if missed_near:
        index = {path: i for i, path in enumerate(report.images.path)}
        unit = l2_normalise(report.features)
        for a, b in missed_near:
            print(f"  missed near pair {a} ~ {b}: similarity {float(unit[index[a]] @ unit[index[b]]):.4f}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
