"""Progress bars: nothing in a log file, log records on lines of their own in a terminal."""
import contextlib
import io
import logging
import sys

import pytest
import torch

from allencv_lite.common.progress import NotebookProgressBar, TerminalProgressBar, progress_bar
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.interpret.interpretation import dataset_logits
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.modules.im2im_encoders.feedforward_encoder import FeedforwardEncoder
from allencv_lite.modules.im2vec_encoders.flatten_encoder import FlattenEncoder
from allencv_lite.training.trainer import Trainer


class Terminal(io.StringIO):
    """Standard error as a terminal (``isatty`` true), keeping every character written."""

    def isatty(self) -> bool:
        return True


def screen(text: str) -> list:
    """The lines a terminal shows for ``text``: ``\\r`` returns to the start of the line and
    what follows overwrites it; ``\\n`` starts a new line (trailing spaces dropped)."""
    lines, line, column = [], [], 0
    for character in text:
        if character == "\n":
            lines.append("".join(line).rstrip())
            line, column = [], 0
        elif character == "\r":
            column = 0
        else:
            line[column:column + 1] = [character]
            column += 1
    lines.append("".join(line).rstrip())
    return lines


@contextlib.contextmanager
def terminal_as_standard_error(monkeypatch):
    """Standard error replaced by a :class:`Terminal`, with the root logger printing to it as
    ``logging.basicConfig`` (the ``allencv-lite`` command) sets it up. Entered inside the test:
    pytest's output capture sets ``sys.stderr`` again between a fixture and its test."""
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def test_a_bar_writes_nothing_when_standard_error_is_not_a_terminal(capsys):
    for _ in progress_bar(range(50), "epoch 1/3 train"):
        pass
    assert capsys.readouterr().err == ""


def test_a_bar_in_a_terminal_clears_its_line_when_done(monkeypatch):
    with terminal_as_standard_error(monkeypatch) as terminal:
        for _ in progress_bar(range(5), "epoch 1/3 train"):
            pass
    assert "epoch 1/3 train" in terminal.getvalue()
    assert screen(terminal.getvalue()) == [""]


def test_a_log_record_written_under_a_bar_gets_a_line_of_its_own(monkeypatch):
    with terminal_as_standard_error(monkeypatch) as terminal:
        bar = progress_bar(range(10), "epoch 1/3 train")
        assert isinstance(bar, TerminalProgressBar)
        for step in bar:
            if step == 4:
                logging.getLogger("allencv_lite.data").warning("skipped 1 unreadable image: cat.1.jpg is empty")
    written = terminal.getvalue()
    assert written.index("epoch 1/3 train:") < written.index("WARNING")  # the bar was on screen
    assert screen(terminal.getvalue()) == ["WARNING allencv_lite.data: skipped 1 unreadable image: cat.1.jpg is empty",
                                           ""]


def test_after_the_bar_log_records_go_to_the_terminal_directly_again(monkeypatch):
    with terminal_as_standard_error(monkeypatch) as terminal:
        for _ in progress_bar(range(3), "epoch 1/3 train"):
            pass
        assert type(logging.getLogger().handlers[-1]) is logging.StreamHandler
        logging.getLogger("allencv_lite.training").warning("done")
    assert screen(terminal.getvalue())[-2:] == ["WARNING allencv_lite.training: done", ""]


def test_training_with_standard_error_in_a_file_writes_no_bar_frames(capsys):
    model = tiny_classifier()
    data = [{"image": torch.randn(4, 3, 8, 8), "label": torch.randint(0, 2, (4,))} for _ in range(3)]
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), data, validation_data_loader=data[:1],
            num_epochs=2, cuda_device=-1).train()
    assert capsys.readouterr().err == ""


def test_a_notebook_bar_shows_no_text_and_leaves_an_empty_output_when_done(displayed):
    for _ in NotebookProgressBar(range(4), desc="epoch 1/3 train"):
        pass
    shown, finished = displayed
    assert "application/vnd.jupyter.widget-view+json" in shown["data"] and shown["data"]["text/plain"] == ""
    assert finished == {"data": {"text/plain": ""}, "metadata": {}, "transient": shown["transient"], "update": True}


class InterruptedAt:
    """A data loader (or dataset) whose item ``at`` is a Ctrl-C: the user pressed it there."""

    def __init__(self, items, at):
        self.items, self.at = items, at

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        if index == self.at:
            raise KeyboardInterrupt
        return self.items[index]

    def __iter__(self):
        return (self[index] for index in range(len(self)))


def tiny_classifier():
    vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
    return BasicImageClassifier(vocab, FlattenEncoder(input_channels=4), FeedforwardEncoder(hidden_channels=[4]))


def evaluate_interrupted(model):
    images = [{"image": torch.randn(3, 8, 8), "label": torch.tensor(0)} for _ in range(4)]
    dataset_logits(model, InterruptedAt(images, at=2), batch_size=1)


def train_interrupted(model, in_validation=False):
    batches = [{"image": torch.randn(4, 3, 8, 8), "label": torch.randint(0, 2, (4,))} for _ in range(3)]
    train, validation = (batches, InterruptedAt(batches, at=1)) if in_validation else (InterruptedAt(batches, 1), batches)
    Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), train, validation_data_loader=validation,
            num_epochs=2, cuda_device=-1).train()


@pytest.mark.parametrize("interrupted", [evaluate_interrupted, train_interrupted,
                                         lambda model: train_interrupted(model, in_validation=True)],
                         ids=["evaluate", "train", "validation"])
def test_a_bar_stopped_by_ctrl_c_is_cleared_before_the_interruption_is_reported(monkeypatch, interrupted):
    model = tiny_classifier()
    with terminal_as_standard_error(monkeypatch) as terminal:
        with pytest.raises(KeyboardInterrupt):  # keeps the traceback, and every object it holds, alive
            interrupted(model)
        print("allencv-lite: interrupted.", file=sys.stderr)
    assert screen(terminal.getvalue())[-2:] == ["allencv-lite: interrupted.", ""]
