"""int8 quantization of an exported graph with onnxruntime's tools (``onnxruntime.quantization``).

Static quantization: weights are stored as int8 per output channel, and each activation gets a
fixed int8 range measured by running the float graph on calibration images (min-max), written as
QuantizeLinear/DequantizeLinear pairs (the QDQ format) that onnxruntime fuses into int8 kernels.
Dynamic quantization (each activation's range measured on every input, at run time) made
EfficientNet-Lite0's convolutions 8-11x slower than float ones and cost 0.8 points of accuracy,
where static kept every label (benchmarks/RESULTS.md, "ONNX export"). The calibration images
should not be the ones the int8 graph is then judged on:
:func:`~allencv_lite.export.onnx_export.export_onnx` takes the training images.
"""
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence

import numpy as np

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.logs import warnings_only_from
from allencv_lite.data.dataset import Sample
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.image_loading import UnreadableImageError

CALIBRATION_IMAGES = 128  # at most this many, spread evenly over the calibration images given
CALIBRATION_BATCH_SIZE = 16


def calibration_batches(reader: ImageDatasetReader, samples: Sequence[Sample], input_name: str
                        ) -> Iterator[Dict[str, np.ndarray]]:
    """Up to :data:`CALIBRATION_IMAGES` of ``samples`` (every n-th, so that each label is there),
    prepared by ``reader``, as graph inputs ``{input_name: (batch, 3, height, width)}``;
    unreadable images are left out."""
    chosen = samples[::max(1, len(samples) // CALIBRATION_IMAGES)][:CALIBRATION_IMAGES]
    for start in range(0, len(chosen), CALIBRATION_BATCH_SIZE):
        tensors = []
        for path, _ in chosen[start:start + CALIBRATION_BATCH_SIZE]:
            try:
                tensors.append(reader.image_to_tensor(reader.load_image(path)).numpy())
            except UnreadableImageError:
                continue
        if tensors:
            yield {input_name: np.stack(tensors).astype(np.float32)}


def quantize_int8(graph: bytes, reader: ImageDatasetReader, calibration: Sequence[Sample],
                  input_name: str = "image") -> bytes:
    """``graph`` (a float ONNX model) statically quantized to int8 (see the module docstring).

    Args:
        graph: the serialized float model.
        reader: prepares the calibration images as the model expects them.
        calibration: images whose activations set the int8 ranges.
        input_name: the graph's image input.

    Raises:
        ConfigurationError: no calibration image could be read.
    """
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quant_pre_process,
                                          quantize_static)

    batches = list(calibration_batches(reader, calibration, input_name))
    if not batches:
        raise ConfigurationError(f"int8 quantization: none of the {len(calibration)} calibration images could be "
                                 "read; pass --calibration-images with readable images.")
    remaining = iter(batches)

    class _Batches(CalibrationDataReader):
        def get_next(self) -> Optional[Dict[str, np.ndarray]]:
            return next(remaining, None)

    with tempfile.TemporaryDirectory() as scratch:
        float_file, prepared_file, int8_file = (Path(scratch) / name for name in ("float.onnx", "pre.onnx", "int8.onnx"))
        float_file.write_bytes(graph)
        with warnings_only_from("onnxruntime"):  # "Performing symbolic shape inference..." is INFO
            quant_pre_process(float_file, prepared_file)  # shape inference and graph optimization, as ORT advises
            quantize_static(prepared_file, int8_file, _Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
        return int8_file.read_bytes()
