"""The training loop: epochs of optimizer steps, validation, early stopping, checkpoints.

AllenNLP's ``GradientDescentTrainer``, pared down, with nanoGPT's ``micro_step`` loop: one step,
from forward pass to schedule, reads top to bottom in :meth:`Trainer._train_epoch`. Callbacks are
called around it; progress bars, time estimates and log lines are one of them
(:mod:`~allencv_lite.training.progress_report`). Processes live in :mod:`~.distributed`,
checkpoints in :mod:`~.checkpointing`, freezing in :mod:`~.freezing`.
"""
import contextlib
import logging
import os
import time
from typing import Any, Dict, Iterable, List, Optional, Union

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams, defaults_of
from allencv_lite.common.lazy import Lazy
from allencv_lite.common.progress import progress_bar
from allencv_lite.common.registrable import Registrable
from allencv_lite.models.model import Model
from allencv_lite.training import cpu_threads, distributed, mixed_precision
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.checkpointing import (Checkpointer, MetricTracker, final_metrics,
                                                 parse_validation_metric)
from allencv_lite.training.freezing import describe_trainable_groups, freeze_parameters, set_trainable_groups
from allencv_lite.training.linear_probe import fit_linear_probe
from allencv_lite.training.learning_rate_schedulers import (LearningRateScheduler, TrainingLength,
                                                             optimizer_steps_per_epoch)
from allencv_lite.training.optimizers import Optimizer, describe_parameter_groups, named_learning_rates
from allencv_lite.training.progress_report import ProgressReport, planned_epoch_costs

logger = logging.getLogger(__name__)

DEFAULT_NUM_EPOCHS = 20


