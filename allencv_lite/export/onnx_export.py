"""``allencv-lite export``: a trained model as ONNX, checked against PyTorch before it is written.

:func:`export_onnx` writes three files side by side::

    model.onnx               the graph: image (batch, 3, height, width) -> logits, probs (batch, labels)
    model.json               labels, temperature, and the preprocessing (see :mod:`.preprocessing`)
    standalone_classify.py   a script that classifies images with both, without this package

The graph comes from torch's dynamo exporter (``torch.onnx.export(..., dynamo=True)``, the default
since torch 2.9) with a dynamic batch axis; ``probs`` is the model's own output, so it carries the
temperature. The export verifies itself, as timm's ``onnx_validate.py`` does: torch and onnxruntime
classify the same prepared validation images (or ``check_images``), and nothing is written unless
the most probable label agrees on every image and no probability differs by more than
:data:`PROBABILITY_TOLERANCE`. Every file is written atomically
(:func:`~allencv_lite.common.files.atomic_writer`), so a failed export leaves none behind.
"""
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import torch

import allencv_lite
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import write_bytes_atomically, write_text_atomically
from allencv_lite.common.logs import warnings_only_from
from allencv_lite.data.dataset import Sample
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.export.onnx_model import ONNX_SUFFIX, description_file, load_model_file, require_onnx_extra
from allencv_lite.export.parity import (ParityReport, compare_on_images, images_to_check, onnx_probabilities,
                                        torch_probabilities)
from allencv_lite.export.preprocessing import describe_preprocessing
from allencv_lite.models.archival import Archive
from allencv_lite.models.model import Model

PROBABILITY_TOLERANCE = 1e-4  # the largest |p_torch - p_onnxruntime| an export may show on any image and label
INPUT_NAME, LOGITS_NAME, PROBS_NAME = "image", "logits", "probs"
FORMAT_VERSION = 1
STANDALONE_SCRIPT = Path(__file__).with_name("standalone_classify.py")
EXAMPLE_BATCH_SIZE = 2  # the example input's batch; 1 would let the exporter fix the batch axis at 1
EXPORTER_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")  # log each optimizer pass at INFO


class _LogitsAndProbs(torch.nn.Module):
    """A model's ``forward(image)`` as the graph exports it: a tuple ``(logits, probs)``."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, image: torch.Tensor) -> Any:
        output = self.model(image=image)
        return output[LOGITS_NAME], output[PROBS_NAME]


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how the export compared with the model.

    Attributes:
        model_file, description_file, script_file: the three files written.
        parity: the float export against torch on the check images.
        quantization: the int8 export against the float one (``None`` without ``quantize``).
    """

    model_file: Path
    description_file: Path
    script_file: Path
    parity: ParityReport
    quantization: Optional[ParityReport] = None


def check_exportable_forward(model: Model, height: int, width: int, source: str) -> None:
    """Run ``model`` on a zero batch ``(2, 3, height, width)``: its output must hold ``logits`` and
    ``probs``, each ``(2, num_labels)``.

    Raises:
        ConfigurationError: the forward fails or returns something else, naming ``source``.
    """
    num_labels = model.vocab.get_vocab_size(DEFAULT_NAMESPACE)
    try:
        with torch.inference_mode():
            output = model(image=torch.zeros(EXAMPLE_BATCH_SIZE, 3, height, width))
    except Exception as error:  # noqa: BLE001 - any failure of a model's own code means the same here
        raise ConfigurationError(f"{source}: the model ({type(model).__name__}) has no exportable forward: "
                                 f"forward(image) fails on a batch (2, 3, {height}, {width}) ({error}).") from None
    shapes = {key: tuple(value.shape) for key, value in output.items() if isinstance(value, torch.Tensor)} \
        if isinstance(output, dict) else {}
    if any(shapes.get(name) != (EXAMPLE_BATCH_SIZE, num_labels) for name in (LOGITS_NAME, PROBS_NAME)):
        raise ConfigurationError(f"{source}: the model ({type(model).__name__}) has no exportable forward: "
                                 f"forward(image) must return 'logits' and 'probs' of shape (batch, {num_labels}), "
                                 f"got {shapes or type(output).__name__}.")


