"""Per-epoch checkpoints and metrics files: everything needed to resume training exactly,
written atomically.

A checkpoint ``<serialization_dir>/checkpoints/epoch_<n>.th`` (``n`` 0-based) holds the
model, optimizer, learning-rate scheduler and gradient-scaler states, the trainer's own
state (epoch, best metric so far, metrics history) and the random-number generators of
Python, NumPy and PyTorch (CPU and CUDA), so that a run resumed from it draws the same
shuffles, augmentations and dropout masks as one that never stopped. Files are written to a
temporary name and renamed, so a kill at any moment leaves the previous checkpoint whole.
Beside the checkpoints, ``metrics_epoch_<n>.json`` and ``metrics.csv`` (one row per epoch)
can always be rebuilt from the newest checkpoint's history.
"""
import csv
import datetime
import io
import json
import logging
import os
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import save_atomically, write_text_atomically, writing

logger = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoints"
BEST_WEIGHTS_NAME = "best.th"
METRICS_CSV_NAME = "metrics.csv"
_CHECKPOINT_NAME = re.compile(r"^epoch_(\d+)\.th$")


@dataclass
class MetricTracker:
    """The best validation value so far and the epochs since it, for early stopping."""

    higher_is_better: bool
    best_value: Optional[float] = None
    best_epoch: Optional[int] = None
    epochs_without_improvement: int = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record ``epoch``'s value; returns whether it is the best so far."""
        if self.best_value is None or (value > self.best_value if self.higher_is_better else value < self.best_value):
            self.best_value, self.best_epoch, self.epochs_without_improvement = value, epoch, 0
            return True
        self.epochs_without_improvement += 1
        return False

    def is_out_of_patience(self, patience: Optional[int]) -> bool:
        """Whether training stops early: ``patience`` epochs in a row without improvement
        (never with ``patience`` ``None``)."""
        return patience is not None and self.epochs_without_improvement >= patience


def parse_validation_metric(validation_metric: str, always_reported: Sequence[str],
                            model_metrics: Callable[[], Iterable[str]]) -> Tuple[str, bool]:
    """``"+accuracy"`` -> ``("accuracy", True)`` (higher is better); ``"-loss"`` -> ``("loss", False)``.
    The name must be one of ``always_reported`` (the trainer's own: ``loss``, ...) or of
    ``model_metrics()`` (the model's ``get_metrics()`` names, asked only for other names).

    Raises:
        ConfigurationError: the string does not start with ``+`` or ``-``, or names no metric
            the run reports (the message lists them).
    """
    if not validation_metric or validation_metric[0] not in "+-":
        raise ConfigurationError(f"validation_metric: '{validation_metric}' must start with + "
                                 "(higher is better) or - (lower is better), e.g. \"+accuracy\".")
    name = validation_metric[1:]
    if name not in always_reported and name not in (reported := [*always_reported, *model_metrics()]):
        raise ConfigurationError(f"validation_metric: '{validation_metric}' names no metric the model reports; choose "
                                 f"one of {sorted(reported)}, after + (higher is better) or - (lower is better).")
    return name, validation_metric[0] == "+"


def final_metrics(history: List[Dict[str, Any]], tracker: MetricTracker, training_seconds: float) -> Dict[str, Any]:
    """AllenNLP's summary (``metrics.json``): the last epoch's metrics, ``best_epoch`` (the epoch
    whose weights are kept, from 0; -1 the linear probe), its ``best_validation_<name>``
    (``best_training_<name>`` in a run without validation data) and ``training_duration``."""
    final: Dict[str, Any] = dict(history[-1]) if history else {}
    if tracker.best_epoch is not None:
        final["best_epoch"] = tracker.best_epoch
        best = next(metrics for metrics in history if metrics["epoch"] == tracker.best_epoch)
        split = "validation_" if any(k.startswith("validation_") for k in best) else "training_"
        final.update({f"best_{k}": v for k, v in best.items() if k.startswith(split)})
    final["training_duration"] = str(datetime.timedelta(seconds=round(training_seconds)))
    return final


def write_metrics_files(serialization_dir: Path, history: List[Dict[str, Any]]) -> None:
    """``metrics_epoch_<n>.json`` for the last epoch of ``history`` (one metrics dict per
    finished epoch; none for the linear probe's epoch -1) and ``metrics.csv`` (one row per
    epoch, the probe's with validation columns only), each written atomically."""
    last = history[-1]
    if last["epoch"] >= 0:
        write_text_atomically(json.dumps(last, indent=2), serialization_dir / f"metrics_epoch_{last['epoch']}.json")
    table = io.StringIO()
    columns = dict.fromkeys(name for metrics in sorted(history, key=len, reverse=True) for name in metrics)
    writer = csv.DictWriter(table, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_text_atomically(table.getvalue(), serialization_dir / METRICS_CSV_NAME)


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

    def save_epoch(self, epoch: int, parts: Dict[str, Any], tracker: MetricTracker, history: List[Dict[str, Any]],
                   is_best: bool) -> None:
        """The checkpoint of ``epoch``: each of ``parts``' ``state_dict`` (``{}`` for a ``None``
        part), the tracker and the history; then what can be rebuilt from it
        (:meth:`write_epoch_files`)."""
        self.save(epoch, {**{name: part.state_dict() if part is not None else {} for name, part in parts.items()},
                          "tracker": asdict(tracker), "history": history})
        self.write_epoch_files(parts["model"], history, is_best)

    def write_epoch_files(self, model: torch.nn.Module, history: List[Dict[str, Any]], is_best: bool) -> None:
        """``best.th`` (``model``'s weights, if ``is_best``), ``metrics_epoch_<n>.json`` and
        ``metrics.csv``, each written atomically."""
        if is_best:
            save_atomically(model.state_dict(), self.directory.parent / BEST_WEIGHTS_NAME)
        write_metrics_files(self.directory.parent, history)

    def load_best(self, model: torch.nn.Module, map_location: torch.device) -> None:
        """Load ``best.th`` into ``model``, if it has been written."""
        best = self.directory.parent / BEST_WEIGHTS_NAME
        if best.exists():
            model.load_state_dict(torch.load(best, map_location=map_location, weights_only=True))

    def restore_latest(self, parts: Dict[str, Any], map_location: torch.device, rewrite_files: bool = True
                       ) -> Optional[Dict[str, Any]]:
        """Load the newest checkpoint into ``parts`` (by name; ``None`` parts are left out) and
        the random generators, and (``rewrite_files``) write what :meth:`write_epoch_files`
        rebuilds from it; returns its state (``epoch``, ``tracker``, ``history``), or ``None``
        when there is no checkpoint.

        Raises:
            ConfigurationError: the checkpoint cannot be read.
        """
        state = self.load_latest(map_location)
        if state is None:
            return None
        logger.info("Resuming from %s (epoch %d done).", self.path(state["epoch"]), state["epoch"] + 1)
        for name, part in parts.items():
            if part is not None:
                part.load_state_dict(state[name])
        restore_random_states(state["random_states"])
        if rewrite_files:  # a kill may have come between the checkpoint and the files rebuilt from it
            self.write_epoch_files(parts["model"], state["history"],
                                   is_best=state["tracker"]["best_epoch"] == state["epoch"])
        return state

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
