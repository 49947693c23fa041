"""The training loop on in-memory batches, with no files and no randomness: a linear model, its
batches, and a callback that records every hook the trainer calls."""
import torch

from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.training.callbacks import TrainerCallback


class LinearClassifier(Model):
    """``(batch, 3, 2, 2)`` images -> 2 logits, cross-entropy loss; no randomness."""

    def __init__(self) -> None:
        super().__init__(Vocabulary.from_labels(["a", "b"]))
        self._classification_layer = torch.nn.Linear(12, 2)

    def forward(self, image: torch.Tensor, label: torch.Tensor) -> dict:
        return {"loss": torch.nn.functional.cross_entropy(self._classification_layer(image.flatten(1)), label)}


def batches(count: int, size: int, scale: float = 1.0) -> list:
    """``count`` batches of ``size`` images ``(size, 3, 2, 2)`` drawn from N(0, ``scale``²) and
    labels 0 or 1, the same every call (seed 0): ``[{"image": ..., "label": ...}, ...]``."""
    generator = torch.Generator().manual_seed(0)
    return [{"image": scale * torch.randn(size, 3, 2, 2, generator=generator),
             "label": torch.randint(2, (size,), generator=generator)} for _ in range(count)]


class Recorder(TrainerCallback):
    """Records every hook; asks for the running metrics after the batches in ``metrics_after``
    (``(epoch, batch_index)`` pairs)."""

    def __init__(self, metrics_after=()) -> None:
        self.events = []
        self.metrics_after = set(metrics_after)

    def wants_batch_metrics(self, epoch, batch_index):
        return (epoch, batch_index) in self.metrics_after

    def on_train_start(self, num_epochs, num_batches_per_epoch, first_epoch):
        self.events.append(f"train_start {num_epochs} epochs of {num_batches_per_epoch} from {first_epoch}")

    def on_epoch_start(self, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_batch_start(self, epoch, batch_index, batch):
        self.events.append(f"batch_start {epoch}.{batch_index} {tuple(batch['image'].shape)}")

    def on_batch_end(self, epoch, batch_index, learning_rates, metrics):
        self.events.append(f"batch_end {epoch}.{batch_index} {learning_rates} {sorted(metrics)}")

    def on_epoch_end(self, epoch, metrics):
        self.events.append(f"epoch_end {epoch}")

    def on_end(self, metrics):
        self.events.append("end")