def onnx_graph(model: Model, height: int, width: int, source: str) -> bytes:
    """``model``'s forward (checked by :func:`check_exportable_forward`) as a serialized ONNX
    graph: input ``image`` ``(batch, 3, height, width)`` float32 with a dynamic ``batch``, outputs
    ``logits`` and ``probs`` ``(batch, num_labels)``. The exporter's INFO records stay out of the log.

    Raises:
        ConfigurationError: torch's exporter fails on it, naming ``source``.
    """
    example = torch.zeros(EXAMPLE_BATCH_SIZE, 3, height, width)
    # No fallback to the TorchScript exporter: dynamo exports a classifier on every registered
    # backbone (tests/modules/test_im2im_encoder_contract.py), EfficientNet-Lite0 in channels_last too.
    try:
        with warnings_only_from(*EXPORTER_LOGGERS):  # verbose=False silences the "[torch.onnx]" prints
            program = torch.onnx.export(_LogitsAndProbs(model).eval(), (example,), dynamo=True, verbose=False,
                                        input_names=[INPUT_NAME], output_names=[LOGITS_NAME, PROBS_NAME],
                                        dynamic_shapes={"image": {0: torch.export.Dim("batch")}})
    except Exception as error:  # noqa: BLE001 - the exporter raises many types, each meaning "not exportable"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ConfigurationError(f"{source}: the model ({type(model).__name__}) has no exportable forward: "
                                 f"torch.onnx.export(dynamo=True) failed ({first_line}).") from None
    return program.model_proto.SerializeToString()


def check_samples(archive: Archive, source: str, check_images: Optional[Sequence[Union[str, os.PathLike]]],
                  labels: List[str]) -> List[Sample]:
    """The images to verify an export on: ``check_images`` (files or folders), else the
    validation images of the archive's config (``validation_data_path``).

    Raises:
        ConfigurationError: neither is given or found, naming what is missing and the option to use.
    """
    if check_images:
        return images_to_check(check_images, labels)
    path = archive.config.get("validation_data_path")
    if not path or not Path(path).exists():
        where = f"its validation images {path} are not on this machine" if path else "its config has no validation images"
        raise ConfigurationError(f"{source}: {where}; pass --check-images with images or folders of images "
                                 "(<root>/<label>/<image>) to verify the export on.")
    if Path(path).is_dir():
        return images_to_check([path], labels)
    return list(archive.dataset_reader.read(path).samples)  # a CSV: its reader knows the labels


