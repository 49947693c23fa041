"""Holding out part of one labelled folder (or CSV) for validation: a stratified, seeded split.

A reader with ``validation_split`` (see
:class:`~allencv_lite.data.dataset_readers.dataset_reader.ImageDatasetReader`) reads only the
training part; the validation part is read with ``only=`` the files it names. The split looks at
file names alone (no image is opened), so the same files and seed give the same split on any
machine, like scikit-learn's ``train_test_split(..., stratify=labels, random_state=seed)``.
"""
import collections
import os
import random
from typing import Dict, List, Sequence, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import Sample


def check_validation_split(validation_split: float) -> None:
    """Raise ``ConfigurationError`` unless ``validation_split`` is a fraction strictly between 0 and 1."""
    if not 0.0 < validation_split < 1.0:
        raise ConfigurationError(f"validation_split: {validation_split:g} is not a fraction between 0 and 1 "
                                 "(exclusive); 0.2 holds out a fifth of each class's images for validation.")


def split_for_validation(samples: Sequence[Sample], validation_split: float, seed: int,
                         source: Union[str, os.PathLike]) -> Tuple[List[Sample], List[Sample]]:
    """The training and validation parts of labelled ``samples``, each in the samples' order.

    Stratified: of each class's ``n`` images, ``max(1, round(validation_split * n))`` go to
    validation, chosen by a generator seeded with ``seed`` and the class name, so that adding a
    class does not change the split of the others.

    Args:
        samples: ``(path, label)`` pairs, all labelled.
        validation_split: the fraction of each class to hold out, in ``(0, 1)``.
        seed: which images are held out.
        source: the folder or CSV the samples came from, named in messages.

    Raises:
        ConfigurationError: fewer than two classes; a class with a single image, or one that
            the fraction would leave with no image to train on (naming the class, its number of
            images and the fix).
    """
    check_validation_split(validation_split)
    paths_per_label: Dict[str, List[str]] = collections.defaultdict(list)
    for path, label in samples:
        paths_per_label[str(label)].append(path)
    if len(paths_per_label) < 2:
        found = ", ".join(f"'{label}' ({len(paths)} images)" for label, paths in paths_per_label.items())
        raise ConfigurationError(f"{source} has only one class, {found or 'none'}; classification needs at least two. "
                                 "Add a folder of images for each other class (<root>/<label>/<image>).")
    validation = set()
    for label, paths in sorted(paths_per_label.items()):
        held_out = max(1, round(validation_split * len(paths)))
        if len(paths) == 1:
            raise ConfigurationError(
                f"{source}: class '{label}' has 1 image ({paths[0]}); validation_split needs at least 2 per class, "
                "one to train on and one to validate. Add images of it, or remove the class.")
        if held_out >= len(paths):
            raise ConfigurationError(
                f"validation_split: {validation_split} would hold out all {len(paths)} images of class '{label}' in "
                f"{source}, leaving none to train on; use a validation_split of at most "
                f"{(len(paths) - 1) / len(paths):.2f}, or add images of it.")
        validation.update(random.Random(f"{seed}/{label}").sample(paths, held_out))
    return ([sample for sample in samples if sample[0] not in validation],
            [sample for sample in samples if sample[0] in validation])
