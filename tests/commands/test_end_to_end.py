"""The whole path from a config to a prediction, through the command line."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from allencv_lite.commands import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env_vars: dict = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    import os
    env = {**os.environ, **(env_vars or {})}
    return subprocess.run([sys.executable, "-m", "allencv_lite", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=900)


def test_digits_config_trains_and_predicts_the_heldout_images(digits_dir, tmp_path):
    serialization_dir = tmp_path / "run"
    trained = run_cli("train", str(REPO / "training_config/digits.jsonnet"), "-s", str(serialization_dir),
                      "-o", '{"trainer": {"num_epochs": 3}}',
                      env_vars={"TRAIN_PATH": str(digits_dir / "train"), "VALIDATION_PATH": str(digits_dir / "val")})
    assert trained.returncode == 0, trained.stderr[-3000:]
    for name in ("config.json", "best.th", "metrics.json", "metrics_epoch_2.json", "vocabulary/labels.txt",
                 "model.tar.gz"):
        assert (serialization_dir / name).exists(), name
    metrics = json.loads((serialization_dir / "metrics.json").read_text())
    assert metrics["best_validation_accuracy"] > 0.8

    predicted = run_cli("predict", str(serialization_dir / "model.tar.gz"), str(digits_dir / "heldout.jsonl"),
                        "--output-file", str(tmp_path / "predictions.jsonl"))
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    lines = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert len(lines) == 10
    assert sorted(lines[0]["probabilities"]) == [str(d) for d in range(10)]
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    correct = sum(line["label"] == str(digit) for digit, line in enumerate(lines))
    assert correct >= 7
    assert (tmp_path / "predictions.jsonl").read_text().count("\n") == 10


def test_train_refuses_a_non_empty_serialization_dir(digits_dir, tmp_path, capsys, monkeypatch):
    (tmp_path / "old.txt").write_text("keep me")
    monkeypatch.setenv("TRAIN_PATH", str(digits_dir / "train"))
    monkeypatch.setenv("VALIDATION_PATH", str(digits_dir / "val"))
    status = main(["train", str(REPO / "training_config/digits.jsonnet"), "-s", str(tmp_path)])
    assert status == 2
    assert "is not empty" in capsys.readouterr().err
    assert (tmp_path / "old.txt").read_text() == "keep me"


def test_config_error_stops_before_training_with_the_key_path(digits_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TRAIN_PATH", str(digits_dir / "train"))
    monkeypatch.setenv("VALIDATION_PATH", str(digits_dir / "val"))
    status = main(["train", str(REPO / "training_config/digits.jsonnet"), "-s", str(tmp_path / "run"),
                   "-o", '{"model": {"im2im_encoder": {"type": "resnett"}}}'])
    assert status == 2
    error = capsys.readouterr().err
    assert "model.im2im_encoder.type" in error and "Did you mean 'resnet'?" in error
    assert not (tmp_path / "run" / "best.th").exists()


def test_cats_and_dogs_subset_trains_and_predicts_from_the_archive(cats_dogs_dir, tmp_path):
    subset = tmp_path / "subset"
    for split, count in (("train", 60), ("val", 20)):
        for label in ("Cat", "Dog"):
            folder = subset / split / label
            folder.mkdir(parents=True)
            for photo in sorted((cats_dogs_dir / split / label).iterdir())[:count]:
                (folder / photo.name).symlink_to(photo)
    overrides = json.dumps({"trainer": {"num_epochs": 2}, "model": {"im2im_encoder": {"stage_channels": [8, 16]}}})
    trained = run_cli("train", str(REPO / "training_config/cats_dogs_cpu.jsonnet"), "-s", str(tmp_path / "run"),
                      "-o", overrides,
                      env_vars={"TRAIN_PATH": str(subset / "train"), "VALIDATION_PATH": str(subset / "val")})
    assert trained.returncode == 0, trained.stderr[-3000:]
    photo = sorted((cats_dogs_dir / "val" / "Dog").iterdir())[0]
    predicted = subprocess.run([sys.executable, "-m", "allencv_lite", "predict", str(tmp_path / "run/model.tar.gz"), "-"],
                               input=json.dumps({"image_path": str(photo)}) + "\n", capture_output=True, text=True)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    output = json.loads(predicted.stdout)
    assert set(output["probabilities"]) == {"Cat", "Dog"}
    assert output["label"] in ("Cat", "Dog")