def export_onnx(archive_file: Union[str, os.PathLike], output_file: Union[str, os.PathLike],
                check_images: Optional[Sequence[Union[str, os.PathLike]]] = None, quantize: Optional[str] = None,
                calibration_images: Optional[Sequence[Union[str, os.PathLike]]] = None) -> ExportResult:
    """Export the model of ``archive_file`` to ``output_file`` (``.onnx``), verified (see the module).

    Args:
        archive_file: ``model.tar.gz`` (or its run folder).
        output_file: where the graph goes; ``model.json`` and ``standalone_classify.py`` go beside it.
        check_images: image files or folders to verify on (default: the config's validation images).
        quantize: ``"int8"`` writes the graph quantized (see :mod:`.quantization`), after the float
            graph passed its check, with its own comparison against the float graph.
        calibration_images: images that set the int8 ranges (default: the config's training images).

    Raises:
        ConfigurationError: a config or a corrupt archive, a model with no exportable forward, a
            validation reader that cannot be written as JSON, an ``output_file`` that is not
            ``.onnx`` or cannot be written, no images to check, or an export that does not match
            torch (naming the worst image); in every case nothing is written.
    """
    output_file = Path(output_file)
    if output_file.suffix != ONNX_SUFFIX:
        raise ConfigurationError(f"--output-file {output_file} must end in {ONNX_SUFFIX} (model.json goes beside it).")
    if not output_file.parent.is_dir():
        raise ConfigurationError(f"Cannot write --output-file {output_file}: its folder does not exist.")
    if quantize not in (None, "int8"):
        raise ConfigurationError(f"--quantize {quantize!r}: the one quantization is int8.")
    source = str(archive_file)
    if Path(archive_file).suffix == ONNX_SUFFIX:
        raise ConfigurationError(f"{source} is already an export; export the archive (model.tar.gz) it came from.")
    require_onnx_extra()
    archive = load_model_file(archive_file)
    model, reader = archive.model.float().cpu(), archive.dataset_reader
    labels = [archive.vocab.get_token_from_index(i, DEFAULT_NAMESPACE)
              for i in range(archive.vocab.get_vocab_size(DEFAULT_NAMESPACE))]
    preprocessing = describe_preprocessing(reader, source)
    check_exportable_forward(model, preprocessing["height"], preprocessing["width"], source)
    samples = check_samples(archive, source, check_images, labels)
    graph = onnx_graph(model, preprocessing["height"], preprocessing["width"], source)

    import onnxruntime  # the optional extra [onnx]

    session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
    parity = compare_on_images(torch_probabilities(model), onnx_probabilities(session, INPUT_NAME, PROBS_NAME),
                               reader, samples, labels)
    if parity.agreements < parity.images or parity.max_difference > PROBABILITY_TOLERANCE:
        raise ConfigurationError(f"{source} was not exported: onnxruntime does not match torch (top-1 must agree on "
                                 f"every image and max |Δp| be at most {PROBABILITY_TOLERANCE:g}): "
                                 f"{parity.summary('torch', 'onnxruntime')}. Nothing was written.")
    quantization = None
    if quantize == "int8":
        from allencv_lite.export.quantization import quantize_int8

        calibration = (images_to_check(calibration_images, labels) if calibration_images
                       else training_samples(archive, source, labels))
        graph = quantize_int8(graph, reader, calibration)
        int8_session = onnxruntime.InferenceSession(graph, providers=["CPUExecutionProvider"])
        quantization = compare_on_images(onnx_probabilities(session, INPUT_NAME, PROBS_NAME),
                                         onnx_probabilities(int8_session, INPUT_NAME, PROBS_NAME),
                                         reader, samples, labels)
    description = {
        "format": "allencv-lite onnx export", "format_version": FORMAT_VERSION,
        "model_file": output_file.name, "exported_from": source,
        "versions": {"allencv_lite": allencv_lite.__version__, "torch": torch.__version__,
                     "onnxruntime": onnxruntime.__version__},
        "labels": labels, "temperature": float(getattr(model, "temperature", 1.0)),
        "input": {"name": INPUT_NAME, "shape": ["batch", 3, preprocessing["height"], preprocessing["width"]],
                  "dtype": "float32"},
        "outputs": {"logits": LOGITS_NAME, "probs": PROBS_NAME},
        "preprocessing": preprocessing,
        "verification": _report_json(parity),
        "quantization": None if quantization is None else {"type": "int8", "against_float": _report_json(quantization)},
    }
    result = ExportResult(output_file, description_file(output_file), output_file.with_name(STANDALONE_SCRIPT.name),
                          parity, quantization)
    write_text_atomically(json.dumps(description, indent=2) + "\n", result.description_file)
    write_bytes_atomically(STANDALONE_SCRIPT.read_bytes(), result.script_file)
    write_bytes_atomically(graph, output_file)  # last: a model.onnx is never without its model.json
    return result


def training_samples(archive: Archive, source: str, labels: List[str]) -> List[Sample]:
    """The config's training images (``train_data_path``), which set the int8 ranges: images the
    check does not use, so the int8 comparison is out of sample.

    Raises:
        ConfigurationError: they are not on this machine; says to pass ``--calibration-images``.
    """
    path = archive.config.get("train_data_path")
    if not path or not Path(path).is_dir():
        raise ConfigurationError(f"{source}: its training images {path} are not on this machine; pass "
                                 "--calibration-images with images the int8 quantization can measure ranges on.")
    return images_to_check([path], labels)


def _report_json(report: ParityReport) -> Dict[str, Any]:
    return {"images": report.images, "top1_agreement": report.agreement, "max_abs_probability_difference":
            report.max_difference, "worst_image": report.worst_image,
            "accuracies": None if report.accuracies is None else list(report.accuracies)}
