"""The training loop: epochs of optimizer steps, validation, early stopping, checkpoints.

One epoch, in order (AllenNLP's ``GradientDescentTrainer``, pared down; the inner loop is
nanoGPT's ``train.py``)::

    scheduler.on_epoch_start(epoch)           # the first step's learning rates
    freeze the groups scheduler.trainable_groups(epoch) leaves out   # gradual unfreezing
    for each optimizer step:                  # over this process's share of the data, if distributed
        for each of its micro-batches:        # num_gradient_accumulation_steps (the last step may have fewer)
            loss = model(**batch)["loss"]     # in autocast with use_amp
            (loss / micro-batches).backward() # DDP averages gradients across processes on the last only
        clip gradients; optimizer.step(); scheduler.step_batch()
    validate (process 0); scheduler.step_epoch()
    checkpoint, then best.th, metrics_epoch_<n>.json and a row of metrics.csv (process 0)

Devices and processes live in :mod:`~allencv_lite.training.distributed`, checkpoints in
:mod:`~allencv_lite.training.checkpointing`.
"""
import contextlib
import csv
import datetime
import io
import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, Iterable, List, Optional, Sequence, Union

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import save_atomically, write_text_atomically
from allencv_lite.common.from_params import FromParams, defaults_of
from allencv_lite.common.lazy import Lazy
from allencv_lite.common.registrable import Registrable
from allencv_lite.common.text import format_duration, format_learning_rate, plural
from allencv_lite.common.progress import progress_bar
from allencv_lite.models.model import Model
from allencv_lite.training import cpu_threads, distributed, mixed_precision
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.checkpointing import Checkpointer, restore_random_states
from allencv_lite.training.learning_rate_schedulers import LearningRateScheduler, TrainingLength
from allencv_lite.training.optimizers import Optimizer, describe_parameter_groups

logger = logging.getLogger(__name__)

BEST_WEIGHTS_NAME = "best.th"
METRICS_CSV_NAME = "metrics.csv"
PROGRESS_REFRESH_SECONDS = 0.5
DEFAULT_NUM_EPOCHS = 20
TIME_ESTIMATE_BATCHES = 5  # batches timed, after the first (which also starts loader workers), for the estimate


def parse_validation_metric(validation_metric: str) -> tuple:
    """``"+accuracy"`` -> ``("accuracy", True)`` (higher is better); ``"-loss"`` -> ``("loss", False)``.

    Raises:
        ConfigurationError: the string does not start with ``+`` or ``-``.
    """
    if not validation_metric or validation_metric[0] not in "+-":
        raise ConfigurationError(f"validation_metric: '{validation_metric}' must start with + "
                                 "(higher is better) or - (lower is better), e.g. \"+accuracy\".")
    return validation_metric[1:], validation_metric[0] == "+"


