"""The training loop: epochs of optimizer steps, validation, early stopping, best weights."""
import datetime
import json
import logging
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union

import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams, construct_from_signature
from allencv_lite.models.model import Model
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.learning_rate_schedulers import LearningRateScheduler
from allencv_lite.training.optimizers import Optimizer, describe_parameter_groups

logger = logging.getLogger(__name__)

BEST_WEIGHTS_NAME = "best.th"


def resolve_device(cuda_device: Optional[int]) -> torch.device:
    """``None`` -> first GPU if any, else CPU; ``-1`` -> CPU; ``N`` -> GPU N.

    A GPU asked for on a machine without CUDA falls back to the CPU with a warning, so a
    config written for a GPU still runs on a laptop.
    """
    if cuda_device is None:
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if cuda_device < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        logger.warning("cuda_device=%d but CUDA is not available; training on the CPU.", cuda_device)
        return torch.device("cpu")
    return torch.device(f"cuda:{cuda_device}")


def save_atomically(obj: Any, path: Union[str, os.PathLike]) -> None:
    """``torch.save`` to a temporary file, then rename: a crash never leaves half a file."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    torch.save(obj, partial)
    os.replace(partial, path)


def parse_validation_metric(validation_metric: str) -> tuple:
    """``"+accuracy"`` -> ``("accuracy", True)`` (higher is better); ``"-loss"`` -> ``("loss", False)``.

    Raises:
        ConfigurationError: the string does not start with ``+`` or ``-``.
    """
    if not validation_metric or validation_metric[0] not in "+-":
        raise ConfigurationError(f"trainer.validation_metric: '{validation_metric}' must start with + "
                                 "(higher is better) or - (lower is better), e.g. \"+accuracy\".")
    return validation_metric[1:], validation_metric[0] == "+"


class Trainer(FromParams):
    """Trains a :class:`Model` (AllenNLP's ``GradientDescentTrainer``, pared down).

    Each epoch runs one pass over ``train_data_loader`` (optimizer step per batch), then
    one over ``validation_data_loader``; the weights with the best ``validation_metric`` are
    kept in ``<serialization_dir>/best.th`` and loaded back at the end.

    Args:
        model: the model; its ``forward(**batch)`` must return ``"loss"``.
        optimizer: a ``torch.optim.Optimizer`` over the model's trainable parameters.
        train_data_loader: batches of ``image`` ``(batch, 3, H, W)`` and ``label`` ``(batch,)``.
        validation_data_loader: same, for validation (optional).
        num_epochs: passes over the training data.
        patience: stop after this many epochs without improvement (``None``: never).
        validation_metric: ``"+name"`` or ``"-name"`` of a validation metric (``loss``,
            ``accuracy``); the sign says whether higher or lower is better.
        cuda_device: ``-1`` CPU, ``N`` GPU N, ``None`` (default) the first GPU if present.
        serialization_dir: where ``best.th`` and ``metrics_epoch_<n>.json`` go (optional).
        should_log_learning_rate: add ``lr_group_<i>`` to the metrics.
        grad_norm: clip the gradients' total L2 norm to this value.
        callbacks: hooks called during training (see :class:`TrainerCallback`).
    """

    def __init__(self, model: Model, optimizer: torch.optim.Optimizer, train_data_loader: DataLoader,
                 validation_data_loader: Optional[DataLoader] = None, num_epochs: int = 20,
                 patience: Optional[int] = None, validation_metric: str = "-loss",
                 cuda_device: Optional[int] = None, serialization_dir: Optional[Union[str, os.PathLike]] = None,
                 should_log_learning_rate: bool = False, grad_norm: Optional[float] = None,
                 callbacks: Optional[List[TrainerCallback]] = None,
                 learning_rate_scheduler: Optional[LearningRateScheduler] = None) -> None:
        if patience is not None and patience < 1:
            raise ConfigurationError(f"trainer.patience: must be a positive number of epochs, got {patience}.")
        self.metric_name, self.higher_is_better = parse_validation_metric(validation_metric)
        self.device = resolve_device(cuda_device)
        self.model = model.to(self.device)
        self.optimizer = optimizer
        self.train_data_loader = train_data_loader
        self.validation_data_loader = validation_data_loader
        self.num_epochs = num_epochs
        self.patience = patience
        self.serialization_dir = Path(serialization_dir) if serialization_dir else None
        self.should_log_learning_rate = should_log_learning_rate
        self.grad_norm = grad_norm
        self.callbacks = list(callbacks or [])
        self.learning_rate_scheduler = learning_rate_scheduler

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "trainer", model: Optional[Model] = None,
                    **extras: Any) -> "Trainer":
        """Build from the config's ``trainer`` block; ``optimizer`` is built over ``model``.

        Raises:
            ConfigurationError: bad keys, or ``learning_rate_scheduler`` (not supported yet).
        """
        params = dict(params)
        optimizer = Optimizer.from_params(params.pop("optimizer", {}), f"{path}.optimizer",
                                          model_parameters=list(model.named_parameters()))
        for line in describe_parameter_groups(optimizer):
            logger.info("Parameter %s", line)
        scheduler = None
        if "learning_rate_scheduler" in params:
            scheduler = LearningRateScheduler.from_params(
                params.pop("learning_rate_scheduler"), f"{path}.learning_rate_scheduler", optimizer=optimizer,
                num_epochs=params.get("num_epochs", 20), num_steps_per_epoch=len(extras["train_data_loader"]))
        return construct_from_signature(cls, params, path, {**extras, "model": model, "optimizer": optimizer,
                                                            "learning_rate_scheduler": scheduler})

    def _move(self, batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        return {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}

    def _learning_rates(self) -> Dict[str, float]:
        return {f"lr_group_{i}": group["lr"] for i, group in enumerate(self.optimizer.param_groups)}

    def _run_epoch(self, epoch: int, data_loader: Iterable, training: bool) -> Dict[str, float]:
        """One pass over ``data_loader``; returns ``loss`` (mean per batch) and model metrics."""
        self.model.train(training)
        total_loss, batches, images = 0.0, 0, 0
        progress = tqdm(data_loader, desc=f"epoch {epoch + 1}/{self.num_epochs} {'train' if training else 'validation'}",
                        leave=False, dynamic_ncols=True)
        with torch.set_grad_enabled(training):
            for batch_index, batch in enumerate(progress):
                if batch is None:  # every image of the batch was unreadable
                    continue
                batch = self._move(batch)
                output = self.model(**batch)
                loss = output["loss"]
                if training:
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    if self.grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_norm)
                    self.optimizer.step()
                    if self.learning_rate_scheduler is not None:
                        self.learning_rate_scheduler.step_batch()
                total_loss += loss.item()
                batches += 1
                images += batch["image"].shape[0]
                metrics = {"loss": total_loss / batches, **self.model.get_metrics()}
                progress.set_postfix({k: f"{v:.4f}" for k, v in metrics.items()})
                if training:
                    for callback in self.callbacks:
                        callback.on_batch_end(self, epoch, batch_index, metrics)
        progress.close()
        return {"loss": total_loss / max(batches, 1), **self.model.get_metrics(reset=True), "num_images": images}

    def _is_better(self, value: float, best: Optional[float]) -> bool:
        return best is None or (value > best if self.higher_is_better else value < best)

    def train(self) -> Dict[str, Any]:
        """Run the training; returns AllenNLP-style final metrics (``best_epoch``,
        ``best_validation_<name>``, ``training_<name>``, ``validation_<name>``, durations).

        Raises:
            ConfigurationError: ``validation_metric`` names a metric the model does not report.
        """
        start = time.monotonic()
        best_value: Optional[float] = None
        best_epoch, epochs_without_improvement = 0, 0
        final: Dict[str, Any] = {}
        for epoch in range(self.num_epochs):
            epoch_start = time.monotonic()
            if self.learning_rate_scheduler is not None:
                self.learning_rate_scheduler.on_epoch_start(epoch)
            for callback in self.callbacks:
                callback.on_epoch_start(self, epoch)
            learning_rates = self._learning_rates()
            metrics = {f"training_{k}": v for k, v in self._run_epoch(epoch, self.train_data_loader, True).items()}
            if self.validation_data_loader is not None:
                validation = self._run_epoch(epoch, self.validation_data_loader, False)
                metrics.update({f"validation_{k}": v for k, v in validation.items()})
            if self.should_log_learning_rate:
                metrics.update(learning_rates)
            metrics["epoch"] = epoch
            metrics["epoch_duration_seconds"] = time.monotonic() - epoch_start
            prefix = "validation_" if self.validation_data_loader is not None else "training_"
            if prefix + self.metric_name not in metrics:
                reported = sorted(k[len(prefix):] for k in metrics if k.startswith(prefix))
                raise ConfigurationError(f"trainer.validation_metric: the model reports no '{self.metric_name}'; "
                                         f"it reports {reported}.")
            value = metrics[prefix + self.metric_name]
            if self._is_better(value, best_value):
                best_value, best_epoch, epochs_without_improvement = value, epoch, 0
                if self.serialization_dir is not None:
                    save_atomically(self.model.state_dict(), self.serialization_dir / BEST_WEIGHTS_NAME)
                final.update({f"best_{k}": v for k, v in metrics.items() if k.startswith("validation_")})
            else:
                epochs_without_improvement += 1
            logger.info("epoch %d: %s", epoch + 1, {k: round(v, 4) for k, v in metrics.items()})
            final.update(metrics)
            final["best_epoch"] = best_epoch
            if self.serialization_dir is not None:
                (self.serialization_dir / f"metrics_epoch_{epoch}.json").write_text(json.dumps(metrics, indent=2))
            if self.learning_rate_scheduler is not None:
                self.learning_rate_scheduler.step_epoch()
            for callback in self.callbacks:
                callback.on_epoch_end(self, epoch, metrics)
            if self.patience is not None and epochs_without_improvement >= self.patience:
                logger.info("No improvement in %d epochs; stopping early.", self.patience)
                break
        final["training_duration"] = str(datetime.timedelta(seconds=round(time.monotonic() - start)))
        if self.serialization_dir is not None and (self.serialization_dir / BEST_WEIGHTS_NAME).exists():
            self.model.load_state_dict(torch.load(self.serialization_dir / BEST_WEIGHTS_NAME,
                                                  map_location=self.device, weights_only=True))
        for callback in self.callbacks:
            callback.on_end(self, final)
        return final
