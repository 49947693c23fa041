"""``audit(DATA_DIR)``: label issues, duplicates and train/validation leakage, found out of sample.

The steps, each in its own module:

1. the images of DATA_DIR, a class-per-folder tree, or ``train/`` and ``val/`` (or
   ``validation/``) each laid out so (:func:`find_audit_images`);
2. one feature vector per image from a pretrained backbone, cached by file content
   (:mod:`allencv_lite.audit.features`);
3. out-of-sample probabilities from K-fold logistic regression, and cleanlab's label issues
   (:mod:`allencv_lite.audit.label_issues`);
4. exact and near duplicates, split into pairs within a split and leakage across splits
   (:mod:`allencv_lite.audit.duplicates`).

The result is an :class:`~allencv_lite.audit.report.AuditReport`. Nothing is written into DATA_DIR.
"""
import collections
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import pandas as pd

from allencv_lite.audit.duplicates import find_duplicates
from allencv_lite.audit.features import DEFAULT_BACKBONE, archive_backbone, extract_features, pretrained_backbone
from allencv_lite.audit.label_issues import (DEFAULT_FOLDS, label_quality_scores, out_of_sample_probabilities,
                                             rank_label_issues)
from allencv_lite.audit.report import LABEL_ISSUE_COLUMNS, PAIR_COLUMNS, AuditReport
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.cleaning import relative_key
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import find_labelled_images

logger = logging.getLogger(__name__)

TRAIN_SPLIT = "train"
VALIDATION_SPLITS = ("val", "validation")


@dataclass(frozen=True)
class AuditImage:
    """An image to audit: its ``path`` on disk, ``key`` (relative to DATA_DIR, forward slashes),
    ``split`` (``""`` when DATA_DIR has no splits) and ``label`` (its class folder)."""

    path: str
    key: str
    split: str
    label: str


def split_folders(root: Path) -> Dict[str, Path]:
    """``{"train": root/train, "val": root/val}`` (or ``validation``) when ``root`` holds both,
    else ``{"": root}``: the folder itself is class-per-folder."""
    validation = next((name for name in VALIDATION_SPLITS if (root / name).is_dir()), None)
    if (root / TRAIN_SPLIT).is_dir() and validation:
        return {TRAIN_SPLIT: root / TRAIN_SPLIT, validation: root / validation}
    return {"": root}


