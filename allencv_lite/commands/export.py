"""``allencv-lite export ARCHIVE --format onnx --output-file model.onnx`` (see :mod:`allencv_lite.export`)."""
import argparse

from allencv_lite.commands.help_format import DefaultsHelpFormatter


def run_export(args: argparse.Namespace) -> int:
    """Run the ``export`` command: export, verify, write, and print the comparisons.

    Raises:
        ConfigurationError: see :func:`~allencv_lite.export.onnx_export.export_onnx` (exit status 2).
    """
    from allencv_lite.export.onnx_export import export_onnx

    result = export_onnx(args.archive_file, args.output_file, check_images=args.check_images,
                         quantize=args.quantize, calibration_images=args.calibration_images)
    print(result.parity.summary("torch", "onnxruntime"))
    if result.quantization is not None:
        print(result.quantization.summary("float", "int8"))
    print(f"Wrote {result.model_file}, {result.description_file.name} and {result.script_file.name} "
          f"(python {result.script_file} {result.model_file} IMAGE...).")
    return 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``export`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser(
        "export", formatter_class=DefaultsHelpFormatter, help="export a trained model to ONNX, verified",
        description="Write the model as ONNX (a dynamic batch axis), model.json beside it (labels, temperature, "
                    "preprocessing) and standalone_classify.py, which runs both with numpy, Pillow and onnxruntime "
                    "only. Nothing is written unless torch and onnxruntime agree on the top label of every check "
                    "image and no probability differs by more than 1e-4. Exit status: 0 exported, 2 bad input or "
                    "a failed check.")
    parser.add_argument("archive_file", help="model.tar.gz from `allencv-lite train` (or the run folder holding it)")
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="the export format")
    parser.add_argument("--output-file", required=True, help="the .onnx file to write")
    parser.add_argument("--check-images", nargs="+", default=None, metavar="PATH",
                        help="image files or folders to verify on (default: the config's validation images)")
    parser.add_argument("--quantize", choices=["int8"], default=None,
                        help="write the model quantized to int8 (static, onnxruntime), compared with the float one")
    parser.add_argument("--calibration-images", nargs="+", default=None, metavar="PATH",
                        help="images that set the int8 ranges (default: the config's training images)")
    parser.set_defaults(func=run_export)
    return parser