class Trainer(Registrable, FromParams):
    """Trains a :class:`Model`. A config's ``trainer`` block is built by :meth:`from_partial_objects`
    (registered as ``gradient_descent``, the default), whose signature is the block's schema.

    Args:
        model: the model; its ``forward(**batch)`` must return ``"loss"``.
        optimizer: a ``torch.optim.Optimizer`` over the model's trainable parameters.
        train_data_loader: batches of ``image`` ``(batch, 3, H, W)`` and ``label`` ``(batch,)``.
        validation_data_loader: same, for validation (optional).
        num_epochs: passes over the training data; ``0`` with ``linear_probe_first`` and
            validation data: the linear probe alone.
        patience: stop after this many epochs without improvement (``None``: never).
        validation_metric: ``"+name"`` (higher is better) or ``"-name"`` of a metric the model
            reports (``loss``, ``accuracy``), on the validation data if there is any.
        cuda_device: ``-1`` CPU, ``N`` GPU N, ``None`` the first GPU if present; a list trains one
            process per entry (:func:`~allencv_lite.training.distributed.resolve_device`).
        serialization_dir: where checkpoints, ``best.th``, ``metrics_epoch_<n>.json`` and
            ``metrics.csv`` go (optional). Checkpoints found there are resumed from.
        should_log_learning_rate: add each group's learning rate (``lr_group_<i>``) to the
            running metrics of the progress bar and of callbacks.
        grad_norm: rescale the gradients so that their total L2 norm is at most this.
        grad_clipping: clamp every gradient value to ``[-grad_clipping, grad_clipping]``.
        num_gradient_accumulation_steps: batches whose gradients are summed per optimizer step.
        learning_rate_scheduler: changes the learning rates as training goes (optional).
        num_serialized_models_to_keep: checkpoints kept (the newest), ``None`` for all.
        use_amp: mixed precision on CUDA (:mod:`~allencv_lite.training.mixed_precision`);
            ignored, with a warning, on the CPU.
        callbacks: hooks called during training, in process 0 (:class:`TrainerCallback`).
        num_threads: torch's threads while training (``None``: the usable cores less the data
            loader's workers; :mod:`~allencv_lite.training.cpu_threads`).
        calibrate: once training is over, ``train_model`` fits the model's temperature on the
            validation data (temperature scaling, see
            :func:`~allencv_lite.interpret.calibration.calibrate_model`); ``false`` leaves it at 1.
        linear_probe_first: before the first epoch (not when resuming), fit the classification
            layer as a logistic regression on the frozen model's features, then fine-tune (LP-FT,
            :mod:`~allencv_lite.training.linear_probe`). With validation data the probed model is
            validated as epoch 0 (``"epoch": -1`` in ``metrics.csv``, counting from 0), a candidate
            for the kept weights like any epoch.

    Raises:
        ConfigurationError: ``patience``, ``num_gradient_accumulation_steps`` or ``num_threads``
            below 1; ``num_epochs`` below 1 (0 only for a probe with validation data); a
            ``validation_metric`` the model does not report. The message names the argument (a
            config's path is put in front of it).
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
                 callbacks: Optional[List[TrainerCallback]] = None, num_threads: Optional[int] = None,
                 calibrate: bool = True, linear_probe_first: bool = False) -> None:
        if patience is not None and patience < 1:
            raise ConfigurationError(f"patience: must be a positive number of epochs, got {patience}.")
        for key, count in {"num_gradient_accumulation_steps": num_gradient_accumulation_steps,
                           "num_threads": num_threads}.items():
            if count is not None and count < 1:
                raise ConfigurationError(f"{key}: must be at least 1, got {count}.")
        if num_epochs < 0 or (num_epochs == 0 and not (linear_probe_first and validation_data_loader is not None)):
            raise ConfigurationError(f"num_epochs: must be at least 1, got {num_epochs}; 0 trains only the linear "
                                     "probe, with linear_probe_first true and validation data to judge it.")
        split = "training_" if validation_data_loader is None else "validation_"
        self.metric_name, higher_is_better = parse_validation_metric(
            validation_metric, ["loss", "num_images"] + (["images_per_second"] if split == "training_" else []),
            lambda: model.get_metrics())
        self.metric_key = split + self.metric_name  # in an epoch's metrics
        self.tracker = MetricTracker(higher_is_better)
        self.device = distributed.resolve_device(cuda_device)
        self.model = model.to(self.device)
        distributed.keep_metrics_local(self.model)
        self.optimizer, self.num_epochs, self.patience = optimizer, num_epochs, patience
        self.train_data_loader = distributed.shard_data_loader(train_data_loader)
        self.validation_data_loader = validation_data_loader
        self.checkpointer = (Checkpointer(serialization_dir, num_serialized_models_to_keep)
                             if serialization_dir is not None else None)
        self.should_log_learning_rate, self.learning_rate_scheduler = should_log_learning_rate, learning_rate_scheduler
        self.grad_norm, self.grad_clipping, self.num_threads = grad_norm, grad_clipping, num_threads
        self.num_gradient_accumulation_steps = num_gradient_accumulation_steps
        self.amp_dtype = mixed_precision.autocast_dtype(self.device, use_amp)  # None: float32
        self.grad_scaler = torch.amp.GradScaler("cuda", enabled=mixed_precision.needs_loss_scaling(self.amp_dtype))
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # the fastest convolution algorithms for these (fixed) image sizes
        self.callbacks = list(callbacks or []) if distributed.is_main_process() else []
        self.calibrate, self.linear_probe_first = calibrate, linear_probe_first
        self.history: List[Dict[str, Any]] = []  # one metrics dict per finished epoch
        self._parallel_model: Optional[torch.nn.Module] = None  # DDP wrapper, rebuilt when freezing changes
        self._trainable_groups: Optional[List[bool]] = None  # as the scheduler last requested; None: no request

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
            use_amp: bool = _defaults["use_amp"],
            num_threads: Optional[int] = _defaults["num_threads"],
            calibrate: bool = _defaults["calibrate"],
            linear_probe_first: bool = _defaults["linear_probe_first"]) -> "Trainer":
        """The ``trainer`` block's schema (AllenNLP's ``GradientDescentTrainer.from_partial_objects``),
        built in order: freeze what ``no_grad`` names, the ``optimizer`` over the trainable
        parameters, the ``learning_rate_scheduler`` over it (for ``num_epochs`` of this process's
        optimizer steps), the ``callbacks`` (process 0; given ``serialization_dir`` if they ask).

        Not config keys: ``model``, the data loaders, ``serialization_dir`` (the code passes them);
        a ``callbacks`` entry may be a built callback. ``no_grad`` lists regexes: a parameter whose
        name one ``re.search``-es never trains. The rest are the constructor's, with its defaults.

        Raises:
            ConfigurationError: a ``no_grad`` regex that is invalid or matches nothing; what the
                optimizer, scheduler, callbacks or constructor refuse (each names its key).
        """
        freeze_parameters(model, no_grad or [])
        built_optimizer = optimizer.construct(model_parameters=list(model.named_parameters()))
        scheduler = None
        if learning_rate_scheduler is not None:
            train_data_loader = distributed.shard_data_loader(train_data_loader)
            steps = optimizer_steps_per_epoch(len(train_data_loader), num_gradient_accumulation_steps)
            scheduler = learning_rate_scheduler.construct(optimizer=built_optimizer,
                                                          training_length=TrainingLength(num_epochs, steps))
        for line in describe_parameter_groups(built_optimizer) if num_epochs else []:  # a probe alone steps nothing
            logger.info("Parameter %s", line)  # after the scheduler: each group's first-step rate
        built_callbacks = ([callback.construct(serialization_dir=serialization_dir) for callback in callbacks or []]
                           if distributed.is_main_process() else [])  # a callback may write files: process 0 only
        return cls(model=model, optimizer=built_optimizer, train_data_loader=train_data_loader,
                   validation_data_loader=validation_data_loader, num_epochs=num_epochs, patience=patience,
                   validation_metric=validation_metric, cuda_device=cuda_device, serialization_dir=serialization_dir,
                   should_log_learning_rate=should_log_learning_rate, grad_norm=grad_norm, grad_clipping=grad_clipping,
                   num_gradient_accumulation_steps=num_gradient_accumulation_steps,
                   learning_rate_scheduler=scheduler, num_serialized_models_to_keep=num_serialized_models_to_keep,
                   use_amp=use_amp, callbacks=built_callbacks, num_threads=num_threads, calibrate=calibrate,
                   linear_probe_first=linear_probe_first)

    del _defaults

    def prepare_epoch(self, epoch: int) -> None:
        """The scheduler's learning rates for ``epoch``'s first step, and the freezing its
        ``trainable_groups`` requests, applied and logged (``Gradual unfreezing: ...``) when it changes."""
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

    def _train_epoch(self, epoch: int, hooks: List[TrainerCallback]) -> Dict[str, float]:
        """One pass over the training data: optimizer steps, each over up to
        ``num_gradient_accumulation_steps`` micro-batches (nanoGPT's ``micro_step`` loop). Returns
        ``loss`` (mean per batch), the model's metrics, ``num_images``, ``images_per_second`` and
        ``lr_group_<i>`` (mean over steps). A ``None`` batch (no readable image) trains nothing."""
        self.model.train()
        if distributed.is_distributed() and self._parallel_model is None:  # DDP syncs the parameters training now
            self._parallel_model = distributed.wrap_model(self.model, self.device)
        model = self._parallel_model if self._parallel_model is not None else self.model
        distributed.start_epoch(self.train_data_loader, epoch)
        num_batches, accumulation = len(self.train_data_loader), self.num_gradient_accumulation_steps
        loss_sum, trained_batches, images = torch.zeros((), device=self.device), 0, 0  # the sum stays on the device
        learning_rate_sums, start = [0.0] * len(self.optimizer.param_groups), time.monotonic()
        batches = enumerate(self.train_data_loader)
        for step in range(optimizer_steps_per_epoch(num_batches, accumulation)):
            micro_steps = min(accumulation, num_batches - step * accumulation)  # the last step may have fewer
            learning_rates = [group["lr"] for group in self.optimizer.param_groups]
            for micro_step in range(micro_steps):
                batch_index, batch = next(batches)
                for callback in hooks:
                    callback.on_batch_start(epoch, batch_index, batch)
                if batch is not None:
                    batch = {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}
                    # DDP all-reduces gradients in every backward pass outside no_sync: only the step's last is needed
                    syncs = micro_step == micro_steps - 1 or not distributed.is_distributed()
                    with contextlib.nullcontext() if syncs else model.no_sync():
                        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                            loss = model(**batch)["loss"]
                        self.grad_scaler.scale(loss / micro_steps).backward()  # the step sees the micro-batches' mean
                    loss_sum, trained_batches = loss_sum + loss.detach(), trained_batches + 1
                    images += len(batch["label"])
                self._end_batch(hooks, epoch, batch_index, learning_rates, loss_sum, trained_batches)
            if self.grad_norm is not None or self.grad_clipping is not None:
                self.grad_scaler.unscale_(self.optimizer)  # clip the true gradients, not the loss-scaled ones
            parameters = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
            if self.grad_clipping is not None:
                torch.nn.utils.clip_grad_value_(parameters, self.grad_clipping)
            if self.grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(parameters, self.grad_norm)
            self.grad_scaler.step(self.optimizer)
            self.grad_scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            if self.learning_rate_scheduler is not None:
                self.learning_rate_scheduler.step_batch()
            learning_rate_sums = [total + rate for total, rate in zip(learning_rate_sums, learning_rates)]
        seconds, steps = time.monotonic() - start, optimizer_steps_per_epoch(num_batches, accumulation)
        metrics = {"loss": loss_sum.item() / max(trained_batches, 1), **self.model.get_metrics(reset=True)}
        metrics = distributed.average_over_processes(metrics, images, self.device)
        images = int(distributed.sum_over_processes(images, self.device))
        return {**metrics, "num_images": images, "images_per_second": images / seconds,
                **named_learning_rates([total / max(steps, 1) for total in learning_rate_sums])}

    def _end_batch(self, hooks: List[TrainerCallback], epoch: int, batch_index: int, learning_rates: List[float],
                   loss_sum: torch.Tensor, trained_batches: int) -> None:
        """The callbacks' ``on_batch_end``; running metrics (a wait for the device) for those that ask."""
        wants_metrics = [callback.wants_batch_metrics(epoch, batch_index) for callback in hooks]
        metrics = {}
        if any(wants_metrics):
            metrics = {"loss": loss_sum.item() / max(trained_batches, 1), **self.model.get_metrics()}
            if self.should_log_learning_rate:
                metrics.update(named_learning_rates(learning_rates))
        for callback, wants in zip(hooks, wants_metrics):
            callback.on_batch_end(epoch, batch_index, learning_rates, metrics if wants else {})

    def _validate(self, epoch: int) -> Dict[str, float]:
        """``validation_loss`` (mean per batch), the model's metrics and ``num_images``, each named
        ``validation_<name>``: measured in process 0, the same in every process."""
        measured = self._measure_validation(epoch) if distributed.is_main_process() else None
        return {f"validation_{k}": v for k, v in distributed.broadcast_from_main(measured).items()}

    @torch.no_grad()
    def _measure_validation(self, epoch: int) -> Dict[str, float]:
        self.model.eval()
        total_loss, batches, images = torch.zeros((), device=self.device), 0, 0
        description = f"epoch {epoch + 1}/{self.num_epochs} validation"
        for batch in progress_bar(self.validation_data_loader, description, dynamic_ncols=True):
            if batch is not None:  # None: no readable image in the batch
                batch = {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}
                with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                    total_loss += self.model(**batch)["loss"].float()
                batches, images = batches + 1, images + len(batch["label"])
        return {"loss": total_loss.item() / max(batches, 1), **self.model.get_metrics(reset=True), "num_images": images}

    def _run_epoch(self, epoch: int, hooks: List[TrainerCallback]) -> None:
        """Train and validate ``epoch``, then record its metrics (every process agrees on them)
        and, in process 0, write its checkpoint and files."""
        self.prepare_epoch(epoch)
        for callback in hooks:
            callback.on_epoch_start(epoch)
        start = time.monotonic()
        training = self._train_epoch(epoch, hooks)
        metrics: Dict[str, Any] = {"epoch": epoch}
        metrics.update({f"training_{k}": v for k, v in training.items() if not k.startswith("lr_group_")})
        if self.validation_data_loader is not None:
            metrics.update(self._validate(epoch))
        metrics.update({k: v for k, v in training.items() if k.startswith("lr_group_")})
        for prefix, loader in (("training_", self.train_data_loader), ("validation_", self.validation_data_loader)):
            if hasattr(getattr(loader, "dataset", None), "skipped_files"):  # at the scan and (lazy) when decoded
                metrics[f"{prefix}num_skipped_files"] = len(loader.dataset.skipped_files)
        metrics["epoch_duration_seconds"] = time.monotonic() - start
        if self.learning_rate_scheduler is not None:
            self.learning_rate_scheduler.step_epoch()
        is_best = self.tracker.update(metrics[self.metric_key], epoch)
        self.history.append(metrics)
        if self.checkpointer is not None and distributed.is_main_process():
            self.checkpointer.save_epoch(epoch, self._parts(), self.tracker, self.history, is_best)
        for callback in hooks:
            callback.on_epoch_end(epoch, metrics)

    def _fit_linear_probe(self, hooks: List[TrainerCallback]) -> None:
        """LP-FT's probe (:func:`fit_linear_probe`); with validation data, the probed model is
        validated and recorded as epoch -1, a candidate for ``best.th``, and the callbacks get its
        ``on_epoch_end`` (no ``on_epoch_start``: it trains no batch)."""
        start = time.monotonic()
        fit_linear_probe(self.model, self.train_data_loader, self.device)
        if self.validation_data_loader is not None:
            metrics = {"epoch": -1, **self._validate(-1), "epoch_duration_seconds": time.monotonic() - start}
            is_best = self.tracker.update(metrics[self.metric_key], -1)
            self.history.append(metrics)
            if self.checkpointer is not None and distributed.is_main_process():
                self.checkpointer.write_epoch_files(self.model, self.history, is_best)
            for callback in hooks:
                callback.on_epoch_end(-1, metrics)

    def _parts(self) -> Dict[str, Any]:
        """What a checkpoint holds the ``state_dict`` of, by name (the scheduler may be ``None``)."""
        return {"model": self.model, "optimizer": self.optimizer,
                "learning_rate_scheduler": self.learning_rate_scheduler, "grad_scaler": self.grad_scaler}

    def train(self) -> Dict[str, Any]:
        """Train (from the newest checkpoint in ``serialization_dir``, if any) on
        :mod:`~allencv_lite.training.cpu_threads`' threads; returns :func:`final_metrics`, the model
        holding the best epoch's weights (with ``serialization_dir``). On Ctrl-C the callbacks'
        ``on_end`` gets the metrics so far, then the ``KeyboardInterrupt`` goes on."""
        loader_workers = getattr(self.train_data_loader, "num_workers", 0)
        with cpu_threads.training_thread_count(loader_workers, distributed.world_size(), self.num_threads):
            start = time.monotonic()
            state = (self.checkpointer.restore_latest(self._parts(), self.device, distributed.is_main_process())
                     if self.checkpointer is not None else None)
            first_epoch = state["epoch"] + 1 if state else 0
            if state:
                self.tracker, self.history = MetricTracker(**state["tracker"]), list(state["history"])
            costs = planned_epoch_costs(self.model, self.optimizer, self.learning_rate_scheduler, self.num_epochs)
            report = ProgressReport(self.metric_name, costs, keeps_best=self.checkpointer is not None)
            hooks = ([report] if distributed.is_main_process() else []) + self.callbacks
            for callback in hooks:
                callback.on_train_start(self.num_epochs, len(self.train_data_loader), first_epoch)
            if self.linear_probe_first and not state:
                self._fit_linear_probe(hooks)
            try:
                for epoch in range(first_epoch, self.num_epochs):
                    if self.tracker.is_out_of_patience(self.patience):
                        logger.info("No improvement in %d epochs; stopping early.", self.patience)
                        break
                    self._run_epoch(epoch, hooks)
            except KeyboardInterrupt:
                for callback in hooks:
                    callback.on_end(final_metrics(self.history, self.tracker, time.monotonic() - start))
                raise
            final = final_metrics(self.history, self.tracker, time.monotonic() - start)
            distributed.barrier()  # process 0 has written best.th
            if self.checkpointer is not None:
                self.checkpointer.load_best(self.model, self.device)
            for callback in hooks:
                callback.on_end(final)
            return final


Trainer.register("gradient_descent")(Trainer.from_partial_objects)
