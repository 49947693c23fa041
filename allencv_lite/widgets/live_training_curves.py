"""Loss, accuracy and learning rates drawn while the trainer runs."""
import sys
import time
from typing import IO, Any, Dict, List, Optional, Tuple

import ipywidgets as widgets
from matplotlib.figure import Figure

from allencv_lite.common.progress import running_in_notebook
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.widgets.image_encoding import figure_bytes
from allencv_lite.widgets.saved_picture import SavedPicture

Point = Tuple[float, float]  # (epoch, value); epoch is fractional for batches (1.5 = half way through epoch 2)


@TrainerCallback.register("live_training_curves")
class LiveTrainingCurves(SavedPicture, widgets.VBox, TrainerCallback):
    """A trainer callback that plots training as it happens.

    One figure of three panels, redrawn in place (an ``ipywidgets.Image`` whose bytes are
    replaced, so there is no flicker and no second copy): loss and accuracy (the running
    value of the current epoch after each batch, and the epoch's training and validation
    values), and the learning rate of each parameter group after each batch. Batches redraw
    at most once per ``redraw_interval`` seconds, and never sooner than 4 drawing times after
    the last redraw (so drawing takes at most a fifth of the time on a slow machine); each
    epoch's end always redraws. A status line gives the latest numbers. The linear probe's
    validation (epoch -1, before any batch) is shown as epoch 0.

    Outside a notebook (a terminal, a script) nothing is drawn: one line per epoch is
    printed to ``stream`` instead.

    One line in a notebook: ``Trainer(..., callbacks=[LiveTrainingCurves()])``, or
    ``{"type": "live_training_curves"}`` in the trainer's ``callbacks``; the panel shows itself
    in the cell's output when training starts. It asks for the running metrics after every
    batch (:meth:`wants_batch_metrics`). The saved notebook keeps the
    figure as of the last finished epoch (see :class:`SavedPicture`).

    Args:
        redraw_interval: least time between redraws after batches, in seconds.
        notebook: draw widgets (true) or print text (false); ``None`` decides by whether
            this runs in a Jupyter kernel.
        stream: where the text lines go (default: standard output); from Python only.
        display_on_start: show the panel in the cell's output when training starts; false for
            a panel placed inside another widget (the :class:`ImageCollector`).

    Attributes:
        batch_metrics: ``{"loss": [(epoch, value), ...], "accuracy": [...]}`` after each batch.
        epoch_metrics: one dict per finished epoch, as the trainer reported it.
        learning_rates: ``{group index: [(epoch, lr), ...]}`` after each batch.
        plot: the ``ipywidgets.Image`` (PNG) of the figure; ``status``: the ``HTML`` line.
    """

    def __init__(self, redraw_interval: float = 1.0, notebook: Optional[bool] = None,
                 stream: Optional[IO[str]] = None, display_on_start: bool = True) -> None:
        self.notebook = running_in_notebook() if notebook is None else notebook
        self.redraw_interval = redraw_interval
        self.stream = stream
        self.batch_metrics: Dict[str, List[Point]] = {"loss": [], "accuracy": []}
        self.epoch_metrics: List[Dict[str, float]] = []
        self.learning_rates: Dict[int, List[Point]] = {}
        self.plot = widgets.Image(format="png", layout=widgets.Layout(width="100%", max_width="960px"))
        self.status = widgets.HTML("waiting for the first batch…")
        super().__init__([self.status, self.plot])
        self.add_class("allencv-live-training-curves")
        self._figure = Figure(figsize=(12, 3.4), dpi=80)  # fixed margins: a layout engine doubles the drawing time
        self._loss_axes, self._accuracy_axes, self._lr_axes = self._figure.subplots(1, 3)
        self._figure.subplots_adjust(left=0.05, right=0.99, bottom=0.14, top=0.91, wspace=0.22)
        self._num_epochs = 0
        self._num_batches_per_epoch = 1
        self._next_draw = float("-inf")
        self._shown = not display_on_start
        self._draw()

    # --- TrainerCallback -------------------------------------------------------------------
    def wants_batch_metrics(self, epoch: int, batch_index: int) -> bool:
        return True

    def on_train_start(self, num_epochs: int, num_batches_per_epoch: int, first_epoch: int) -> None:
        self._num_epochs = num_epochs
        self._num_batches_per_epoch = max(num_batches_per_epoch, 1)

    def on_epoch_start(self, epoch: int) -> None:
        self._show()

    def _show(self) -> None:
        """Display the panel in the notebook once, when the first epoch starts (or, for the linear
        probe alone, ends)."""
        if self.notebook and not self._shown:
            from IPython.display import display

            display(self)
            self._shown = True

    def on_batch_end(self, epoch: int, batch_index: int, learning_rates: List[float],
                     metrics: Dict[str, float]) -> None:
        batches = self._num_batches_per_epoch
        position = epoch + (batch_index + 1) / batches
        for name in self.batch_metrics:
            if name in metrics:
                self.batch_metrics[name].append((position, metrics[name]))
        for group, rate in enumerate(learning_rates):
            self.learning_rates.setdefault(group, []).append((position, rate))
        if self.notebook:
            self.status.value = (f"epoch {epoch + 1}/{self._num_epochs} · batch {batch_index + 1}/{batches} · "
                                 + " · ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
            if time.monotonic() >= self._next_draw:
                self._draw()

    def on_epoch_end(self, epoch: int, metrics: Dict[str, float]) -> None:
        self._show()  # the probe's epoch -1 ends without having started
        self.epoch_metrics.append(dict(metrics))
        line = self._epoch_summary(epoch, metrics)
        if self.notebook:
            self.status.value = line
            self._draw()
            self.refresh_saved_picture()
        else:
            print(line, file=self.stream or sys.stdout, flush=True)

    def on_end(self, metrics: Dict[str, float]) -> None:
        if self.notebook:
            self._draw()
            self.refresh_saved_picture()

    # --- display ------------------------------------------------------------------------------
    def _epoch_summary(self, epoch: int, metrics: Dict[str, float]) -> str:
        shown = [(f"{split} {name}", metrics[f"{split}_{name}"]) for split in ("training", "validation")
                 for name in ("loss", "accuracy") if f"{split}_{name}" in metrics]
        text = (f"epoch {epoch + 1}/{self._num_epochs}" + (" (linear probe)" if epoch < 0 else "") + ": "
                + ", ".join(f"{name} {value:.4f}" for name, value in shown))
        if "epoch_duration_seconds" in metrics:
            text += f" ({metrics['epoch_duration_seconds']:.1f} s)"
        return text

    def _epoch_points(self, key: str) -> List[Point]:
        return [(m["epoch"] + 1, m[key]) for m in self.epoch_metrics if key in m and "epoch" in m]

    def _draw(self) -> None:
        started = time.monotonic()
        for axes, name in ((self._loss_axes, "loss"), (self._accuracy_axes, "accuracy")):
            axes.clear()
            axes.set_title(name)
            axes.set_xlabel("epoch")
            self._line(axes, self.batch_metrics[name], "-", "training (running, per batch)", alpha=0.5)
            self._line(axes, self._epoch_points(f"training_{name}"), "o-", "training (epoch)")
            self._line(axes, self._epoch_points(f"validation_{name}"), "s-", "validation (epoch)")
            if axes.lines:
                axes.legend(loc="best", fontsize="small")
        self._lr_axes.clear()
        self._lr_axes.set_title("learning rate per parameter group")
        self._lr_axes.set_xlabel("epoch")
        for group, points in self.learning_rates.items():
            self._line(self._lr_axes, points, "-", f"group {group}")
        if self.learning_rates:
            if all(lr > 0 for points in self.learning_rates.values() for _, lr in points):
                self._lr_axes.set_yscale("log")
            self._lr_axes.legend(loc="best", fontsize="small")
        self.plot.value = figure_bytes(self._figure, "png")
        finished = time.monotonic()
        self._next_draw = finished + max(self.redraw_interval, 4 * (finished - started))

    @staticmethod
    def _line(axes: Any, points: List[Point], style: str, label: str, **options: Any) -> None:
        if points:
            xs, ys = zip(*points)
            axes.plot(xs, ys, style, label=label, **options)

    def picture(self) -> Tuple[str, bytes]:
        """The figure as drawn last (PNG)."""
        return "image/png", self.plot.value

    def _repr_mimebundle_(self, **kwargs: Any) -> Dict[str, Any]:
        self._shown = True
        return super()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"LiveTrainingCurves(epochs_seen={len(self.epoch_metrics)})"