def find_audit_images(root: Union[str, os.PathLike], folds: int) -> Tuple[List[AuditImage], SkippedFiles]:
    """The labelled images under ``root`` (by the directory reader's rules; only names are looked
    at) and the files left out by name (outside a class folder, another file type).

    Raises:
        ConfigurationError: ``root`` is missing or not a folder, holds no image, has fewer than two
            class folders with images, or a class with fewer images than ``folds``; each message names
            the folder and what would fix it.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigurationError(f"DATA_DIR {root} {'is not a folder' if root.exists() else 'does not exist'}; "
                                 "expected <DATA_DIR>/<label>/<image>, or train/ and val/ laid out so.")
    skipped = SkippedFiles(warn=False)
    images = []
    for split, folder in split_folders(root).items():
        samples, _ = find_labelled_images(folder, skipped)
        images += [AuditImage(path, relative_key(path, root), split, label) for path, label in samples]
    check_classes(root, collections.Counter(image.label for image in images), folds)
    return images, skipped


def check_classes(root: Path, images_per_label: Dict[str, int], folds: int) -> None:
    """Refuse data that K-fold cross-validation cannot judge, naming the folder and the fix.

    Raises:
        ConfigurationError: no images, one class, or a class with fewer than ``folds`` images.
    """
    if not images_per_label:
        raise ConfigurationError(f"{root} holds no images to audit; expected <DATA_DIR>/<label>/<image> (or "
                                 "train/<label>/<image> and val/<label>/<image>) with image files.")
    if len(images_per_label) < 2:
        label = next(iter(images_per_label))
        raise ConfigurationError(f"{root} has a single class, '{label}'; the audit judges each label against the "
                                 "others, so add a folder of images for at least one more class.")
    small = {label: count for label, count in images_per_label.items() if count < folds}
    if small:
        names = ", ".join(f"'{label}' ({count})" for label, count in sorted(small.items()))
        raise ConfigurationError(f"{root}: class folder {names} has fewer images than the {folds} folds of "
                                 f"cross-validation; add images to it or lower --folds to {min(small.values())} "
                                 "(at least 2).")


def audit(folder: Union[str, os.PathLike], backbone: str = DEFAULT_BACKBONE, archive: Optional[str] = None,
          cache_folder: Optional[Union[str, os.PathLike]] = None, folds: int = DEFAULT_FOLDS, seed: int = 0,
          near_duplicate_similarity: Optional[float] = None, normalise: bool = True,
          batch_size: int = 32, progress: bool = True) -> AuditReport:
    """Audit the images of ``folder`` (see the module docstring); the folder is only read.

    Args:
        folder: DATA_DIR: ``<label>/<image>``, or ``train/`` and ``val/`` (or ``validation/``) each so.
        backbone: a name of :data:`~allencv_lite.audit.features.PRETRAINED_BACKBONES`.
        archive: a trained ``model.tar.gz`` whose backbone (and validation reader) give the features
            instead of ``backbone``.
        cache_folder: the feature cache (default :func:`~allencv_lite.audit.features.default_cache_folder`).
        folds: K of the stratified K-fold cross-validation (at least 2), shuffled with ``seed``.
        near_duplicate_similarity: a fixed cosine similarity from which two files are near
            duplicates; by default the data's own threshold
            (:func:`~allencv_lite.audit.duplicates.near_duplicate_threshold`: at least 0.88, more
            when the images are all alike).
        normalise: L2-normalise the features before the logistic regression.
        batch_size: images per forward pass; ``progress``: show a progress bar.

    Raises:
        ConfigurationError: see :func:`find_audit_images`; ``folds`` below 2; an unknown backbone
            or a bad archive; fewer readable images than needed once unreadable files are skipped.
    """
    if folds < 2:
        raise ConfigurationError(f"--folds must be at least 2 (each image is judged by a model trained on the "
                                 f"other folds), got {folds}.")
    root = Path(folder)
    images, skipped_by_name = find_audit_images(root, folds)
    feature_backbone = archive_backbone(archive) if archive else pretrained_backbone(backbone)
    extracted = extract_features([image.path for image in images], feature_backbone, cache_folder,
                                 batch_size=batch_size, progress=progress)
    by_path = {image.path: image for image in images}
    readable = [by_path[path] for path in extracted.paths]
    skipped = pd.DataFrame(
        [(relative_key(path, root), reason) for path, reason in skipped_by_name.files.items()] +
        [(by_path[path].key, reason) for path, reason in extracted.skipped.items()], columns=["path", "reason"])
    check_classes(root, collections.Counter(image.label for image in readable), folds)

    classes = sorted({image.label for image in readable})
    labels = np.array([classes.index(image.label) for image in readable])
    probabilities = out_of_sample_probabilities(extracted.features, labels, len(classes), folds, seed, normalise)
    scores = label_quality_scores(labels, probabilities)
    table = pd.DataFrame({"path": [image.key for image in readable], "split": [image.split for image in readable],
                          "label": [image.label for image in readable],
                          "suggested_label": [classes[i] for i in probabilities.argmax(axis=1)],
                          "score": scores, "hash": extracted.hashes})
    issues = table.iloc[rank_label_issues(labels, probabilities)][LABEL_ISSUE_COLUMNS].reset_index(drop=True)

    found, threshold = find_duplicates(extracted.hashes, extracted.features, near_duplicate_similarity)
    pairs = [(table.path[p.first], table.path[p.second], p.similarity, p.exact,
              table.split[p.first] != table.split[p.second]) for p in found]
    pair_table = pd.DataFrame(pairs, columns=PAIR_COLUMNS + ["across_splits"])
    across_splits = pair_table.across_splits.to_numpy(dtype=bool)
    within = pair_table.loc[~across_splits, PAIR_COLUMNS].reset_index(drop=True)
    across = pair_table.loc[across_splits, PAIR_COLUMNS].reset_index(drop=True)
    settings = {"folds": folds, "seed": seed, "near_duplicate_similarity": threshold, "normalise": normalise,
                "features_computed": extracted.computed, "classes": classes}
    return AuditReport(root, table, extracted.features, probabilities, classes, issues, within, across, skipped, feature_backbone.name,
                       settings)
