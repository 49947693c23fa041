"""``allencv-lite find-lr CONFIG -s DIR``: the learning-rate range test on an experiment config
(AllenNLP's ``find-lr``), printing the ``-o`` override to train with."""
import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.commands.overrides import add_overrides_argument
from allencv_lite.commands.train import build_trainer, check_top_level
from allencv_lite.common.checks import ConfigurationError, Interrupted
from allencv_lite.common.params import load_config

if TYPE_CHECKING:  # imported where used, so that the command line starts without torch
    from allencv_lite.training.lr_finder import LearningRateFinderResult

RESULT_NAME, PLOT_NAME = "lr_find.json", "lr_find.png"


def find_learning_rate_from_config(config: Dict[str, Any], start_lr: float = 1e-7, end_lr: float = 10.0,
                                   num_steps: int = 100, smoothing: Optional[float] = None,
                                   progress: bool = True) -> "LearningRateFinderResult":
    """Run :func:`~allencv_lite.training.lr_finder.find_learning_rate` on what ``config``
    trains first: the same seeds, training data, augmentation, batches, model, optimizer and
    parameter groups as ``allencv-lite train``, and, with a learning-rate scheduler, the state
    of the first optimizer step (with ``gradual_unfreezing`` only the top group trains; with
    ``discriminative_fine_tuning`` the lower groups keep their ratios to it). Validation data
    is not read. The suggestions are for the top group's peak rate, which is
    ``trainer.optimizer.lr`` unless the last ``parameter_groups`` entry sets its own. The other
    arguments are :func:`~allencv_lite.training.lr_finder.find_learning_rate`'s (``smoothing``
    ``None``: its default, 0.98).

    Raises:
        ConfigurationError: any config error, or a bad sweep argument.
    """
    from allencv_lite.training.lr_finder import SMOOTHING, find_learning_rate

    check_top_level(config)
    trainer, _, _ = build_trainer({**config, "validation_data_path": None})
    trainer.prepare_epoch(0)  # the first step's learning rates and, with gradual unfreezing, trainable groups
    return find_learning_rate(trainer.model, trainer.optimizer, trainer.train_data_loader, start_lr=start_lr,
                              end_lr=end_lr, num_steps=num_steps, device=trainer.device,
                              smoothing=SMOOTHING if smoothing is None else smoothing,
                              progress=progress)


def override_for(learning_rate: float) -> str:
    """The ``-o`` argument that trains with ``learning_rate`` (3 significant digits)."""
    return "-o '" + json.dumps({"trainer": {"optimizer": {"lr": float(f"{learning_rate:.3g}")}}}) + "'"


def write_result(result: "LearningRateFinderResult", directory: Union[str, os.PathLike]) -> None:
    """Write ``lr_find.json`` and ``lr_find.png`` (the plot with the suggestions) into
    ``directory``, each under a temporary name first, then renamed."""
    from matplotlib import pyplot

    from allencv_lite.common.files import atomic_writer, write_text_atomically

    directory = Path(directory)
    write_text_atomically(json.dumps(result.to_json(), indent=2), directory / RESULT_NAME)
    figure = result.plot()
    with atomic_writer(directory / PLOT_NAME, binary=True) as file:
        figure.savefig(file, format="png", dpi=100, bbox_inches="tight")
    pyplot.close(figure)


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
        raise ConfigurationError(f"-s {directory}: exists and is not a folder; choose a folder for {RESULT_NAME}.")
    config = load_config(args.config_file, args.overrides)
    try:
        result = find_learning_rate_from_config(config, args.start_lr, args.end_lr, args.num_steps, args.smoothing)
    except KeyboardInterrupt:
        raise Interrupted(f"find-lr stopped before the sweep ended; nothing was written to {directory}.") from None
    directory.mkdir(parents=True, exist_ok=True)
    write_result(result, directory)
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
                    f"DIR/{RESULT_NAME} and DIR/{PLOT_NAME}, and print the override to train with.")
    parser.add_argument("config_file", help="the experiment config (.json or .jsonnet)")
    parser.add_argument("-s", "--serialization-dir", required=True, help=f"folder for {RESULT_NAME} and {PLOT_NAME}")
    add_overrides_argument(parser)
    parser.add_argument("--start-lr", type=float, default=1e-7, help="the first step's learning rate")
    parser.add_argument("--end-lr", type=float, default=10.0, help="the last step's learning rate")
    parser.add_argument("--num-steps", type=int, default=100, help="batches to train on (at most)")
    parser.add_argument("--smoothing", type=float, default=None,
                        help="beta of the loss's moving average, 0.98 if not given (it remembers about "
                             "1 / (1 - beta) steps)")
    parser.set_defaults(func=run_find_learning_rate)
    return parser
