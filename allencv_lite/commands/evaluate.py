"""``allencv-lite evaluate ARCHIVE DATA_PATH``: how well a trained model does on labelled images."""
import argparse
import json
from pathlib import Path

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.common.checks import ConfigurationError, Interrupted
from allencv_lite.common.files import write_text_atomically


def run_evaluate(args: argparse.Namespace) -> int:
    """Run the ``evaluate`` command: print the metrics table, optionally write the metrics JSON.

    Raises:
        ConfigurationError: bad archive, data folder (missing, empty, or with a label the
            model does not know), batch size, ``--tta`` view or output path (missing folder, full disk).
        Interrupted: Ctrl-C, before anything was written.
    """
    if args.batch_size < 1:
        raise ConfigurationError(f"--batch-size must be at least 1, got {args.batch_size}.")
    if args.output_file and not Path(args.output_file).parent.is_dir():  # say so before the work, not after
        raise ConfigurationError(f"Cannot write --output-file {args.output_file}: its folder does not exist.")
    from allencv_lite.interpret.interpretation import ClassificationInterpretation, format_metrics_table
    from allencv_lite.models.archival import load_archive
    from allencv_lite.predictors.test_time_augmentation import check_tta

    check_tta(args.tta, "--tta")
    archive = load_archive(args.archive_file, cuda_device=args.cuda_device, weights_file=args.weights_file)
    try:
        interpretation = ClassificationInterpretation.from_archive(archive, args.data_path, batch_size=args.batch_size,
                                                                   tta=args.tta)
        metrics = interpretation.metrics()
    except KeyboardInterrupt:
        raise Interrupted(f"evaluate stopped before it had predicted every image of {args.data_path}; nothing was "
                          "written (the metrics are printed and written only at the end).") from None
    print(format_metrics_table(metrics))
    if args.output_file:
        write_text_atomically(json.dumps(metrics, indent=2), args.output_file)
    return 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``evaluate`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser(
        "evaluate", formatter_class=DefaultsHelpFormatter, help="evaluate a trained model on labelled images",
        description="Accuracy, per-class precision/recall/F1 and the confusion matrix of a model on "
                    "DATA_PATH (<root>/<label>/<image>), as `allennlp evaluate`. Images are prepared by the "
                    "archive's validation reader.")
    parser.add_argument("archive_file", help="model.tar.gz from `allencv-lite train` (or the run folder holding it)")
    parser.add_argument("data_path", help="folder with one sub-folder of images per label")
    parser.add_argument("--output-file", default=None, help="write the metrics as JSON here")
    parser.add_argument("--weights-file", default=None, help="use these weights instead of the archived ones")
    parser.add_argument("--batch-size", type=int, default=32, help="images per forward pass")
    parser.add_argument("--cuda-device", type=int, default=-1, help="-1 for CPU, else the GPU index")
    parser.add_argument("--tta", action="append", default=None, metavar="VIEW",
                        help="test-time augmentation: also predict from these views of each image and average the "
                             "probabilities (repeatable; flip, center_crop, corner_crops)")
    parser.set_defaults(func=run_evaluate)
    return parser
