"""The ONNX export: a graph that matches torch, a description that lets a standalone script and
the demo repeat the archive's answers, int8 with its report, and nothing written when it would not
be faithful. (The command line's side is in tests/commands/test_export_command.py.)"""
import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import onnxruntime
import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE, Vocabulary
from allencv_lite.export.onnx_export import PROBABILITY_TOLERANCE, export_onnx
from allencv_lite.models.archival import archive_model, load_archive
from allencv_lite.models.model import Model

DIGITS_VALIDATION_IMAGES = 358  # data_scripts/make_digits_dataset.py: 20 % of 1787


def test_the_export_matches_torch_on_every_validation_image(digits_export):
    assert digits_export.parity.images == DIGITS_VALIDATION_IMAGES
    assert digits_export.parity.agreements == DIGITS_VALIDATION_IMAGES
    assert digits_export.parity.max_difference <= PROBABILITY_TOLERANCE


def test_the_export_writes_the_graph_its_description_and_the_standalone_script_side_by_side(digits_export,
                                                                                            digits_archive):
    folder = digits_export.model_file.parent
    assert sorted(path.name for path in folder.iterdir()) == ["model.json", "model.onnx", "standalone_classify.py"]
    description = json.loads(digits_export.description_file.read_text())
    assert description["labels"] == [str(digit) for digit in range(10)]
    assert description["temperature"] == pytest.approx(float(load_archive(digits_archive).model.temperature))
    assert description["preprocessing"]["steps"] == [
        {"type": "resize", "height": 16, "width": 16},
        {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "max_pixel_value": 255.0}]
    assert description["verification"]["top1_agreement"] == 1.0


