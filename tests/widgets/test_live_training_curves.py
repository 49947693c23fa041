"""LiveTrainingCurves: one figure updated in place in a notebook, one line per epoch elsewhere."""
import io

import pytest
import torch

from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.modules.im2vec_encoders.flatten_encoder import FlattenEncoder
from allencv_lite.training.trainer import Trainer
from allencv_lite.widgets import LiveTrainingCurves


def test_records_every_batch_and_epoch_of_a_real_training_run(small_trainer):
    curves = LiveTrainingCurves(notebook=False, stream=io.StringIO())
    small_trainer(curves, num_epochs=2, batches=3).train()
    assert [epoch for epoch, _ in curves.batch_metrics["loss"]] == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert [m["epoch"] for m in curves.epoch_metrics] == [0, 1]
    assert set(curves.learning_rates) == {0, 1}
    assert [lr for _, lr in curves.learning_rates[1]] == [1e-2] * 6


def test_prints_one_line_per_epoch_outside_a_notebook(small_trainer):
    stream = io.StringIO()
    curves = LiveTrainingCurves(notebook=False, stream=stream)
    small_trainer(curves, num_epochs=2).train()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: training loss ")
    assert "validation accuracy" in lines[1]


def test_in_a_notebook_one_figure_is_shown_once_and_redrawn_in_place(monkeypatch, decode_png, small_trainer):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))
    curves = LiveTrainingCurves(notebook=True, redraw_interval=0.0)
    children, first_png = curves.children, curves.plot.value
    small_trainer(curves, num_epochs=2).train()
    assert shown == [curves]
    assert curves.children == children
    assert curves.plot.value != first_png
    assert decode_png(curves.plot.value).shape == (272, 960, 3)  # 12 x 3.4 inches at 80 dpi
    loss_axes, accuracy_axes, lr_axes = curves._figure.axes
    assert [line.get_label() for line in loss_axes.lines] == [
        "training (running, per batch)", "training (epoch)", "validation (epoch)"]
    assert [line.get_label() for line in lr_axes.lines] == ["group 0", "group 1"]
    assert lr_axes.get_yscale() == "log"


def test_epoch_end_writes_the_status_line_in_a_notebook():
    curves = LiveTrainingCurves(notebook=True)
    curves.on_train_start(num_epochs=3, num_batches_per_epoch=3, first_epoch=0)
    curves.on_epoch_end(0, {"epoch": 0, "training_loss": 0.69314, "training_accuracy": 0.5,
                                     "validation_loss": 0.6, "validation_accuracy": 0.75,
                                     "epoch_duration_seconds": 2.04})
    assert curves.status.value == ("epoch 1/3: training loss 0.6931, training accuracy 0.5000, "
                                   "validation loss 0.6000, validation accuracy 0.7500 (2.0 s)")


def test_a_run_of_the_linear_probe_alone_is_shown_as_epoch_0(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))
    torch.manual_seed(0)
    model = BasicImageClassifier(Vocabulary({"labels": {"a": 1, "b": 1}}),
                                 FlattenEncoder(input_channels=3, input_height=8, input_width=8))
    data = [{"image": torch.randn(4, 3, 8, 8), "label": torch.tensor([0, 1, 0, 1])} for _ in range(3)]
    curves = LiveTrainingCurves(notebook=True)
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), data, validation_data_loader=data[:1], num_epochs=0,
            cuda_device=-1, calibrate=False, linear_probe_first=True, callbacks=[curves]).train()
    assert shown == [curves]
    assert curves.status.value.startswith("epoch 0/0 (linear probe): validation loss ")
    loss_axes, accuracy_axes, _ = curves._figure.axes
    (validation,) = accuracy_axes.lines
    assert validation.get_label() == "validation (epoch)" and list(validation.get_xdata()) == [0]


def test_displaying_it_first_keeps_training_from_showing_a_second_copy(monkeypatch, small_trainer):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objects: shown.extend(objects))
    curves = LiveTrainingCurves(notebook=True)
    bundle = curves._repr_mimebundle_()
    small_trainer(curves, num_epochs=1).train()
    assert bundle["text/plain"] == "LiveTrainingCurves (a live panel when the notebook runs; saved as a picture)"
    assert shown == []


def test_batches_redraw_no_more_often_than_the_interval_but_every_epoch_end_does(small_trainer):
    curves = LiveTrainingCurves(notebook=True, redraw_interval=3600.0)
    draws = []
    draw = curves._draw
    curves._draw = lambda: (draws.append(1), draw())
    curves._shown = True
    small_trainer(curves, num_epochs=2, batches=3).train()
    assert len(draws) == 3  # the end of epoch 1, of epoch 2, and of training; no batch


def test_with_no_interval_every_batch_redraws():
    curves = LiveTrainingCurves(notebook=True, redraw_interval=0.0)
    draws = []
    draw = curves._draw
    curves._draw = lambda: (draws.append(1), draw())
    curves._next_draw = float("-inf")
    curves._shown = True
    curves.on_train_start(num_epochs=2, num_batches_per_epoch=3, first_epoch=0)
    curves.on_batch_end(0, 0, [1e-4, 1e-2], {"loss": 0.7, "accuracy": 0.5})
    assert len(draws) == 1
