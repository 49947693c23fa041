"""Reader for a CSV of image ids and labels (Kaggle's ``labels.csv`` style)."""
import collections
import csv
import os
from pathlib import Path
from typing import Collection, Dict, List, Optional, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.data.dataset import ImageDataset, Sample, SkippedFiles
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader, ImageDatasetReader
from allencv_lite.data.dataset_readers.image_classification_directory import has_image_extension
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS, MISSING

NO_LABEL = "no label"
AMBIGUOUS = "ambiguous id"


@DatasetReader.register("image_classification_csv")
class ImageClassificationCsvReader(ImageDatasetReader):
    """Reads a CSV with one row per image, e.g. Kaggle's dog-breed ``labels.csv``::

        id,breed
        000bec180eb18c7604dcecc8fe0dba07,boston_bull

    ``read("labels.csv")`` finds each image as ``<image_directory>/<id>``; an id without an
    extension matches the one file ``<id>.<ext>`` with an image extension (any letter
    case). Rows whose image is missing, ambiguous (``a.jpg`` and ``a.png``), unreadable or
    unlabelled are skipped with one warning each and a summary.

    Args:
        image_directory: folder of the images; relative paths are taken from the CSV's
            folder, and ``None`` means the CSV's folder itself.
        id_column: column holding the image file name or id (may include sub-folders).
        label_column: column holding the label.
        augmentation, lazy, bbox_format, cleaning_file, validation_split, seed: as for
            :class:`ImageDatasetReader`; the keys of the cleaning file, and the files a split
            names, are relative to the image directory.
    """

    def __init__(self, image_directory: Optional[str] = None, id_column: str = "id", label_column: str = "label",
                 augmentation: Optional[List[Augmentation]] = None, lazy: bool = False,
                 bbox_format: str = "pascal_voc", cleaning_file: Optional[str] = None,
                 validation_split: Optional[float] = None, seed: int = 13) -> None:
        super().__init__(augmentation=augmentation, lazy=lazy, bbox_format=bbox_format, cleaning_file=cleaning_file,
                         validation_split=validation_split, seed=seed)
        self.image_directory = image_directory
        self.id_column = id_column
        self.label_column = label_column

    def read(self, file_path: Union[str, os.PathLike], only: Optional[Collection[str]] = None) -> ImageDataset:
        """Read the CSV at ``file_path`` (UTF-8, with or without a byte-order mark): its rows (the
        training part, with a ``validation_split``; those named in ``only``, relative to the image
        folder, with it).

        Raises:
            ConfigurationError: the CSV or image folder does not exist, a configured column
                is missing (the message lists the columns there are), or no row gives a
                readable image; with a ``validation_split``, a row naming a missing image, and as
                :func:`~allencv_lite.data.validation_split.split_for_validation`.
        """
        samples, skipped, image_dir = self.find_samples(file_path)
        csv_path = Path(file_path)
        dataset = self.make_dataset(self.select(samples, image_dir, csv_path, only), source=csv_path,
                                    skipped_files=skipped, root=image_dir)
        if not len(dataset):
            raise ConfigurationError(f"No readable images listed in {csv_path} (images looked up in {image_dir}, "
                                     f"extensions {', '.join(IMAGE_EXTENSIONS)}).")
        return dataset

    def find_samples(self, file_path: Union[str, os.PathLike], warn: bool = True
                     ) -> Tuple[List[Sample], SkippedFiles, Path]:
        """The ``(image path, label)`` rows of the CSV at ``file_path`` whose image exists, the rows
        left out (with their reasons, warned about if ``warn``) and the image folder; no image is opened.

        Raises:
            ConfigurationError: as :meth:`read`.
        """
        csv_path = Path(file_path)
        if not csv_path.is_file():
            raise ConfigurationError(f"CSV file {csv_path} does not exist.")
        image_dir = csv_path.parent / (self.image_directory or "")
        if not image_dir.is_dir():
            raise ConfigurationError(f"image_directory: {image_dir} (for {csv_path}) is not a folder.")
        skipped = SkippedFiles(warn)
        samples = []
        finder = _ImageFinder(image_dir)
        with open(csv_path, newline="", encoding="utf-8-sig") as csv_file:
            rows = csv.DictReader(csv_file)
            for column, key in ((self.id_column, "id_column"), (self.label_column, "label_column")):
                if column not in (rows.fieldnames or []):
                    raise ConfigurationError(f"{key}: {csv_path} has no column '{column}'; its columns are "
                                             f"{rows.fieldnames}. Set \"{key}\" to one of them.")
            for row in rows:
                image_id, label = row[self.id_column].strip(), (row[self.label_column] or "").strip()
                where = f"{csv_path}, line {rows.line_num}"
                matches = finder.find(image_id)
                if not label:
                    skipped.add(f"{image_dir / image_id}", NO_LABEL, f"{where}: empty '{self.label_column}'")
                elif not matches and self.validation_split is not None:
                    raise ConfigurationError(
                        f"{where}: no image '{image_id}' in {image_dir}, so it cannot be split for validation; fix "
                        f"the id, remove the row, or set \"image_directory\" to the folder that holds the images.")
                elif not matches:
                    skipped.add(f"{image_dir / image_id}", MISSING, f"{where}: no such image in {image_dir}")
                elif len(matches) > 1:
                    skipped.add(f"{image_dir / image_id}", AMBIGUOUS, f"{where}: matches {[m.name for m in matches]}")
                else:
                    samples.append((str(matches[0]), label))
        return samples, skipped, image_dir


class _ImageFinder:
    """Finds ``id`` or ``id.<image extension>`` under a folder, listing each folder once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_stem: Dict[Path, Dict[str, List[Path]]] = {}

    def find(self, image_id: str) -> List[Path]:
        path = self.root / image_id
        folder = path.parent
        if folder not in self._by_stem:
            by_stem: Dict[str, List[Path]] = collections.defaultdict(list)
            if folder.is_dir():
                for entry in os.scandir(folder):
                    if has_image_extension(entry.name):
                        by_stem[os.path.splitext(entry.name)[0]].append(folder / entry.name)
            self._by_stem[folder] = by_stem
        if has_image_extension(path.name) and path.exists():
            return [path]
        return sorted(self._by_stem[folder].get(path.name, []))
