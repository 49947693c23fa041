"""``ImageDataset``: the samples a reader found, decoded and augmented on access."""
import logging
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from allencv_lite.data.image_loading import UnreadableImageError
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE, Vocabulary

if TYPE_CHECKING:
    from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader

logger = logging.getLogger(__name__)

Sample = Tuple[str, Optional[str]]  # (image path, label or None)


class ImageDataset(Dataset):
    """A map-style dataset of ``(path, label)`` samples.

    ``dataset[i]`` is ``{"image": FloatTensor (3, height, width), "label": LongTensor ()}``
    (no ``"label"`` for unlabelled samples), or ``None`` when the file turns out to be
    unreadable at decode time; :func:`collate_samples` drops those and the count is kept in
    ``skipped``. Call :meth:`index_with` with the vocabulary before indexing labelled data.

    Args:
        samples: ``(path, label)`` pairs.
        reader: decodes (``load_image``) and augments (``image_to_tensor``) each image.
        lazy: if false, every image is decoded once now and kept in memory (unreadable
            ones are dropped with a warning); if true, images are read from disk on access.
    """

    def __init__(self, samples: Sequence[Sample], reader: "ImageDatasetReader", lazy: bool = True) -> None:
        self.reader = reader
        self.lazy = lazy
        self.vocab: Optional[Vocabulary] = None
        self.skipped: Dict[str, int] = {}
        self._images: Optional[List[np.ndarray]] = None
        self.samples: List[Sample] = list(samples)
        if not lazy:
            decoded = [(sample, self._try_decode(sample[0])) for sample in self.samples]
            self.samples = [sample for sample, image in decoded if image is not None]
            self._images = [image for _, image in decoded if image is not None]

    def _try_decode(self, path: str) -> Optional[np.ndarray]:
        try:
            return self.reader.load_image(path)
        except UnreadableImageError as error:
            self.skipped[error.reason] = self.skipped.get(error.reason, 0) + 1
            logger.warning("Skipping unreadable image %s", error)
            return None

    def index_with(self, vocab: Vocabulary) -> None:
        """Use ``vocab`` to turn labels into indices.

        Raises:
            ConfigurationError: a label of this dataset is not in ``vocab``.
        """
        for label in sorted({label for _, label in self.samples if label is not None}):
            vocab.get_token_index(label, DEFAULT_NAMESPACE)
        self.vocab = vocab

    def reseed(self, seed: int) -> None:
        """Restart the reader's augmentation stream from ``seed`` (called in each loader worker)."""
        self.reader.reseed(seed)

    @property
    def labels(self) -> List[Optional[str]]:
        """The label of each sample, in order."""
        return [label for _, label in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Optional[Dict[str, Any]]:
        path, label = self.samples[index]
        image = self._images[index] if self._images is not None else self._try_decode(path)
        if image is None:
            return None
        instance: Dict[str, Any] = {"image": self.reader.image_to_tensor(image)}
        if label is not None:
            if self.vocab is None:
                raise RuntimeError("Call dataset.index_with(vocab) before reading labelled samples.")
            instance["label"] = torch.tensor(self.vocab.get_token_index(label), dtype=torch.long)
        return instance


def collate_samples(batch: List[Optional[Dict[str, torch.Tensor]]]) -> Optional[Dict[str, torch.Tensor]]:
    """Stack instances into a batch: ``image`` ``(batch, 3, H, W)``, ``label`` ``(batch,)``.

    Unreadable samples (``None``) are dropped; a batch with none left is ``None``.
    """
    instances = [instance for instance in batch if instance is not None]
    if not instances:
        return None
    return {key: torch.stack([instance[key] for instance in instances]) for key in instances[0]}
