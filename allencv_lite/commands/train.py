"""``allencv-lite train CONFIG -s DIR``: the command line of
:func:`~allencv_lite.training.from_config.train_model` (see there for what is written and how
a multi-device run starts). ``--recover`` resumes a run that stopped, from its newest checkpoint.
"""
import argparse
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Dict, Mapping

from allencv_lite.commands.help_format import DefaultsHelpFormatter
from allencv_lite.commands.overrides import add_overrides_argument
from allencv_lite.common.checks import Interrupted
from allencv_lite.common.params import load_config_and_external_variables
from allencv_lite.training.from_config import train_model

SHELL_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # what `NAME=value command` can set


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand on the ``allencv-lite`` parser."""
    parser = subparsers.add_parser("train", formatter_class=DefaultsHelpFormatter,
                                   help="train a model from a config file",
                                   description="Train a model from a JSON/Jsonnet config (as `allennlp train`).")
    parser.add_argument("config_file", help="the experiment config (.json or .jsonnet)")
    parser.add_argument("-s", "--serialization-dir", required=True, help="folder for weights, metrics and archive")
    add_overrides_argument(parser)
    parser.add_argument("-f", "--force", action="store_true", help="overwrite a non-empty serialization dir")
    parser.add_argument("-r", "--recover", action="store_true",
                        help="resume the run in the serialization dir from its newest checkpoint (a finished "
                             "run is left as it is)")
    parser.set_defaults(func=run_train)
    return parser


def resume_command(args: argparse.Namespace, external_variables: Mapping[str, str]) -> str:
    """The ``allencv-lite train ... --recover`` command that resumes the run ``args`` started,
    as one shell line that runs in a new shell: prefixed with the external variables the
    config read (``TRAIN_PATH=data/train VALIDATION_PATH=data/val allencv-lite train ...``),
    and only those, every word quoted for the shell."""
    words = ["allencv-lite", "train", args.config_file, "-s", args.serialization_dir]
    if args.overrides:
        words += ["-o", args.overrides]
    for package in args.include_package:
        words += ["--include-package", package]
    if all(SHELL_VARIABLE_NAME.fullmatch(name) for name in external_variables):
        settings = [f"{name}={shlex.quote(value)}" for name, value in external_variables.items()]
    else:  # a name the shell cannot assign (such as one with a dash): env(1) sets it
        settings = ["env"] + [shlex.quote(f"{name}={value}") for name, value in external_variables.items()]
    return " ".join(settings + [shlex.join(words + ["--recover"])])


NOTHING_TO_RESUME = ("train stopped before training began, so there is nothing to resume; run the same command again "
                     "(with --force if {serialization_dir} is not empty).")


def describe_interrupted_run(args: argparse.Namespace, external_variables: Mapping[str, str]) -> str:
    """One line for a run stopped by Ctrl-C: its last complete epoch (counted from 1), that
    epoch's checkpoint, and the command that resumes it (see :func:`resume_command`).

    Imports nothing when the trainer's module never finished importing: the Ctrl-C may have
    stopped torch half-way through its import, and importing it again then crashes the process.
    """
    if "allencv_lite.training.trainer" not in sys.modules:
        return NOTHING_TO_RESUME.format(serialization_dir=args.serialization_dir)
    from allencv_lite.models.archival import CONFIG_NAME
    from allencv_lite.training.checkpointing import Checkpointer
    from allencv_lite.training.trainer import DEFAULT_NUM_EPOCHS

    serialization_dir = Path(args.serialization_dir)
    if not (serialization_dir / CONFIG_NAME).is_file():
        return NOTHING_TO_RESUME.format(serialization_dir=serialization_dir)
    num_epochs = json.loads((serialization_dir / CONFIG_NAME).read_text(encoding="utf-8"))["trainer"].get(
        "num_epochs", DEFAULT_NUM_EPOCHS)
    checkpointer = Checkpointer(serialization_dir, None)
    saved = checkpointer.saved_epochs()
    if not saved:
        done = f"train stopped during epoch 1 of {num_epochs}, before any epoch was complete"
    else:
        done = (f"train stopped after epoch {saved[-1] + 1} of {num_epochs}, whose checkpoint is "
                f"{checkpointer.path(saved[-1])} (file names count epochs from 0)")
    return f"{done}; resume with: {resume_command(args, external_variables)}"


def run_train(args: argparse.Namespace) -> int:
    """Run the ``train`` command.

    Raises:
        ConfigurationError: see :func:`train_model`; a serialization dir that cannot be written.
        Interrupted: Ctrl-C; names the last complete epoch, its checkpoint and the ``--recover`` command.
    """
    external_variables: Dict[str, str] = {}
    try:
        config, external_variables = load_config_and_external_variables(args.config_file, args.overrides)
        train_model(config, args.serialization_dir, force=args.force, recover=args.recover,
                    include_package=args.include_package)
    except KeyboardInterrupt:
        raise Interrupted(describe_interrupted_run(args, external_variables)) from None
    return 0
