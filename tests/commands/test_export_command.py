"""``allencv-lite export``, and ``predict`` and ``evaluate`` on its ``.onnx`` file: the archive's
answers, and one line for each bad input."""
import json
import logging
from pathlib import Path

import pytest

from allencv_lite.commands import main
from allencv_lite.export.onnx_export import PROBABILITY_TOLERANCE


def test_export_prints_its_check_and_where_it_wrote(digits_archive, digits_dir, tmp_path, capsys):
    images = str(digits_dir / "val" / "4")
    assert main(["export", str(digits_archive), "--format", "onnx", "--output-file", str(tmp_path / "model.onnx"),
                 "--check-images", images]) == 0
    check, written = capsys.readouterr().out.splitlines()
    assert check.startswith("onnxruntime vs torch on 36 images: top-1 agrees on 36 (100.0 %), max |Δp| = ")
    assert written == (f"Wrote {tmp_path / 'model.onnx'}, model.json and standalone_classify.py "
                       f"(python {tmp_path / 'standalone_classify.py'} {tmp_path / 'model.onnx'} IMAGE...).")


def test_export_keeps_the_exporters_and_quantizers_info_records_out_of_the_log(digits_archive, digits_dir, tmp_path,
                                                                               caplog, capsys):
    # onnxscript's optimizer logs each pass ("onnx_ir.passes.common.unused_removal: Removed 20 unused
    # nodes"), onnxruntime's quantizer its shape inference, both at INFO.
    caplog.set_level(logging.INFO)
    images = str(digits_dir / "val" / "4")
    assert main(["export", str(digits_archive), "--output-file", str(tmp_path / "model.onnx"), "--check-images",
                 images, "--quantize", "int8", "--calibration-images", images]) == 0
    assert [f"{record.name}: {record.getMessage()}" for record in caplog.records
            if record.levelno < logging.WARNING and not record.name.startswith("allencv_lite")] == []
    assert "[torch.onnx]" not in capsys.readouterr().out
    assert all(logging.getLogger(name).level == logging.NOTSET for name in ("onnxscript", "onnx_ir", "onnxruntime"))


def predicted(arguments, capsys) -> list:
    assert main(["predict", *arguments]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_predict_on_the_onnx_file_gives_the_archives_records(digits_export, digits_archive, digits_dir, capsys):
    images = [str(path) for path in sorted((digits_dir / "heldout").iterdir())]
    from_export = predicted([str(digits_export.model_file), *images, "--batch-size", "4"], capsys)
    from_archive = predicted([str(digits_archive), *images, "--batch-size", "4"], capsys)
    assert [record["label"] for record in from_export] == [record["label"] for record in from_archive]
    assert [record["path"] for record in from_export] == images
    for exported, archived in zip(from_export, from_archive):
        for label, probability in archived["probabilities"].items():
            assert exported["probabilities"][label] == pytest.approx(probability, abs=PROBABILITY_TOLERANCE)


def test_an_explanation_of_an_onnx_prediction_says_to_use_the_archive(digits_export, digits_dir, tmp_path, capsys):
    source = tmp_path / "explain.jsonl"
    image = str(sorted((digits_dir / "heldout").iterdir())[0])
    source.write_text(json.dumps({"image_path": image, "explain": True}) + "\n")
    assert main(["predict", str(digits_export.model_file), str(source)]) == 1
    record = json.loads(capsys.readouterr().err.splitlines()[0])
    assert record["error"].startswith("Grad-CAM needs the model's layers and gradients, and this model has none (an "
                                      "ONNX export, run by onnxruntime)")


def test_evaluate_on_the_onnx_file_gives_the_archives_accuracy(digits_export, digits_archive, digits_dir, capsys):
    def accuracy(model_file: Path) -> str:
        assert main(["evaluate", str(model_file), str(digits_dir / "val")]) == 0
        return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("accuracy"))

    assert accuracy(digits_export.model_file) == accuracy(digits_archive)


def error_line(arguments, capsys) -> str:
    assert main(arguments) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_exporting_a_config_says_to_train_it_first(tmp_path, capsys):
    line = error_line(["export", "training_config/digits.jsonnet", "--output-file", str(tmp_path / "m.onnx")], capsys)
    assert "training_config/digits.jsonnet is a training config, not a trained model's archive: train it first" in line
    assert not list(tmp_path.iterdir())


def test_exporting_a_corrupt_archive_says_so(digits_archive, tmp_path, capsys):
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(digits_archive.read_bytes()[:2000])
    line = error_line(["export", str(corrupt), "--output-file", str(tmp_path / "m.onnx")], capsys)
    assert f"Archive {corrupt} is corrupt or truncated" in line
    assert sorted(path.name for path in tmp_path.iterdir()) == ["corrupt.tar.gz"]


def test_an_onnx_file_without_its_description_says_what_is_missing(digits_export, tmp_path, capsys):
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(digits_export.model_file.read_bytes())
    line = error_line(["predict", str(lonely), "image.png"], capsys)
    assert line == (f"allencv-lite: error: {lonely} has no lonely.json beside it, which says how to prepare images "
                    "for it; `allencv-lite export` writes both: copy lonely.json with it, or export again.")


def test_the_output_file_must_end_in_onnx(digits_archive, tmp_path, capsys):
    line = error_line(["export", str(digits_archive), "--output-file", str(tmp_path / "model.bin")], capsys)
    assert "must end in .onnx" in line


