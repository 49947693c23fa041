"""Reader for ``<root>/<label>/<image>`` folders (torchvision's ``ImageFolder`` layout)."""
import collections
import logging
import os
from pathlib import Path
from typing import Collection, List, Optional, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import ImageDataset, Sample, SkippedFiles
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader, ImageDatasetReader
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS

logger = logging.getLogger(__name__)

# Files and folders that operating systems drop into picture folders (lower-cased); never data.
# ``__MACOSX/`` is where macOS' Archive Utility puts resource forks when it zips a folder.
SYSTEM_ENTRIES = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini", ".ds_store", "__macosx"})
OUTSIDE_CLASS_FOLDER = "outside a class folder"
UNSUPPORTED_FILE_TYPE = "unsupported file type"
_NO_READABLE_IMAGE = "Class folder %s holds no readable image; '%s' is not a label of this dataset."


def is_ignored(name: str) -> bool:
    """Hidden entries (``.ipynb_checkpoints``, ``.DS_Store``, macOS ``._*`` files) and the
    system files and folders in :data:`SYSTEM_ENTRIES` (``__MACOSX/``) are never data, and are
    passed over silently."""
    return name.startswith(".") or name.lower() in SYSTEM_ENTRIES


def find_labelled_images(root: Path, skipped: SkippedFiles) -> Tuple[List[Sample], List[str]]:
    """The ``(image path, label)`` pairs under ``<root>/<label>/`` (sub-folders of a class
    folder included) and the class folders' names, both sorted, following the rules of
    :class:`ImageClassificationDirectoryReader`; files left out go to ``skipped``. Only names
    are looked at: no file is opened."""
    samples: List[Sample] = []
    class_folders = []
    for entry in sorted(root.iterdir()):
        if is_ignored(entry.name):
            continue
        if entry.is_dir():
            class_folders.append(entry.name)
            samples.extend((path, entry.name) for path in images_in_folder(entry, skipped))
        else:
            skipped.add(entry, OUTSIDE_CLASS_FOLDER, "images go in <root>/<label>/")
    return samples, class_folders


def images_in_folder(folder: Path, skipped: SkippedFiles) -> List[str]:
    """Paths with an image extension under ``folder`` (sub-folders included), sorted; other
    files go to ``skipped``; hidden entries and system files are passed over silently, symbolic
    links followed, each folder visited once."""
    images = []
    visited = set()
    for directory, subfolders, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(directory)
        if real in visited:  # a symbolic link loop
            subfolders[:] = []
            continue
        visited.add(real)
        subfolders[:] = sorted(name for name in subfolders if not is_ignored(name))
        for name in sorted(files):
            path = os.path.join(directory, name)
            if is_ignored(name):
                continue
            if has_image_extension(name):
                images.append(path)
            else:
                skipped.add(path, UNSUPPORTED_FILE_TYPE, f"readable extensions: {', '.join(IMAGE_EXTENSIONS)}")
    return images


def has_image_extension(name: str) -> bool:
    """Whether ``name`` ends in one of :data:`IMAGE_EXTENSIONS`, in any letter case."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


@DatasetReader.register("image_classification_directory")
class ImageClassificationDirectoryReader(ImageDatasetReader):
    """Each sub-folder of the root is a class; the images inside it (and inside its own
    sub-folders, as with torchvision's ``ImageFolder``) are its examples.

    Real folders are messy, so the scan:

    - passes over hidden entries and system files silently (see :func:`is_ignored`);
    - follows symbolic links (to files and to folders) and reads non-ASCII names;
    - accepts :data:`IMAGE_EXTENSIONS` in any letter case (``.JPG``);
    - skips, with one warning each naming the file and the reason, files outside a class
      folder, files of other types, and files whose header shows them unreadable (empty,
      not an image, larger than Pillow's decompression-bomb limit, broken links); a lazy
      dataset finds truncated bodies when it decodes them and skips them then;
    - logs a summary with the count per reason, and warns about class folders left
      without a readable image (they are not classes).

    Takes the arguments of :class:`ImageDatasetReader`; the keys of a ``cleaning_file`` are
    relative to the folder read (``Cat/666.jpg`` for ``<root>/Cat/666.jpg``).
    """

    def read(self, file_path: Union[str, os.PathLike], only: Optional[Collection[str]] = None) -> ImageDataset:
        """Scan ``file_path`` and return its samples (the training part, with a
        ``validation_split``; those named in ``only``, with it) as a dataset.

        Raises:
            ConfigurationError: the folder does not exist or holds no readable image; with a
                ``validation_split``, as :meth:`find_samples` and
                :func:`~allencv_lite.data.validation_split.split_for_validation`.
        """
        samples, skipped, root = self.find_samples(file_path)
        dataset = self.make_dataset(self.select(samples, root, root, only), source=root, skipped_files=skipped)
        if not len(dataset):
            raise ConfigurationError(f"No readable images in {root}; expected <root>/<label>/<image> with "
                                     f"extensions {', '.join(IMAGE_EXTENSIONS)}.")
        images_per_label = collections.Counter(dataset.labels)
        for label in sorted({label for _, label in samples}) if only is None else []:
            if not images_per_label[label]:
                logger.warning(_NO_READABLE_IMAGE, root / label, label)
        return dataset

    def find_samples(self, file_path: Union[str, os.PathLike], warn: bool = True
                     ) -> Tuple[List[Sample], SkippedFiles, Path]:
        """The ``(image path, label)`` pairs under ``file_path`` (see :func:`find_labelled_images`),
        the files left out, and the folder itself.

        Raises:
            ConfigurationError: the folder does not exist or is a file; with a
                ``validation_split``, a class folder without any image file (it cannot be split).
        """
        root = self._existing_folder(file_path)
        skipped = SkippedFiles(warn)
        samples, class_folders = find_labelled_images(root, skipped)
        labels = {label for _, label in samples}
        for folder in class_folders:
            if folder in labels:
                continue
            if self.validation_split is not None:
                raise ConfigurationError(
                    f"Class folder {root / folder} is empty (no file with extension {', '.join(IMAGE_EXTENSIONS)}), "
                    "so validation_split cannot hold out any of it; add images to it, or remove the folder.")
            if warn:
                logger.warning(_NO_READABLE_IMAGE, root / folder, folder)
        return samples, skipped, root

    @staticmethod
    def _existing_folder(file_path: Union[str, os.PathLike]) -> Path:
        """``file_path`` as a ``Path``.

        Raises:
            ConfigurationError: it does not exist or is not a folder.
        """
        root = Path(file_path)
        if not root.exists():
            raise ConfigurationError(f"Data folder {root} does not exist; expected <root>/<label>/<image>.")
        if not root.is_dir():
            raise ConfigurationError(f"{root} is a file, not a data folder; expected <root>/<label>/<image> (a "
                                     "file of JSON lines goes to `allencv-lite predict`).")
        return root