def optimizer_steps_per_epoch(num_batches: int, num_gradient_accumulation_steps: int) -> int:
    """Optimizer steps in an epoch of ``num_batches`` batches (a last, partial group of
    batches still makes a step)."""
    return -(-num_batches // num_gradient_accumulation_steps)


def named_learning_rates(learning_rates: Sequence[float]) -> Dict[str, float]:
    """``[1e-4, 1e-3]`` -> ``{"lr_group_0": 1e-4, "lr_group_1": 1e-3}`` (one rate per parameter group)."""
    return {f"lr_group_{index}": rate for index, rate in enumerate(learning_rates)}


def format_epoch_metrics(metrics: Dict[str, Any]) -> str:
    """``training_loss 0.4123, ..., lr_group_0 1.44e-05``: learning rates in scientific notation,
    other numbers to 4 decimals, the 0-based ``epoch`` key left out (the log line says the epoch)."""
    return ", ".join(f"{name} {format_learning_rate(value) if name.startswith('lr_group_') else round(value, 4)}"
                     for name, value in metrics.items() if name != "epoch")


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


def freeze_parameters(model: torch.nn.Module, regexes: List[str], path: str = "no_grad") -> None:
    """Set ``requires_grad`` false on every parameter of ``model`` whose name one of ``regexes``
    ``re.search``-es.

    Raises:
        ConfigurationError: ``regexes`` is not a list of valid regexes, or one matches no parameter.
    """
    if not isinstance(regexes, list) or not all(isinstance(regex, str) for regex in regexes):
        raise ConfigurationError(f"{path}: expected a list of regexes over parameter names, got {regexes!r}.")
    names = [name for name, _ in model.named_parameters()]
    for index, regex in enumerate(regexes):
        try:
            matched = [name for name in names if re.search(regex, name)]
        except re.error as error:
            raise ConfigurationError(f"{path}[{index}]: '{regex}' is not a valid regular expression ({error}).") from None
        if not matched:
            raise ConfigurationError(f"{path}[{index}]: '{regex}' matches no parameter; names look like '{names[0]}'.")
    for name, parameter in model.named_parameters():
        if any(re.search(regex, name) for regex in regexes):
            parameter.requires_grad_(False)


@dataclass
class RunningEpoch:
    """What an epoch of training has added up so far. ``loss`` (the sum of the batches' mean
    losses) stays on the device, so adding to it never waits for the GPU; times are
    ``time.monotonic()`` seconds."""

    loss: torch.Tensor
    learning_rate_sums: List[float]  # one per parameter group, summed over the steps
    batches: int = 0
    images: int = 0
    steps: int = 0
    start: float = field(default_factory=time.monotonic)
    first_batch_end: float = 0.0
    last_refresh: float = field(default_factory=time.monotonic)

    def add_batch(self, loss: torch.Tensor, num_images: int) -> None:
        self.loss += loss
        self.batches += 1
        self.images += num_images

    def add_step(self, learning_rates: Sequence[float]) -> None:
        self.learning_rate_sums = [total + rate for total, rate in zip(self.learning_rate_sums, learning_rates)]
        self.steps += 1

    def mean_loss(self) -> float:
        """The mean loss per batch so far (copies it from the device)."""
        return self.loss.item() / max(self.batches, 1)


def set_trainable_groups(optimizer: torch.optim.Optimizer, trainable: Sequence[bool]) -> None:
    """Set ``requires_grad`` of every parameter in ``optimizer.param_groups[i]`` to
    ``trainable[i]``: the freezing a scheduler's ``trainable_groups`` requests. Parameters in
    no group (those ``no_grad`` froze) stay frozen."""
    for group, group_trains in zip(optimizer.param_groups, trainable):
        for parameter in group["params"]:
            parameter.requires_grad_(group_trains)


def describe_trainable_groups(epoch: int, trainable: Sequence[bool]) -> str:
    """``Gradual unfreezing: epoch 2 trains groups [0, 1].`` for 0-based ``epoch`` 1 (people
    count epochs from 1)."""
    return (f"Gradual unfreezing: epoch {epoch + 1} trains groups "
            f"{[index for index, group_trains in enumerate(trainable) if group_trains]}.")


def gradient_sync(model: torch.nn.Module, is_last_micro_step: bool) -> ContextManager:
    """Where a forward and backward pass runs: DDP all-reduces the gradients in every backward
    pass except inside ``no_sync``, and gradient accumulation needs it only on a step's last
    micro-batch (nanoGPT's ``require_backward_grad_sync``). A no-op when not distributed."""
    if is_last_micro_step or not distributed.is_distributed():
        return contextlib.nullcontext()
    return model.no_sync()


class Trainer(Registrable, FromParams):
    """Trains a :class:`Model`.

    Not every argument is a config key. A config's ``trainer`` block is built by
    :meth:`from_partial_objects` (registered as ``gradient_descent``, the default), whose signature
    is the block's schema: ``optimizer``, ``learning_rate_scheduler`` and ``callbacks`` there are
    config blocks, built in order; ``no_grad`` is added; ``model``, the data loaders and
    ``serialization_dir`` are passed by the code; the other arguments below are keys as they are.

    Args:
        model: the model; its ``forward(**batch)`` must return ``"loss"``.
        optimizer: a ``torch.optim.Optimizer`` over the model's trainable parameters.
        train_data_loader: batches of ``image`` ``(batch, 3, H, W)`` and ``label`` ``(batch,)``.
        validation_data_loader: same, for validation (optional).
        num_epochs: passes over the training data.
        patience: stop after this many epochs without improvement (``None``: never).
        validation_metric: ``"+name"`` or ``"-name"`` of a validation metric (``loss``,
            ``accuracy``); the sign says whether higher or lower is better.
        cuda_device: ``-1`` CPU, ``N`` GPU N, ``None`` (default) the first GPU if present; a
            list trains one process per entry with DistributedDataParallel (see
            :func:`~allencv_lite.training.distributed.resolve_device`).
        serialization_dir: where checkpoints, ``best.th``, ``metrics_epoch_<n>.json`` and
            ``metrics.csv`` go (optional). Checkpoints found there are resumed from.
        should_log_learning_rate: add each group's learning rate (``lr_group_<i>``) to the
            per-batch metrics of the progress bar and of callbacks (epoch metrics always have
            the epoch's mean; callbacks get the rates in any case, as an argument).
        grad_norm: rescale the gradients so that their total L2 norm is at most this.
        grad_clipping: clamp every gradient value to ``[-grad_clipping, grad_clipping]``.
        num_gradient_accumulation_steps: batches whose gradients are summed per optimizer step
            (an effective batch this many times larger).
        learning_rate_scheduler: changes the learning rates as training goes (optional).
        num_serialized_models_to_keep: checkpoints kept (the newest), ``None`` for all.
        use_amp: mixed precision on CUDA: autocast to bfloat16 where the GPU supports it, else
            to float16 with gradient scaling (see :mod:`~allencv_lite.training.mixed_precision`);
            ignored, with a warning, on the CPU.
        callbacks: hooks called during training (see :class:`TrainerCallback`), in process 0;
            in a config, a list of blocks such as ``{"type": "tensorboard"}``.
        calibrate: once training is over, ``train_model`` fits the model's temperature on the
            validation data (temperature scaling, see
            :func:`~allencv_lite.interpret.calibration.calibrate_model`); ``false`` leaves it at 1.

    Raises:
        ConfigurationError: ``patience`` or ``num_gradient_accumulation_steps`` below 1, a bad
            ``validation_metric``; the message names the argument (a config's path is put in
            front of it by :func:`~allencv_lite.common.from_params.construct_from_signature`).
    """

    default_implementation = "gradient_descent"

    def __init__(self, model: Model, optimizer: torch.optim.Optimizer, train_data_loader: Iterable,
                 validation_data_loader: Optional[Iterable] = None, num_epochs: int = DEFAULT_NUM_EPOCHS,
                 patience: Optional[int] = None, validation_metric: str = "-loss",
                 cuda_device: distributed.CudaDevice = None,
                 serialization_dir: Optional[Union[str, os.PathLike]] = None,
                 should_log_learning_rate: bool = False, grad_norm: Optional[float] = None,
                 grad_clipping: Optional[float] = None, num_gradient_accumulation_steps: int = 1,
                 learning_rate_scheduler: Optional[LearningRateScheduler] = None,
                 num_serialized_models_to_keep: Optional[int] = 2, use_amp: bool = False,
                 callbacks: Optional[List[TrainerCallback]] = None, calibrate: bool = True) -> None:
        if patience is not None and patience < 1:
            raise ConfigurationError(f"patience: must be a positive number of epochs, got {patience}.")
        if num_gradient_accumulation_steps < 1:
            raise ConfigurationError("num_gradient_accumulation_steps: must be at least 1, "
                                     f"got {num_gradient_accumulation_steps}.")
        self.metric_name, higher_is_better = parse_validation_metric(validation_metric)
        self.tracker = MetricTracker(higher_is_better)
        self.device = distributed.resolve_device(cuda_device)
        self.model = model.to(self.device)
        distributed.keep_metrics_local(self.model)
        self.optimizer = optimizer
        self.train_data_loader = distributed.shard_data_loader(train_data_loader)
        self.validation_data_loader = validation_data_loader
        self.num_epochs = num_epochs
        self.patience = patience
        self.serialization_dir = Path(serialization_dir) if serialization_dir else None
        self.checkpointer = (Checkpointer(self.serialization_dir, num_serialized_models_to_keep)
                             if self.serialization_dir else None)
        self.should_log_learning_rate = should_log_learning_rate
        self.grad_norm = grad_norm
        self.grad_clipping = grad_clipping
        self.num_gradient_accumulation_steps = num_gradient_accumulation_steps
        self.learning_rate_scheduler = learning_rate_scheduler
        self.amp_dtype = mixed_precision.autocast_dtype(self.device, use_amp)  # None: float32
        self.grad_scaler = torch.amp.GradScaler("cuda", enabled=mixed_precision.needs_loss_scaling(self.amp_dtype))
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # the fastest convolution algorithms for these (fixed) image sizes
        self.callbacks = list(callbacks or []) if distributed.is_main_process() else []
        self.calibrate = calibrate
        self.history: List[Dict[str, Any]] = []  # one metrics dict per finished epoch
        self._parallel_model: Optional[torch.nn.Module] = None  # DDP wrapper, rebuilt when freezing changes
        self._trainable_groups: Optional[List[bool]] = None  # as the scheduler last requested; None: no request
        self._warned_about_lone_image = False
        self._time_estimated = False  # the time estimate is logged once, in the first epoch this process trains

    _defaults = defaults_of(__init__)  # from_partial_objects takes them from here: defaults live once

    @classmethod
    def from_partial_objects(
            cls, model: Model, train_data_loader: Iterable, validation_data_loader: Optional[Iterable] = None,
            serialization_dir: Optional[Union[str, os.PathLike]] = None,
            optimizer: Lazy[Optimizer] = Lazy(Optimizer),
            learning_rate_scheduler: Optional[Lazy[LearningRateScheduler]] = None,
            callbacks: Optional[List[Lazy[TrainerCallback]]] = None, no_grad: Optional[List[str]] = None,
            num_epochs: int = _defaults["num_epochs"], patience: Optional[int] = _defaults["patience"],
            validation_metric: str = _defaults["validation_metric"],
            cuda_device: distributed.CudaDevice = _defaults["cuda_device"],
            should_log_learning_rate: bool = _defaults["should_log_learning_rate"],
            grad_norm: Optional[float] = _defaults["grad_norm"], grad_clipping: Optional[float] = _defaults["grad_clipping"],
            num_gradient_accumulation_steps: int = _defaults["num_gradient_accumulation_steps"],
            num_serialized_models_to_keep: Optional[int] = _defaults["num_serialized_models_to_keep"],
            use_amp: bool = _defaults["use_amp"], calibrate: bool = _defaults["calibrate"]) -> "Trainer":
        """The ``trainer`` block's schema (AllenNLP's ``GradientDescentTrainer.from_partial_objects``):
        build, in order, what depends on what came before, then the trainer.

        1. freeze the parameters ``no_grad`` names;
        2. the ``optimizer`` over the model's trainable parameters;
        3. the ``learning_rate_scheduler`` over the optimizer, for ``num_epochs`` and the
           optimizer steps the training data loader makes per epoch (measured, in this process
           if distributed);
        4. the ``callbacks`` (in process 0 only), each given ``serialization_dir`` if it asks.

        Not config keys (the code passes them): ``model``, ``train_data_loader``,
        ``validation_data_loader``, ``serialization_dir``; a ``callbacks`` entry may also be a
        built :class:`TrainerCallback` (a notebook's live plot). Every other argument is the
        constructor's, with the constructor's default.

        ``no_grad`` (AllenNLP's key) is a list of regexes: every parameter whose name one of them
        ``re.search``-es gets ``requires_grad`` false for the whole run, belongs to no parameter
        group, and is never unfrozen (e.g. the bottom of a backbone that fine-tuning leaves as it is).

        Raises:
            ConfigurationError: a ``no_grad`` regex that is invalid or matches no parameter; what
                the optimizer, scheduler, callbacks or constructor refuse (each names its key).
        """
        freeze_parameters(model, no_grad or [])
        built_optimizer = optimizer.construct(model_parameters=list(model.named_parameters()))
        scheduler = None
        if learning_rate_scheduler is not None:
            train_data_loader = distributed.shard_data_loader(train_data_loader)
            steps = optimizer_steps_per_epoch(len(train_data_loader), num_gradient_accumulation_steps)
            scheduler = learning_rate_scheduler.construct(optimizer=built_optimizer,
                                                          training_length=TrainingLength(num_epochs, steps))
        for line in describe_parameter_groups(built_optimizer):  # after the scheduler: each group's first-step rate
            logger.info("Parameter %s", line)
        built_callbacks = ([callback.construct(serialization_dir=serialization_dir) for callback in callbacks or []]
                           if distributed.is_main_process() else [])  # a callback may write files: process 0 only
        return cls(model=model, optimizer=built_optimizer, train_data_loader=train_data_loader,
                   validation_data_loader=validation_data_loader, num_epochs=num_epochs, patience=patience,
                   validation_metric=validation_metric, cuda_device=cuda_device, serialization_dir=serialization_dir,
                   should_log_learning_rate=should_log_learning_rate, grad_norm=grad_norm, grad_clipping=grad_clipping,
                   num_gradient_accumulation_steps=num_gradient_accumulation_steps,
                   learning_rate_scheduler=scheduler, num_serialized_models_to_keep=num_serialized_models_to_keep,
                   use_amp=use_amp, callbacks=built_callbacks, calibrate=calibrate)

    del _defaults

    # ----- one batch -----

    def _forward_model(self) -> torch.nn.Module:
        """The model to run training batches through: in DDP when distributed, built again
        after :meth:`prepare_epoch` has changed which parameters train."""
        if not distributed.is_distributed():
            return self.model
        if self._parallel_model is None:
            self._parallel_model = distributed.wrap_model(self.model, self.device)
        return self._parallel_model

    def _forward_backward(self, model: torch.nn.Module, batch: Optional[Dict[str, torch.Tensor]],
                          micro_batches_in_step: int, running: RunningEpoch, epoch: int) -> None:
        """Add ``batch``'s gradients, its loss divided by ``micro_batches_in_step`` so that the
        step sees the mean over its micro-batches (and multiplied by the AMP loss scale). A
        ``None`` batch (no readable image) or one :meth:`_cannot_train_on` is skipped."""
        if batch is None or self._cannot_train_on(batch, epoch):
            return
        batch = {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            loss = model(**batch)["loss"]
        self.grad_scaler.scale(loss / micro_batches_in_step).backward()
        running.add_batch(loss.detach(), batch["image"].shape[0])

    def _optimizer_step(self) -> None:
        """Clip the summed gradients, step the optimizer and the scheduler, clear the gradients."""
        parameters = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        if self.grad_norm is not None or self.grad_clipping is not None:
            self.grad_scaler.unscale_(self.optimizer)
        if self.grad_clipping is not None:
            torch.nn.utils.clip_grad_value_(parameters, self.grad_clipping)
        if self.grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(parameters, self.grad_norm)
        self.grad_scaler.step(self.optimizer)
        self.grad_scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        if self.learning_rate_scheduler is not None:
            self.learning_rate_scheduler.step_batch()

    def _cannot_train_on(self, batch: Dict[str, torch.Tensor], epoch: int) -> bool:
        """Whether ``batch`` is a lone image (of batches meant to be larger) that batch norm in
        training mode cannot normalize: with one image a channel may hold a single value
        (PyTorch: "Expected more than 1 value per channel when training"), and even where it
        does not, one image's statistics are noise. It is skipped, with one warning per run."""
        batch_size = getattr(self.train_data_loader, "batch_size", None)
        if batch["image"].shape[0] != 1 or not batch_size or batch_size == 1 or not any(
                isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.training
                for module in self.model.modules()):
            return False
        if not self._warned_about_lone_image:
            logger.warning("Skipping a training batch of 1 image in epoch %d (and any such batch later): batch norm in "
                           "training mode needs at least 2 images per batch. %d training images in batches of %d "
                           "leave 1 over; add or remove an image, or change the batch size, to train on it.",
                           epoch + 1, len(getattr(self.train_data_loader, "dataset", ())), batch_size)
            self._warned_about_lone_image = True
        return True

    def _log_time_estimate(self, epoch: int, seconds_per_batch: float, num_batches: int) -> None:
        """Log, once per run, how long an epoch's training and the remaining epochs should take
        at the speed of batches 2 to 1 + :data:`TIME_ESTIMATE_BATCHES` of ``epoch``."""
        epoch_seconds = seconds_per_batch * num_batches
        logger.info("Time estimate from batches 2-%d of epoch %d: about %s per epoch of training (%s), %s for the %s "
                    "left, validation not included; a busy machine takes longer.", TIME_ESTIMATE_BATCHES + 1,
                    epoch + 1, format_duration(epoch_seconds), plural(num_batches, "batch", "batches"),
                    format_duration(epoch_seconds * (self.num_epochs - epoch)),
                    plural(self.num_epochs - epoch, "epoch"))
        self._time_estimated = True

    def _learning_rates(self) -> List[float]:
        """Each parameter group's learning rate now."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def _running_metrics(self, running: RunningEpoch, learning_rates: Sequence[float]) -> Dict[str, float]:
        """The epoch's training metrics so far (copies them from the device)."""
        metrics = {"loss": running.mean_loss(), **self.model.get_metrics()}
        if self.should_log_learning_rate:
            metrics.update(named_learning_rates(learning_rates))
        return metrics

    def _end_batch(self, epoch: int, batch_index: int, learning_rates: List[float], running: RunningEpoch,
                   progress: Any) -> None:
        """The time estimate, the progress bar's metrics and the callbacks' ``on_batch_end``.
        The running metrics are computed (a device sync) only to refresh the progress bar,
        at most every :data:`PROGRESS_REFRESH_SECONDS`, or for callbacks that want them."""
        now = time.monotonic()
        if batch_index == 0:
            running.first_batch_end = now
        elif batch_index == TIME_ESTIMATE_BATCHES and not self._time_estimated and distributed.is_main_process():
            self._log_time_estimate(epoch, (now - running.first_batch_end) / TIME_ESTIMATE_BATCHES,
                                    len(self.train_data_loader))
        wants_metrics = [callback.wants_batch_metrics(epoch, batch_index) for callback in self.callbacks]
        metrics = {}
        if any(wants_metrics) or now - running.last_refresh > PROGRESS_REFRESH_SECONDS:
            metrics = self._running_metrics(running, learning_rates)
            progress.set_postfix({k: f"{v:.4g}" for k, v in metrics.items()}, refresh=False)
            running.last_refresh = now
        for callback, wants in zip(self.callbacks, wants_metrics):
            callback.on_batch_end(epoch, batch_index, learning_rates, metrics if wants else {})

    # ----- one epoch -----

    def prepare_epoch(self, epoch: int) -> None:
        """Set the learning rates and the trainable parameter groups of ``epoch``'s first step:
        the scheduler's ``on_epoch_start``, then the freezing its ``trainable_groups`` requests,
        applied and logged (``Gradual unfreezing: epoch 2 trains groups [0, 1].``) when it
        changes."""
        if self.learning_rate_scheduler is None:
            return
        self.learning_rate_scheduler.on_epoch_start(epoch)
        trainable = self.learning_rate_scheduler.trainable_groups(epoch)
        if trainable is None or trainable == self._trainable_groups:
            return
        set_trainable_groups(self.optimizer, trainable)
        self._trainable_groups = trainable
        self._parallel_model = None  # DDP fixes the parameters it synchronises when it is built
        logger.info(describe_trainable_groups(epoch, trainable))

    def _start_data_streams(self, epoch: int) -> None:
        """Give the sampler its epoch (a ``DistributedSampler`` shuffles by it) and the dataset
        a new augmentation seed, drawn from torch's generator (so a checkpoint restores the
        stream) and different in each process."""
        loader = self.train_data_loader
        if hasattr(getattr(loader, "sampler", None), "set_epoch"):
            loader.sampler.set_epoch(epoch)
        dataset = getattr(loader, "dataset", None)
        if hasattr(dataset, "reseed"):
            dataset.reseed(int(torch.randint(2**31 - 1, ())) + distributed.rank())

    def _train_epoch(self, epoch: int) -> Dict[str, float]:
        """One pass over the training data, as optimizer steps over micro-batches; returns
        ``loss`` (mean per batch), the model's metrics, ``num_images``, ``images_per_second``
        and ``lr_group_<i>`` (mean over steps)."""
        self.model.train()
        model = self._forward_model()
        self._start_data_streams(epoch)
        num_batches, accumulation = len(self.train_data_loader), self.num_gradient_accumulation_steps
        running = RunningEpoch(torch.zeros((), device=self.device), [0.0] * len(self.optimizer.param_groups))
        progress = progress_bar(self.train_data_loader, f"epoch {epoch + 1}/{self.num_epochs} train",
                                dynamic_ncols=True, disable=not distributed.is_main_process())
        batches = enumerate(progress)
        for step in range(optimizer_steps_per_epoch(num_batches, accumulation)):
            micro_batches_in_step = min(accumulation, num_batches - step * accumulation)  # the last may have fewer
            learning_rates = self._learning_rates()
            for micro_step in range(micro_batches_in_step):
                batch_index, batch = next(batches)
                for callback in self.callbacks:
                    callback.on_batch_start(epoch, batch_index, batch)
                with gradient_sync(model, is_last_micro_step=micro_step == micro_batches_in_step - 1):
                    self._forward_backward(model, batch, micro_batches_in_step, running, epoch)
                self._end_batch(epoch, batch_index, learning_rates, running, progress)
            self._optimizer_step()
            running.add_step(learning_rates)
        progress.close()
        seconds = time.monotonic() - running.start
        metrics = distributed.average_over_processes(
            {"loss": running.mean_loss(), **self.model.get_metrics(reset=True)}, running.images, self.device)
        images = int(distributed.sum_over_processes(running.images, self.device))
        return {**metrics, "num_images": images, "images_per_second": images / seconds,
                **named_learning_rates([total / max(running.steps, 1) for total in running.learning_rate_sums])}

    @torch.no_grad()
    def _validate(self, epoch: int) -> Dict[str, float]:
        """``loss`` (mean per batch), the model's metrics and ``num_images`` on the validation data."""
        self.model.eval()
        total_loss, batches, images = torch.zeros((), device=self.device), 0, 0
        for batch in progress_bar(self.validation_data_loader, f"epoch {epoch + 1}/{self.num_epochs} validation",
                                  dynamic_ncols=True):
            if batch is None:
                continue
            batch = {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                total_loss += self.model(**batch)["loss"].float()
            batches += 1
            images += batch["image"].shape[0]
        return {"loss": total_loss.item() / max(batches, 1), **self.model.get_metrics(reset=True), "num_images": images}

    def _run_epoch(self, epoch: int) -> Dict[str, Any]:
        """Train and validate ``epoch``; the metrics every process agrees on."""
        start = time.monotonic()
        training = self._train_epoch(epoch)
        metrics: Dict[str, Any] = {"epoch": epoch}
        metrics.update({f"training_{k}": v for k, v in training.items() if not k.startswith("lr_group_")})
        if self.validation_data_loader is not None:
            validation = self._validate(epoch) if distributed.is_main_process() else None
            metrics.update({f"validation_{k}": v for k, v in distributed.broadcast_from_main(validation).items()})
        metrics.update({k: v for k, v in training.items() if k.startswith("lr_group_")})
        for prefix, loader in (("training_", self.train_data_loader), ("validation_", self.validation_data_loader)):
            skipped = getattr(getattr(loader, "dataset", None), "skipped_files", None)
            if skipped is not None:  # files left out so far, at the scan and (lazy) when decoded
                metrics[f"{prefix}num_skipped_files"] = len(skipped)
        metrics["epoch_duration_seconds"] = time.monotonic() - start
        return metrics

    # ----- checkpoints and files -----

    def _save_epoch(self, epoch: int, is_best: bool) -> None:
        """Process 0 writes the checkpoint first, then what can be rebuilt from it."""
        if self.serialization_dir is None or not distributed.is_main_process():
            return
        self.checkpointer.save(epoch, {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "learning_rate_scheduler": (self.learning_rate_scheduler.state_dict()
                                        if self.learning_rate_scheduler is not None else {}),
            "grad_scaler": self.grad_scaler.state_dict(), "tracker": asdict(self.tracker), "history": self.history})
        if is_best:
            save_atomically(self.model.state_dict(), self.serialization_dir / BEST_WEIGHTS_NAME)
        self._write_metrics_files()

    def _write_metrics_files(self) -> None:
        """``metrics_epoch_<n>.json`` for the last epoch and ``metrics.csv`` (one row per epoch)."""
        last = self.history[-1]
        write_text_atomically(json.dumps(last, indent=2), self.serialization_dir / f"metrics_epoch_{last['epoch']}.json")
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=list(self.history[0]), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.history)
        write_text_atomically(table.getvalue(), self.serialization_dir / METRICS_CSV_NAME)

    def _restore_checkpoint(self) -> int:
        """Load the newest checkpoint in ``serialization_dir``, if any; returns the epoch to start at."""
        state = self.checkpointer.load_latest(self.device) if self.checkpointer is not None else None
        if state is None:
            return 0
        logger.info("Resuming from %s (epoch %d done).", self.checkpointer.path(state["epoch"]), state["epoch"] + 1)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.learning_rate_scheduler is not None:
            self.learning_rate_scheduler.load_state_dict(state["learning_rate_scheduler"])
        self.grad_scaler.load_state_dict(state["grad_scaler"])
        self.tracker = MetricTracker(**state["tracker"])
        self.history = list(state["history"])
        restore_random_states(state["random_states"])
        if distributed.is_main_process():  # a kill may have come between the checkpoint and these files
            if self.tracker.best_epoch == state["epoch"]:
                save_atomically(self.model.state_dict(), self.serialization_dir / BEST_WEIGHTS_NAME)
            self._write_metrics_files()
        return state["epoch"] + 1

    # ----- the whole run -----

    def _final_metrics(self, training_seconds: float) -> Dict[str, Any]:
        """AllenNLP's summary: the last epoch's metrics, ``best_epoch``, ``best_validation_<name>``."""
        final: Dict[str, Any] = dict(self.history[-1]) if self.history else {}
        if self.tracker.best_epoch is not None:
            final["best_epoch"] = self.tracker.best_epoch
            best = next(metrics for metrics in self.history if metrics["epoch"] == self.tracker.best_epoch)
            final.update({f"best_{k}": v for k, v in best.items() if k.startswith("validation_")})
        final["training_duration"] = str(datetime.timedelta(seconds=round(training_seconds)))
        return final

    def train(self) -> Dict[str, Any]:
        """Run the training, resuming from the newest checkpoint in ``serialization_dir`` if
        there is one; returns the final metrics (``best_epoch``, ``best_validation_<name>``,
        ``training_<name>``, ``validation_<name>``, ``training_duration``). At the end the
        model holds the best epoch's weights (if ``serialization_dir`` is set). Each epoch torch
        computes with as many threads as fit beside the data loader's workers and the machine's
        other work (:mod:`~allencv_lite.training.cpu_threads`).

        Raises:
            ConfigurationError: ``validation_metric`` names a metric the model does not report.
        """
        loader_workers = getattr(self.train_data_loader, "num_workers", 0)
        with cpu_threads.threads_fitted_to_cores(loader_workers, distributed.world_size()) as fit_threads:
            return self._train_with_threads_fitted(fit_threads)

    def _train_with_threads_fitted(self, fit_threads: Callable[[], int]) -> Dict[str, Any]:
        start = time.monotonic()
        first_epoch = self._restore_checkpoint()
        for callback in self.callbacks:
            callback.on_train_start(self.num_epochs, len(self.train_data_loader), first_epoch)
        for epoch in range(first_epoch, self.num_epochs):
            if self.tracker.is_out_of_patience(self.patience):
                logger.info("No improvement in %d epochs; stopping early.", self.patience)
                break
            fit_threads()
            self.prepare_epoch(epoch)
            for callback in self.callbacks:
                callback.on_epoch_start(epoch)
            metrics = self._run_epoch(epoch)
            if self.learning_rate_scheduler is not None:
                self.learning_rate_scheduler.step_epoch()
            key = ("validation_" if self.validation_data_loader is not None else "training_") + self.metric_name
            if key not in metrics:
                prefix = key[:key.index("_") + 1]
                reported = sorted(k[len(prefix):] for k in metrics if k.startswith(prefix))
                raise ConfigurationError(f"trainer.validation_metric: the model reports no '{self.metric_name}'; "
                                         f"it reports {reported}.")
            is_best = self.tracker.update(metrics[key], epoch)
            self.history.append(metrics)
            self._save_epoch(epoch, is_best)
            logger.info("epoch %d/%d: %s", epoch + 1, self.num_epochs, format_epoch_metrics(metrics))
            for callback in self.callbacks:
                callback.on_epoch_end(epoch, metrics)
        final = self._final_metrics(time.monotonic() - start)
        best_weights = self.serialization_dir / BEST_WEIGHTS_NAME if self.serialization_dir else None
        distributed.barrier()  # process 0 has written best.th
        if best_weights is not None and best_weights.exists():
            self.model.load_state_dict(torch.load(best_weights, map_location=self.device, weights_only=True))
        for callback in self.callbacks:
            callback.on_end(final)
        return final


Trainer.register("gradient_descent")(Trainer.from_partial_objects)
