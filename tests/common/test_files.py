"""Atomic writes: one mechanism for every file the trainer and the commands write."""
import os
from pathlib import Path

import pytest

from allencv_lite.common.files import atomic_writer, write_text_atomically


def test_a_failure_while_writing_leaves_the_old_file_whole_and_no_partial_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_text_atomically('{"epoch": 0}', target)
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_writer(target) as file:
            file.write('{"epo')
            raise RuntimeError("killed")
    assert target.read_text() == '{"epoch": 0}'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.json"]


def test_every_file_a_training_run_writes_arrives_by_an_atomic_rename(digits_dir, tmp_path, monkeypatch):
    from allencv_lite.training.from_config import train_model
    from tests.helpers.digits_config import tiny_digits_config

    renamed = set()
    original_replace = os.replace

    def recording_replace(source, destination):
        renamed.add(Path(destination))
        original_replace(source, destination)

    monkeypatch.setattr(os, "replace", recording_replace)
    run = tmp_path / "run"
    train_model(tiny_digits_config(digits_dir, num_epochs=2), run)
    written = {path for path in run.rglob("*") if path.is_file()}
    assert {path.relative_to(run).as_posix() for path in written} >= {
        "config.json", "vocabulary/labels.txt", "checkpoints/epoch_1.th", "metrics_epoch_0.json", "metrics.csv",
        "best.th", "metrics.json", "skipped_files.csv", "model.tar.gz"}
    assert written - renamed == set()
