"""Predict what you have: every image in some files and folders, one record per image naming its file.

``allencv-lite predict ARCHIVE photos/`` and notebook 08 use this module::

    {"path": "photos/new/001.jpg", "label": "Cat", "probabilities": {"Cat": 0.97, "Dog": 0.03},
     "top_k": [{"label": "Cat", "probability": 0.97}, {"label": "Dog", "probability": 0.03}]}
    {"path": "photos/new/002.jpg", "error": "photos/new/002.jpg: truncated (...)"}

A record is the predictor's JSON-lines record (``ImagePredictor``: ``label``, ``probabilities``,
``top_k``, and ``not_sure``/``top_2`` with a ``min_confidence``) with ``path`` put first, so one
reader reads the output of either kind of INPUT.

Folders are searched recursively (class sub-folders are allowed but not needed: a labelled
``<label>/<image>`` tree and a folder of unsorted photos are read alike); a file that cannot be
read gives an error record and the other images still run. :class:`PredictionTally` counts
the records for the summary line, and :func:`record_writer` writes them as JSON lines or CSV.
"""
import collections
import csv
import json
import os
from pathlib import Path
from typing import IO, Callable, Dict, Iterator, List, Sequence, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.text import plural
from allencv_lite.data.dataset import SkippedFiles
from allencv_lite.data.dataset_readers.image_classification_directory import images_in_folder
from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.predictors.predictor import JsonDict, Predictor

# What a bad input raises: it becomes an error record, and the other inputs still run.
INPUT_ERRORS = (ConfigurationError, UnreadableImageError)

NOT_SURE = "not sure"  # how the summary counts an image answered with "label": null


def find_images(paths: Sequence[Union[str, os.PathLike]]) -> Tuple[List[str], SkippedFiles]:
    """The image files that ``paths`` name, in order, and the files passed over.

    A file is kept as given (a missing or unreadable one gets its error record when predicted);
    a folder gives every file with an image extension below it, sorted, sub-folders included, by
    the directory reader's rules (:func:`~allencv_lite.data.dataset_readers.image_classification_directory.images_in_folder`):
    hidden entries and system files (``.DS_Store``, ``__MACOSX/``) are passed over silently,
    files of other types with a warning each, recorded in the returned ``SkippedFiles``.
    """
    images: List[str] = []
    skipped = SkippedFiles()
    for path in paths:
        if os.path.isdir(path):
            images.extend(images_in_folder(Path(path), skipped))
        else:
            images.append(str(path))
    return images, skipped


def predict_each(predictor: Predictor, inputs: Sequence[JsonDict]) -> Iterator[Union[JsonDict, Exception]]:
    """The predictor's output for each input, in order, or the error (one of :data:`INPUT_ERRORS`)
    that input raised. All are predicted in one forward pass; if that fails, they are re-run one
    at a time to find the bad ones, so one bad input never costs the others their prediction."""
    try:
        yield from predictor.predict_batch_json(list(inputs))
    except INPUT_ERRORS:
        for single in inputs:
            try:
                yield predictor.predict_json(single)
            except INPUT_ERRORS as error:
                yield error


def predict_image_files(predictor: Predictor, images: Sequence[str], batch_size: int = 1
                        ) -> Iterator[Tuple[bool, JsonDict]]:
    """Predict each image file; yields ``(ok, record)`` in order.

    A record is ``{"path": ..., **output}``, ``output`` being what the predictor gives for
    ``{"image_path": path}`` as a JSON line (for ``ImagePredictor``: ``label``, ``probabilities``
    in the model's label order, ``top_k``, and ``not_sure``/``top_2`` with a ``min_confidence``);
    or, for a file that cannot be predicted, ``{"path": ..., "error": "..."}``. Images are predicted
    ``batch_size`` at a time (see :func:`predict_each`).

    Args:
        predictor: an image predictor whose output has ``label`` and ``probabilities``, as
            ``ImagePredictor`` (``default_image``) gives.
        images: image files, e.g. from :func:`find_images`.
        batch_size: images per forward pass.
    """
    for start in range(0, len(images), batch_size):
        batch = images[start:start + batch_size]
        for path, output in zip(batch, predict_each(predictor, [{"image_path": path} for path in batch])):
            if isinstance(output, Exception):
                yield False, {"path": path, "error": str(output)}
            else:
                yield True, {"path": path, **output}


def model_labels(predictor: Predictor) -> List[str]:
    """The labels of the predictor's model, in the order of its outputs."""
    return list(predictor.model.vocab.get_index_to_token_vocabulary().values())


class PredictionTally:
    """Counts records as they are written, for the summary line at the end of a run.

    Attributes:
        per_label: ``{label: images predicted as it}``; ``failed``: error records.
    """

    def __init__(self) -> None:
        self.per_label: Dict[str, int] = collections.Counter()
        self.failed = 0

    def add(self, ok: bool, record: JsonDict) -> None:
        """Count one record (an error record if not ``ok``)."""
        if ok and "label" in record:
            self.per_label[NOT_SURE if record["label"] is None else record["label"]] += 1
        else:
            self.failed += 1

    @property
    def total(self) -> int:
        """Records counted, failed ones included."""
        return sum(self.per_label.values()) + self.failed

    def summary(self) -> str:
        """One line: ``"200 images: 101 Cat, 98 Dog; 1 failed"`` (labels most frequent first)."""
        labels = ", ".join(f"{count} {label}" for label, count in
                           sorted(self.per_label.items(), key=lambda pair: (-pair[1], pair[0])))
        return f"{plural(self.total, 'image')}: {labels or 'none predicted'}; {self.failed} failed"


def _json_lines_writer(sink: IO[str]) -> Callable[[JsonDict], None]:
    return lambda record: sink.write(json.dumps(record) + "\n")


def _csv_writer(sink: IO[str], labels: Sequence[str]) -> Callable[[JsonDict], None]:
    """Columns ``path``, ``label``, ``probabilities.<label>`` for each label, ``error``; one row per record."""
    columns = ["path", "label", *(f"probabilities.{label}" for label in labels), "error"]
    writer = csv.DictWriter(sink, fieldnames=columns, lineterminator="\n")
    writer.writeheader()

    def write(record: JsonDict) -> None:
        row = {key: record[key] for key in ("path", "label", "error") if key in record}
        row.update((f"probabilities.{label}", probability)
                   for label, probability in record.get("probabilities", {}).items())
        writer.writerow(row)

    return write


def record_writer(sink: IO[str], output_file: Union[str, os.PathLike], labels: Sequence[str]
                  ) -> Callable[[JsonDict], None]:
    """A function writing one record to ``sink`` as the name ``output_file`` asks: CSV for a
    ``.csv`` name (header first: ``path,label,probabilities.<label>...,error``), JSON lines otherwise.

    Args:
        sink: the opened output file.
        output_file: its name, which chooses the format.
        labels: the model's labels, in order, for the CSV columns.
    """
    if Path(output_file).suffix.lower() == ".csv":
        return _csv_writer(sink, labels)
    return _json_lines_writer(sink)
