"""Comparing two ways of running one model (torch and onnxruntime, float and int8) on real images.

timm checks its ONNX exports the same way (``onnx_validate.py``): the same prepared batch goes to
both, and their outputs are compared image by image. :func:`compare_on_images` reports how often
the most probable label agrees, the largest difference of any probability, the image where it
lies, and each side's accuracy when the images have labels.
"""
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import Sample
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS, UnreadableImageError

BATCH_SIZE = 32  # images per forward pass: also checks the exported graph's dynamic batch axis

# A model run one way: float32 images (batch, 3, height, width) -> probabilities (batch, labels).
Probabilities = Callable[[np.ndarray], np.ndarray]


@dataclass
class ParityReport:
    """How two runs of a model compare on ``images`` images.

    Attributes:
        images: images compared (readable ones).
        agreements: images whose most probable label is the same in both.
        max_difference: the largest ``|p_reference - p_candidate|`` over images and labels.
        worst_image: the disagreement with the largest difference, or where none, the image of
            ``max_difference``.
        worst_labels: the reference's and the candidate's label and probability on it.
        accuracies: the reference's and the candidate's accuracy, when every image has a label.
        skipped: images that could not be read, with the reason.
    """

    images: int
    agreements: int
    max_difference: float
    worst_image: str
    worst_labels: Tuple[str, float, str, float]
    accuracies: Optional[Tuple[float, float]]
    skipped: List[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """The fraction of images on whose most probable label both agree."""
        return self.agreements / self.images

    def summary(self, reference: str, candidate: str) -> str:
        """One line: agreement, largest difference and where, accuracies, skipped images."""
        label_a, p_a, label_b, p_b = self.worst_labels
        line = (f"{candidate} vs {reference} on {self.images} images: top-1 agrees on {self.agreements} "
                f"({100 * self.agreement:.1f} %), max |Δp| = {self.max_difference:.2e}; worst image {self.worst_image} "
                f"({reference} {label_a} {p_a:.4f}, {candidate} {label_b} {p_b:.4f})")
        if self.accuracies is not None:
            line += (f"; accuracy {reference} {100 * self.accuracies[0]:.2f} %, {candidate} "
                     f"{100 * self.accuracies[1]:.2f} % ({100 * (self.accuracies[1] - self.accuracies[0]):+.2f} points)")
        if self.skipped:
            line += f"; {len(self.skipped)} unreadable images skipped ({self.skipped[0]}, ...)"
        return line


def images_to_check(paths: Sequence[Union[str, os.PathLike]], labels: Sequence[str]) -> List[Sample]:
    """The image files in ``paths`` (files, or folders searched recursively for
    :data:`~allencv_lite.data.image_loading.IMAGE_EXTENSIONS`), sorted; an image's label is its
    folder's name when that is one of ``labels`` (``<root>/<label>/<image>``), else ``None``.

    Raises:
        ConfigurationError: a path that does not exist, or no image at all.
    """
    files: List[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(f for f in path.rglob("*") if f.suffix.lower() in IMAGE_EXTENSIONS and f.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigurationError(f"--check-images: {path} does not exist; pass image files or folders of images.")
    if not files:
        raise ConfigurationError(f"--check-images: no image ({' '.join(IMAGE_EXTENSIONS)}) in {[str(p) for p in paths]}.")
    return [(str(f), f.parent.name if f.parent.name in labels else None) for f in files]


def torch_probabilities(model: torch.nn.Module) -> Probabilities:
    """``model``'s ``probs`` (with its temperature) for a numpy batch, without gradients."""
    def run(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(image=torch.from_numpy(images))["probs"].float().numpy()
    return run


def onnx_probabilities(session: Any, input_name: str, output_name: str) -> Probabilities:
    """An ``onnxruntime.InferenceSession``'s output ``output_name`` for a numpy batch fed as ``input_name``."""
    return lambda images: session.run([output_name], {input_name: images})[0]


def compare_on_images(reference: Probabilities, candidate: Probabilities, reader: ImageDatasetReader,
                      samples: Sequence[Sample], labels: Sequence[str]) -> ParityReport:
    """Prepare each image with ``reader`` and run both on the same batches of :data:`BATCH_SIZE`.

    Args:
        reference, candidate: the two runs (see :data:`Probabilities`).
        reader: the validation reader that prepares the images, ``(3, height, width)`` each.
        samples: image files and their labels (see :func:`images_to_check`).
        labels: the label names in index order.

    Raises:
        ConfigurationError: none of the images could be read.
    """
    skipped: List[str] = []
    differences, agree, correct_reference, correct_candidate = [], [], [], []
    worst_key, worst = (False, -1.0), (("", None), np.zeros(1), np.zeros(1))
    for start in range(0, len(samples), BATCH_SIZE):
        batch, tensors = [], []
        for path, label in samples[start:start + BATCH_SIZE]:
            try:
                tensors.append(reader.image_to_tensor(reader.load_image(path)).numpy())
                batch.append((path, label))
            except UnreadableImageError as error:
                skipped.append(str(error))
        if not batch:
            continue
        images = np.ascontiguousarray(np.stack(tensors), dtype=np.float32)
        p, q = reference(images), candidate(images)
        for sample, p_row, q_row in zip(batch, p, q):
            difference = float(np.abs(p_row - q_row).max())
            agrees = p_row.argmax() == q_row.argmax()
            differences.append(difference)
            agree.append(agrees)
            if (not agrees, difference) > worst_key:  # the worst image: a disagreement, then the largest difference
                worst_key, worst = (not agrees, difference), (sample, p_row, q_row)
            if sample[1] is not None:
                target = labels.index(sample[1])
                correct_reference.append(p_row.argmax() == target)
                correct_candidate.append(q_row.argmax() == target)
    if not differences:
        raise ConfigurationError(f"None of the {len(samples)} images to check could be read: {skipped[0]}.")
    (worst_path, _), p_worst, q_worst = worst
    labelled = len(correct_reference) == len(differences)
    return ParityReport(
        images=len(differences), agreements=int(sum(agree)), max_difference=max(differences), worst_image=worst_path,
        worst_labels=(labels[int(p_worst.argmax())], float(p_worst.max()), labels[int(q_worst.argmax())],
                      float(q_worst.max())),
        accuracies=(float(np.mean(correct_reference)), float(np.mean(correct_candidate))) if labelled else None,
        skipped=skipped)
