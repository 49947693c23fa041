"""Per-epoch checkpoints: everything needed to resume training exactly, written atomically.

A checkpoint ``<serialization_dir>/checkpoints/epoch_<n>.th`` (``n`` 0-based) holds the
model, optimizer, learning-rate scheduler and gradient-scaler states, the trainer's own
state (epoch, best metric so far, metrics history) and the random-number generators of
Python, NumPy and PyTorch (CPU and CUDA), so that a run resumed from it draws the same
shuffles, augmentations and dropout masks as one that never stopped. Files are written to a
temporary name and renamed, so a kill at any moment leaves the previous checkpoint whole.
"""
import os
import random
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import save_atomically, writing

CHECKPOINT_DIR = "checkpoints"
_CHECKPOINT_NAME = re.compile(r"^epoch_(\d+)\.th$")


def random_states() -> Dict[str, Any]:
    """The states of Python's, NumPy's and PyTorch's (CPU and every CUDA device's) generators,
    as tensors and plain Python values (loadable with ``torch.load(weights_only=True)``)."""
    numpy_state = np.random.get_state(legacy=False)
    return {"python": random.getstate(),
            "numpy": {**numpy_state, "state": {**numpy_state["state"],
                                               "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64))}},
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def restore_random_states(states: Dict[str, Any]) -> None:
    """Undo :func:`random_states`: every generator continues exactly where it was."""
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    numpy_state = states["numpy"]
    np.random.set_state({**numpy_state, "state": {**numpy_state["state"],
                                                  "key": numpy_state["state"]["key"].numpy().astype(np.uint32)}})
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


class Checkpointer:
    """Saves, lists, prunes and loads the checkpoints in ``<serialization_dir>/checkpoints``.

    Args:
        serialization_dir: the run's folder.
        num_serialized_models_to_keep: keep only the newest this many checkpoints (``None``:
            keep all). Each holds the model and the optimizer state (about three times the
            model's size with Adam).
    """

    def __init__(self, serialization_dir: Union[str, os.PathLike], num_serialized_models_to_keep: Optional[int] = 2
                 ) -> None:
        if num_serialized_models_to_keep is not None and num_serialized_models_to_keep < 1:
            raise ConfigurationError("num_serialized_models_to_keep: must be at least 1 (the checkpoint to "
                                     f"resume from), or null to keep all; got {num_serialized_models_to_keep}.")
        self.directory = Path(serialization_dir) / CHECKPOINT_DIR
        self.num_to_keep = num_serialized_models_to_keep

    def path(self, epoch: int) -> Path:
        return self.directory / f"epoch_{epoch}.th"

    def saved_epochs(self) -> List[int]:
        """Epochs with a complete checkpoint, oldest first."""
        if not self.directory.is_dir():
            return []
        matches = (_CHECKPOINT_NAME.match(path.name) for path in self.directory.iterdir())
        return sorted(int(match.group(1)) for match in matches if match)

    def save(self, epoch: int, state: Dict[str, Any]) -> Path:
        """Write ``state`` (plus the random-generator states) for ``epoch``, then delete the
        checkpoints beyond ``num_serialized_models_to_keep``."""
        with writing(self.directory):
            self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(epoch)
        save_atomically({**state, "epoch": epoch, "random_states": random_states()}, path)
        if self.num_to_keep is not None:
            for old_epoch in self.saved_epochs()[:-self.num_to_keep]:
                self.path(old_epoch).unlink()
        return path

    def load_latest(self, map_location: torch.device) -> Optional[Dict[str, Any]]:
        """The newest checkpoint's state (``None`` if there is none). Random generators are
        not touched here; call :func:`restore_random_states` with ``state["random_states"]``.

        Raises:
            ConfigurationError: the checkpoint cannot be read.
        """
        epochs = self.saved_epochs()
        if not epochs:
            return None
        path = self.path(epochs[-1])
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as error:
            raise ConfigurationError(f"Could not read checkpoint {path}: {error}. Delete it to resume from the one "
                                     "before, or train again with --force.") from None
        return state
