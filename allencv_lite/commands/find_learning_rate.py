"""``allencv-lite find-lr CONFIG -s DIR``: the learning-rate range test on an experiment config
(AllenNLP's ``find-lr``, :func:`~allencv_lite.training.lr_finder.find_learning_rate_from_config`),
printing the ``-o`` override to train with."""
import argparse
import json
from pathlib import Path

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.commands.overrides import add_overrides_argument
from allencv_lite.common.checks import ConfigurationError, Interrupted
from allencv_lite.common.params import load_config
from allencv_lite.training.from_config import check_top_level

def override_for(learning_rate: float) -> str:
    """The ``-o`` argument that trains with ``learning_rate`` (3 significant digits)."""
    return "-o '" + json.dumps({"trainer": {"optimizer": {"lr": float(f"{learning_rate:.3g}")}}}) + "'"


def run_find_learning_rate(args: argparse.Namespace) -> int:
    """Run the ``find-lr`` command: print the suggestions and the override (exit status 0),
    after a caution when the sweep is short for its smoothing, or why there is none (1); write
    the curve and its plot to the serialization dir.

    Raises:
        ConfigurationError: a bad config, sweep argument, or serialization dir.
        Interrupted: Ctrl-C during the sweep (nothing is written).
    """
    directory = Path(args.serialization_dir)
    if directory.exists() and not directory.is_dir():
        raise ConfigurationError(f"-s {directory}: exists and is not a folder; choose a folder for lr_find.json.")
    config = load_config(args.config_file, args.overrides)
    check_top_level(config)  # a config error is told before torch is imported
    from allencv_lite.training.lr_finder import PLOT_NAME, RESULT_NAME, find_learning_rate_from_config

    try:
        result = find_learning_rate_from_config(config, args.start_lr, args.end_lr, args.num_steps, args.smoothing)
    except KeyboardInterrupt:
        raise Interrupted(f"find-lr stopped before the sweep ended; nothing was written to {directory}.") from None
    directory.mkdir(parents=True, exist_ok=True)
    result.save(directory)
    if result.stopped:
        print(f"Stopped early: {result.stopped}.")
    print(f"Wrote {directory / RESULT_NAME} and {directory / PLOT_NAME}.")
    if result.declined:
        print(f"No suggestion: {result.declined}.")
        return 1
    if result.warning:
        print(f"Caution: {result.warning}.")
    print(", ".join(f"{name}: {rate:.3g}" for name, rate in result.suggestions.items()) + " (the top group's rate)")
    print(f"Train with the valley suggestion: {override_for(result.suggestion)}")
    return 0


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``find-lr`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser(
        "find-lr", formatter_class=DefaultsHelpFormatter, help="find a learning rate with a range test",
        description="Train a copy of the config's model for NUM_STEPS batches while the learning rate grows "
                    "exponentially from START_LR to END_LR (Smith 2017, section 3.3), write the loss curve to "
                    "DIR/lr_find.json and DIR/lr_find.png, and print the override to train with.")
    parser.add_argument("config_file", help="the experiment config (.json or .jsonnet)")
    parser.add_argument("-s", "--serialization-dir", required=True, help="folder for lr_find.json and lr_find.png")
    add_overrides_argument(parser)
    parser.add_argument("--start-lr", type=float, default=1e-7, help="the first step's learning rate")
    parser.add_argument("--end-lr", type=float, default=10.0, help="the last step's learning rate")
    parser.add_argument("--num-steps", type=int, default=100, help="batches to train on (at most)")
    parser.add_argument("--smoothing", type=float, default=None,
                        help="beta of the loss's moving average, 0.98 if not given (it remembers about "
                             "1 / (1 - beta) steps)")
    parser.set_defaults(func=run_find_learning_rate)
    return parser
