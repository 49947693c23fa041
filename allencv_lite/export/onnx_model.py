"""An exported ``model.onnx`` run by onnxruntime, behind the same contract as a trained model, so
that ``predict``, ``evaluate`` and ``serve`` take either file and give the same records::

    archive = load_model_file("model.onnx")        # or "model.tar.gz"
    predictor = ImagePredictor.from_archive(archive)  # the same predictor, the same output records

:func:`load_model_file` is the one entry point of the commands: an archive goes to
:func:`~allencv_lite.models.archival.load_archive`; a ``.onnx`` file is read with the
``model.json`` beside it (labels, temperature, preprocessing), whose steps rebuild the validation
reader exactly (:func:`~allencv_lite.export.preprocessing.reader_from_steps`).
"""
import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.export.preprocessing import reader_from_steps
from allencv_lite.models.archival import Archive, load_archive
from allencv_lite.models.model import Model

ONNX_SUFFIX = ".onnx"
DESCRIPTION_KEYS = ("labels", "temperature", "input", "outputs", "preprocessing")

logger = logging.getLogger(__name__)


def description_file(model_file: Union[str, os.PathLike]) -> Path:
    """Where the description of ``model_file`` lives: ``model.onnx`` -> ``model.json``."""
    return Path(model_file).with_suffix(".json")


class OnnxClassifier(Model):
    """An ONNX export of a classifier, predicting on the CPU with onnxruntime.

    ``forward(image)`` takes float ``(batch, 3, height, width)``, prepared as the description's
    steps say, and returns ``logits`` and ``probs`` ``(batch, num_labels)`` as the trained model
    did (``probs`` with its ``temperature``, kept here as a buffer as in
    :class:`~allencv_lite.models.basic_image_classifier.BasicImageClassifier`). It only predicts:
    it has no parameters, no gradients (so no Grad-CAM) and no loss.

    Args:
        session: an ``onnxruntime.InferenceSession`` of the export.
        vocab: the labels, in the order of the outputs' columns.
        input_name, logits_name, probs_name: the graph's input and output names.
        temperature: the model's temperature, for the record (the graph applies it).
    """

    def __init__(self, session: Any, vocab: Vocabulary, input_name: str, logits_name: str, probs_name: str,
                 temperature: float = 1.0) -> None:
        super().__init__(vocab)
        self.session = session
        self._input_name = input_name
        self._output_names = [logits_name, probs_name]
        self.register_buffer("temperature", torch.tensor(float(temperature)))

    def forward(self, image: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``logits`` and ``probs`` ``(batch, num_labels)`` for ``image`` ``(batch, 3, height, width)``."""
        batch = np.ascontiguousarray(image.detach().cpu().numpy(), dtype=np.float32)
        logits, probs = self.session.run(self._output_names, {self._input_name: batch})
        return {"logits": torch.from_numpy(logits), "probs": torch.from_numpy(probs)}


def read_description(model_file: Path) -> Dict[str, Any]:
    """The ``model.json`` beside ``model_file``.

    Raises:
        ConfigurationError: it is missing, not a JSON object, or lacks a key of :data:`DESCRIPTION_KEYS`.
    """
    path = description_file(model_file)
    if not path.is_file():
        raise ConfigurationError(f"{model_file} has no {path.name} beside it, which says how to prepare images "
                                 f"for it; `allencv-lite export` writes both: copy {path.name} with it, or export again.")
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"{path} is not valid JSON ({error}); export the model again.") from None
    missing = [key for key in DESCRIPTION_KEYS if not isinstance(description, dict) or key not in description]
    if missing:
        raise ConfigurationError(f"{path} lacks {missing}; it was not written by `allencv-lite export` "
                                 "(or was edited by hand): export the model again.")
    return description


def load_onnx_export(model_file: Union[str, os.PathLike]) -> Archive:
    """``model_file`` and its description as an :class:`~allencv_lite.models.archival.Archive`:
    an :class:`OnnxClassifier`, the description as ``config``, and the reader its steps describe.

    Raises:
        ConfigurationError: see :func:`read_description`; a file onnxruntime cannot load.
    """
    require_onnx_extra()
    import onnxruntime  # the optional extra [onnx]: imported when an export is used

    model_file = Path(model_file)
    if not model_file.is_file():
        raise ConfigurationError(f"{model_file} does not exist.")
    description = read_description(model_file)
    try:
        session = onnxruntime.InferenceSession(str(model_file), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own types (Fail, InvalidProtobuf, ...)
        raise ConfigurationError(f"onnxruntime cannot load {model_file} ({str(error).strip().splitlines()[0]}); "
                                 "export the model again.") from None
    model = OnnxClassifier(session, Vocabulary.from_labels(description["labels"]), description["input"]["name"],
                           description["outputs"]["logits"], description["outputs"]["probs"],
                           description["temperature"])
    reader = reader_from_steps(description["preprocessing"]["steps"], str(description_file(model_file)))
    return Archive(model=model.eval(), config=description, dataset_reader=reader)


ONNX_PACKAGES = ("onnx", "onnxruntime", "onnxscript")  # the optional extra [onnx] in setup.cfg


def require_onnx_extra() -> None:
    """Check that the optional extra ``[onnx]`` is installed, before any work that needs it.

    Raises:
        ConfigurationError: a package of :data:`ONNX_PACKAGES` cannot be imported; the message
            names it and gives the install command.
    """
    import importlib.util

    missing = [name for name in ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigurationError(f"ONNX export and .onnx files need the optional packages {', '.join(missing)}: "
                                 "pip install -c constraints.txt -e \".[onnx]\" (from the repository root).")


def load_model_file(path: Union[str, os.PathLike], cuda_device: int = -1,
                    weights_file: Optional[Union[str, os.PathLike]] = None) -> Archive:
    """A trained model from an archive (``model.tar.gz`` or its run folder, see
    :func:`~allencv_lite.models.archival.load_archive`) or from an ONNX export (``.onnx``, see
    :func:`load_onnx_export`; it runs on the CPU whatever ``cuda_device`` says).

    Raises:
        ConfigurationError: ``weights_file`` with an ONNX export, or any error of the two loaders
            (a training config given instead of a trained model among them, which
            :func:`~allencv_lite.models.archival.extract_archive` names).
    """
    path = Path(path)
    if path.suffix != ONNX_SUFFIX:
        return load_archive(path, cuda_device=cuda_device, weights_file=weights_file)
    if weights_file is not None:
        raise ConfigurationError(f"--weights-file applies to an archive (model.tar.gz), not to the export {path}; "
                                 "export the archive with those weights instead.")
    if cuda_device >= 0:
        logger.warning("%s runs on the CPU with onnxruntime; ignoring cuda device %d.", path, cuda_device)
    return load_onnx_export(path)
