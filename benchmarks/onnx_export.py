"""ONNX export: parity and latency of torch, onnxruntime (float) and onnxruntime (int8), side by side.

    python benchmarks/onnx_export.py runs/cats_dogs_efficientnet/model.tar.gz      # its config's val photos
    python benchmarks/onnx_export.py ARCHIVE --check-images DIR --calibration-images DIR --repeats 10

1. Export with ``allencv_lite.export.export_onnx``: the float graph is verified on the validation
   photos (top-1 on every image, max |Δp| <= 1e-4), and its report is printed.
2. Quantize the float graph to int8 two ways, both calibrated or measured on the training photos
   and judged on the validation photos: static (QDQ, per channel; what ``--quantize int8``
   writes) and dynamic (onnxruntime's ``quantize_dynamic``, for comparison). Each prints its
   top-1 agreement with the float graph and the accuracy difference.
3. Latency on ``--threads`` cores (torch.set_num_threads; onnxruntime's intra-op threads): the
   same prepared tensors, one image and a batch of 32, each runner in turn within every round
   (so that drifts in the machine's load hit all alike); medians. Preprocessing is left out:
   it is the same for all.

Other work on the machine moves the absolute numbers; read the ratios, and write ``uptime``'s
load beside them.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import onnxruntime
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic

from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.export.onnx_export import export_onnx, training_samples
from allencv_lite.export.parity import compare_on_images, images_to_check, onnx_probabilities
from allencv_lite.export.quantization import quantize_int8
from allencv_lite.models.archival import load_archive

BATCH_SIZE = 32


def session(model_file: Path, threads: int) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    return onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def median_milliseconds(runners: Dict[str, Callable[[np.ndarray], object]], images: np.ndarray,
                        repeats: int) -> Dict[str, float]:
    """Each runner on ``images``, in turn within each of ``repeats`` rounds, after one warm-up call."""
    for run in runners.values():
        run(images)
    times: Dict[str, List[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run(images)
            times[name].append(1000 * (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path, help="model.tar.gz from allencv-lite train")
    parser.add_argument("--check-images", type=Path, default=None, help="default: the config's validation images")
    parser.add_argument("--calibration-images", type=Path, default=None, help="default: the config's training images")
    parser.add_argument("--threads", type=int, default=2, help="cores for torch and onnxruntime")
    parser.add_argument("--repeats", type=int, default=20, help="rounds of timing (batch 32: a quarter as many)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(tempfile.mkdtemp(prefix="onnx_export_benchmark_"))

    start = time.perf_counter()
    result = export_onnx(args.archive, folder / "model.onnx",
                         check_images=[args.check_images] if args.check_images else None)
    print(f"export and check: {time.perf_counter() - start:.0f} s")
    print(result.parity.summary("torch", "onnxruntime"))

    archive = load_archive(args.archive)
    model, reader = archive.model, archive.dataset_reader
    labels = [archive.vocab.get_token_from_index(i, DEFAULT_NAMESPACE)
              for i in range(archive.vocab.get_vocab_size(DEFAULT_NAMESPACE))]
    check = images_to_check([args.check_images] if args.check_images else [archive.config["validation_data_path"]],
                            labels)
    calibration = (images_to_check([args.calibration_images], labels) if args.calibration_images
                   else training_samples(archive, str(args.archive), labels))
    (folder / "static.onnx").write_bytes(quantize_int8(result.model_file.read_bytes(), reader, calibration))
    quantize_dynamic(result.model_file, folder / "dynamic.onnx", weight_type=QuantType.QInt8)
    sessions = {name: session(folder / f"{file}.onnx", args.threads)
                for name, file in (("onnxruntime float", "model"), ("onnxruntime int8 static", "static"),
                                   ("onnxruntime int8 dynamic", "dynamic"))}
    for name in ("onnxruntime int8 static", "onnxruntime int8 dynamic"):
        report = compare_on_images(onnx_probabilities(sessions["onnxruntime float"], "image", "probs"),
                                   onnx_probabilities(sessions[name], "image", "probs"), reader, check, labels)
        print(report.summary("float", name.removeprefix("onnxruntime ")))
    for name, file in (("float", "model"), ("int8 static", "static"), ("int8 dynamic", "dynamic")):
        print(f"{name}: {(folder / f'{file}.onnx').stat().st_size / 2**10:,.0f} KiB")

    def torch_run(images: np.ndarray) -> object:
        with torch.inference_mode():
            return model(image=torch.from_numpy(images))["probs"]

    runners = {"torch": torch_run}
    runners.update({name: (lambda images, s=s: s.run(["probs"], {"image": images})) for name, s in sessions.items()})
    batch = np.stack([reader.image_to_tensor(reader.load_image(path)).numpy() for path, _ in check[:BATCH_SIZE]])
    single = median_milliseconds(runners, batch[:1], args.repeats)
    many = median_milliseconds(runners, batch, max(3, args.repeats // 4))
    print(f"\n| {args.threads} threads | 1 image, median ms | vs torch | batch {BATCH_SIZE}, median ms | vs torch |")
    print("| --- | --- | --- | --- | --- |")
    for name in runners:
        print(f"| {name} | {single[name]:.2f} | {single['torch'] / single[name]:.2f}x | {many[name]:.1f} | "
              f"{many['torch'] / many[name]:.2f}x |")


if __name__ == "__main__":
    main()
