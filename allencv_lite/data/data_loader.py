"""Batching: how a dataset becomes a ``torch.utils.data.DataLoader``."""
import torch
from torch.utils.data import DataLoader

from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.dataset import ImageDataset, collate_samples


def _seed_worker_augmentation(worker_id: int) -> None:
    """Give each worker its own, reproducible augmentation stream (seeded by torch per worker)."""
    info = torch.utils.data.get_worker_info()
    if info is not None and isinstance(info.dataset, ImageDataset):
        info.dataset.reseed(torch.initial_seed() % 2**32)


class DataLoaderFactory(Registrable, FromParams):
    """The config's ``"iterator"`` (AllenNLP 0.9) or ``"data_loader"`` block.

    Args:
        batch_size: images per batch.
        shuffle: reshuffle the training data each epoch (validation is never shuffled).
        num_workers: background processes decoding images (0 = in the main process).
    """

    default_implementation = "basic"

    def __init__(self, batch_size: int = 32, shuffle: bool = True, num_workers: int = 0) -> None:
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_workers = num_workers

    def build(self, dataset: ImageDataset, for_training: bool = True) -> DataLoader:
        """A ``DataLoader`` yielding dicts ``image`` ``(batch, 3, H, W)``, ``label`` ``(batch,)``."""
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=self.shuffle and for_training,
                          num_workers=self.num_workers, collate_fn=collate_samples,
                          worker_init_fn=_seed_worker_augmentation,
                          persistent_workers=False)


DataLoaderFactory.register("basic")(DataLoaderFactory)
