"""Reader for ``<root>/<label>/<image>`` folders (torchvision's ``ImageFolder`` layout)."""
import logging
import os
from pathlib import Path
from typing import Iterator, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset import ImageDataset, Sample
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader, ImageDatasetReader
from allencv_lite.data.image_loading import IMAGE_EXTENSIONS

logger = logging.getLogger(__name__)


@DatasetReader.register("image_classification_directory")
class ImageClassificationDirectoryReader(ImageDatasetReader):
    """Each sub-folder of the root is a class; the images inside it are its examples.

    Hidden entries (names starting with ``.``, such as ``.ipynb_checkpoints``) are ignored,
    and so are files whose extension is not an image extension (``Thumbs.db``). Takes the
    arguments of :class:`ImageDatasetReader`.
    """

    def read(self, file_path: Union[str, os.PathLike]) -> ImageDataset:
        """Scan ``file_path`` and return its samples as a dataset.

        Raises:
            ConfigurationError: the folder does not exist or holds no images.
        """
        dataset = self.make_dataset(self._samples(Path(file_path)))
        if not len(dataset):
            raise ConfigurationError(
                f"No readable images in {file_path}; expected <root>/<label>/<image> with "
                f"extensions {', '.join(IMAGE_EXTENSIONS)}."
            )
        return dataset

    def _samples(self, root: Path) -> Iterator[Sample]:
        if not root.is_dir():
            raise ConfigurationError(f"Data folder {root} does not exist (or is not a folder).")
        for label_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for path in sorted(label_dir.iterdir()):
                if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS:
                    yield str(path), label_dir.name