@pytest.mark.parametrize("batch_size", [1, 5, 33])
def test_the_exported_graph_takes_any_batch_size(digits_export, batch_size):
    session = onnxruntime.InferenceSession(str(digits_export.model_file), providers=["CPUExecutionProvider"])
    logits, probs = session.run(["logits", "probs"], {"image": np.zeros((batch_size, 3, 16, 16), np.float32)})
    assert logits.shape == probs.shape == (batch_size, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_the_demo_server_answers_from_the_onnx_file_as_from_the_archive(digits_export, digits_archive, digits_dir):
    from allencv_lite.export.onnx_model import load_model_file
    from allencv_lite.predictors.image_predictor import ImagePredictor
    from allencv_lite.service.server_simple import make_app

    picture = base64.b64encode(sorted((digits_dir / "val" / "7").iterdir())[0].read_bytes()).decode()

    def answer(model_file: Path) -> dict:
        client = make_app(ImagePredictor.from_archive(load_model_file(model_file))).test_client()
        response = client.post("/predict", json={"image": picture})
        assert response.status_code == 200
        return response.get_json()

    from_export, from_archive = answer(digits_export.model_file), answer(digits_archive)
    assert from_export["label"] == from_archive["label"]
    assert from_export["probabilities"] == pytest.approx(from_archive["probabilities"], abs=PROBABILITY_TOLERANCE)


# Run the script with these modules unimportable: only numpy, Pillow and onnxruntime may be used.
FORBIDDEN_MODULES = ("torch", "torchvision", "allencv_lite", "albumentations", "cv2", "timm")


def test_the_standalone_script_needs_neither_torch_nor_allencv_lite_and_matches_the_archive(
        digits_export, digits_archive, digits_dir, tmp_path):
    images = [str(path) for path in sorted((digits_dir / "val").glob("*/*.png"))]
    list_file = tmp_path / "images.txt"
    list_file.write_text("\n".join(images))
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in FORBIDDEN_MODULES)
    program = (f"import runpy, sys; {blocked}; sys.argv = ['standalone_classify.py', {str(digits_export.model_file)!r}]"
               f" + open({str(list_file)!r}).read().split(); "
               f"runpy.run_path({str(digits_export.script_file)!r}, run_name='__main__')")
    result = subprocess.run([sys.executable, "-I", "-c", program], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    standalone = [json.loads(line) for line in result.stdout.splitlines()]

    from allencv_lite.predictors.image_predictor import ImagePredictor

    predictor = ImagePredictor.from_archive(load_archive(digits_archive))
    archived = predictor.predict_batch_json([{"image_path": path} for path in images])
    assert [record["image"] for record in standalone] == images
    assert [record["label"] for record in standalone] == [record["label"] for record in archived]
    largest = max(abs(s["probabilities"][label] - a["probabilities"][label])
                  for s, a in zip(standalone, archived) for label in a["probabilities"])
    assert largest <= PROBABILITY_TOLERANCE


def test_int8_quantization_reports_its_agreement_and_accuracy_against_the_float_graph(digits_archive, tmp_path):
    result = export_onnx(digits_archive, tmp_path / "model.onnx", quantize="int8")
    report = result.quantization
    assert report.images == DIGITS_VALIDATION_IMAGES
    assert report.agreement >= 0.9  # measured 96.6 % on this model (calibrated on 128 training images)
    float_accuracy, int8_accuracy = report.accuracies
    assert abs(int8_accuracy - float_accuracy) <= 0.03
    description = json.loads(result.description_file.read_text())
    assert description["quantization"]["against_float"]["top1_agreement"] == report.agreement
    int8_ops = {node.op_type for node in __import__("onnx").load(str(result.model_file)).graph.node}
    assert "QuantizeLinear" in int8_ops and "DequantizeLinear" in int8_ops


# ---- bad models and bad preprocessing: nothing written --------------------------------------


@Model.register("scores_only_classifier")
class ScoresOnlyClassifier(Model):
    """A model whose forward returns ``scores``: nothing an export could call ``probs``."""

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__(vocab)
        self.linear = torch.nn.Linear(3, vocab.get_vocab_size(DEFAULT_NAMESPACE))

    def forward(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        return {"scores": self.linear(image.mean(dim=(2, 3)))}


@Model.register("noisy_classifier")
class NoisyClassifier(ScoresOnlyClassifier):
    """A model whose probabilities carry fresh noise at every call: onnxruntime cannot match torch."""

    def forward(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = self.linear(image.mean(dim=(2, 3)))
        return {"logits": logits, "probs": torch.softmax(logits + torch.randn_like(logits), dim=-1)}


@Model.register("tempered_classifier")
class TemperedClassifier(ScoresOnlyClassifier):
    """Probabilities with a temperature buffer, as BasicImageClassifier's temperature scaling keeps it."""

    def __init__(self, vocab: Vocabulary) -> None:
        super().__init__(vocab)
        self.register_buffer("temperature", torch.tensor(0.25))

    def forward(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        logits = self.linear(image.mean(dim=(2, 3)))
        return {"logits": logits, "probs": torch.softmax(logits / self.temperature, dim=-1)}


def archive_of(model_type: str, digits_dir: Path, folder: Path, extra_step: Optional[dict] = None,
               validation_data_path: Optional[Path] = None) -> Path:
    reader = {"type": "image_classification_directory",
              "augmentation": [{"type": "resize", "height": 16, "width": 16}] + ([extra_step] if extra_step else [])}
    config = {"dataset_reader": reader, "validation_dataset_reader": reader, "model": {"type": model_type},
              "validation_data_path": str(validation_data_path or digits_dir / "val")}
    vocab = Vocabulary.from_labels(str(digit) for digit in range(10))
    model = Model.from_params({"type": model_type}, "model", vocab=vocab)
    return archive_model(folder / "model.tar.gz", config, model.state_dict(), vocab)


def test_a_model_with_no_exportable_forward_is_refused(digits_dir, tmp_path):
    archive = archive_of("scores_only_classifier", digits_dir, tmp_path)
    with pytest.raises(ConfigurationError) as error:
        export_onnx(archive, tmp_path / "model.onnx")
    assert str(error.value) == (f"{archive}: the model (ScoresOnlyClassifier) has no exportable forward: forward(image) "
                                "must return 'logits' and 'probs' of shape (batch, 10), got {'scores': (2, 10)}.")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.tar.gz"]


def test_a_failed_check_names_the_worst_image_and_leaves_the_previous_export_untouched(digits_dir, tmp_path):
    archive = archive_of("noisy_classifier", digits_dir, tmp_path)
    previous = tmp_path / "model.onnx"
    previous.write_bytes(b"the previous export")
    images = sorted((digits_dir / "val" / "3").iterdir())[:8]
    with pytest.raises(ConfigurationError) as error:
        export_onnx(archive, previous, check_images=images)
    message = str(error.value)
    assert message.startswith(f"{archive} was not exported: onnxruntime does not match torch")
    assert "worst image " + str(digits_dir / "val" / "3") in message
    assert message.endswith("Nothing was written.")
    assert previous.read_bytes() == b"the previous export"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.onnx", "model.tar.gz"]


def test_a_validation_step_the_json_cannot_describe_is_named(digits_dir, tmp_path):
    archive = archive_of("noisy_classifier", digits_dir, tmp_path, extra_step={"type": "clahe", "p": 1.0})
    with pytest.raises(ConfigurationError, match=re.escape(
            f"{archive}: validation_dataset_reader.augmentation[1] (CLAHE) cannot be written for use without "
            "allencv-lite; an export supports resize, smallest_max_size")):
        export_onnx(archive, tmp_path / "model.onnx")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.tar.gz"]


def test_validation_images_missing_from_this_machine_ask_for_check_images(digits_dir, tmp_path):
    archive = archive_of("noisy_classifier", digits_dir, tmp_path, validation_data_path=tmp_path / "gone")
    with pytest.raises(ConfigurationError) as error:
        export_onnx(archive, tmp_path / "model.onnx")
    assert str(error.value) == (f"{archive}: its validation images {tmp_path / 'gone'} are not on this machine; pass "
                                "--check-images with images or folders of images (<root>/<label>/<image>) to verify "
                                "the export on.")


def test_the_temperature_travels_in_the_graph_and_is_recorded_in_the_json(digits_dir, tmp_path):
    archive = archive_of("tempered_classifier", digits_dir, tmp_path)
    images = sorted((digits_dir / "val" / "5").iterdir())[:8]
    result = export_onnx(archive, tmp_path / "model.onnx", check_images=images)
    assert json.loads(result.description_file.read_text())["temperature"] == 0.25
    assert result.parity.max_difference <= PROBABILITY_TOLERANCE  # the probabilities with the temperature
    session = onnxruntime.InferenceSession(str(result.model_file), providers=["CPUExecutionProvider"])
    logits, probs = session.run(["logits", "probs"], {"image": np.random.default_rng(0).normal(
        size=(4, 3, 16, 16)).astype(np.float32)})
    np.testing.assert_allclose(probs, torch.softmax(torch.from_numpy(logits) / 0.25, dim=-1).numpy(), atol=1e-6)


def test_a_missing_onnx_extra_is_one_line_with_the_install_command(monkeypatch):
    import importlib.util

    from allencv_lite.export.onnx_model import require_onnx_extra

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else find_spec(name, *a))
    with pytest.raises(ConfigurationError) as error:
        require_onnx_extra()
    assert str(error.value) == ("ONNX export and .onnx files need the optional packages onnxscript: "
                                'pip install -c constraints.txt -e ".[onnx]" (from the repository root).')


@pytest.mark.parametrize("name", ["digits.jsonnet", "config.json"])
def test_a_config_given_as_the_model_gets_the_one_message_the_archive_loader_owns(tmp_path, name):
    from allencv_lite.export.onnx_model import load_model_file

    config = tmp_path / name
    config.write_text('{"model": {}}')
    with pytest.raises(ConfigurationError) as from_archive:
        load_archive(config)
    with pytest.raises(ConfigurationError) as from_model_file:
        load_model_file(config)
    assert str(from_model_file.value) == str(from_archive.value)
    assert str(from_archive.value).startswith(f"{config} is a training config, not a trained model's archive")
