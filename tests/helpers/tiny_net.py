"""A network small enough to read every parameter name of, for optimizer and scheduler tests."""
import torch

from allencv_lite.training.optimizers import Optimizer


class TinyNet(torch.nn.Module):
    """Parameters ``encoder.0.weight``, ``encoder.0.bias``, ``encoder.1.weight``, ``encoder.1.bias``
    (two 3×3 convolutions, 3 -> 4 -> 4 channels), ``head.weight`` and ``head.bias`` (4 -> 2)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 3))
        self.head = torch.nn.Linear(4, 2)


def build(optimizer_block: dict, model: torch.nn.Module = None) -> torch.optim.Optimizer:
    """The optimizer ``optimizer_block`` (a ``trainer.optimizer`` config) describes, over the
    parameters of ``model`` (a new ``TinyNet`` by default); raises ``ConfigurationError`` as
    the trainer would."""
    model = model or TinyNet()
    return Optimizer.from_params(optimizer_block, "trainer.optimizer", model_parameters=list(model.named_parameters()))
