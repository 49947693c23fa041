"""The ``allencv-lite`` argument parser: argparse's, with "did you mean ...?" after a misspelling.

argparse already prints the usage and one error line; this parser adds the closest known name,
found by :func:`difflib.get_close_matches` (Python 3.14's ``suggest_on_error`` does the same for
choices), and reports an unknown option with the usage of the command it was given to::

    $ allencv-lite predict model.tar.gz photos/ --bach-size 32
    usage: allencv-lite predict [-h] [--predictor PREDICTOR] ...
    allencv-lite predict: error: unrecognized arguments: --bach-size 32; did you mean --batch-size?

    $ allencv-lite trian config.jsonnet
    usage: allencv-lite [-h] COMMAND ...
    allencv-lite: error: argument COMMAND: invalid choice: 'trian' (choose from 'train', ...); did you mean train?
"""
import argparse
import difflib
import re
import sys
from typing import Any, List, Optional, Sequence, Tuple

# What argparse reads as a negative number rather than an option (its _negative_number_matcher).
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


class SuggestingArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose errors end in "did you mean ...?" when a subcommand,
    an option or an option's choice is misspelt and a known one is close; its sub-parsers (from
    :meth:`add_subparsers`) are of this class too.

    Attributes:
        option_names: every option string added (``-h``, ``--help``, ``--batch-size``, ...).
        commands: the sub-parsers action after :meth:`add_subparsers` (its ``dest`` is ``command``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.option_names: List[str] = []  # before argparse's __init__, which adds -h
        self.commands: Optional[argparse._SubParsersAction] = None
        self._arguments: List[str] = []
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        """argparse's ``add_argument``, keeping the option strings for suggestions."""
        action = super().add_argument(*args, **kwargs)
        self.option_names.extend(action.option_strings)
        return action

    def add_subparsers(self, **kwargs: Any) -> argparse._SubParsersAction:
        """argparse's ``add_subparsers``, naming the chosen one ``command`` in the parsed arguments."""
        self.commands = super().add_subparsers(dest="command", **kwargs)
        return self.commands

    def parse_known_args(self, args: Optional[Sequence[str]] = None,
                         namespace: Optional[argparse.Namespace] = None) -> Tuple[argparse.Namespace, List[str]]:
        """argparse's ``parse_known_args``, remembering ``args`` for the suggestions of :meth:`error`."""
        self._arguments = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args: Optional[Sequence[str]] = None,  # type: ignore[override]
                   namespace: Optional[argparse.Namespace] = None) -> argparse.Namespace:
        """argparse's ``parse_args``, except that arguments left over after a subcommand are
        reported by that subcommand's parser (its usage, its options suggested).

        Raises:
            SystemExit: status 2, after the usage and the error line on stderr.
        """
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            parser = self.commands.choices[command] if self.commands is not None and command else self
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print the usage and ``message`` with "did you mean" and the closest options to the
        unknown ones this parser was given, then exit with status 2."""
        unknown = self.unknown_options()
        close = [match for name in unknown for match in difflib.get_close_matches(name, self.option_names, n=1)]
        if close:
            if not message.startswith("unrecognized arguments"):  # e.g. "... are required: --output-file"
                message = f"{message} (unrecognized: {' '.join(unknown)})"
            message = f"{message}; did you mean {', '.join(close)}?"
        super().error(message)

    def unknown_options(self) -> List[str]:
        """The option names (before any ``=value``) in the last arguments parsed that are no
        option of this parser nor an abbreviation argparse would accept, in order; nothing
        after ``--``, and no negative number."""
        unknown = []
        for argument in self._arguments:
            if argument == "--":
                break
            name = argument.split("=", 1)[0]
            if len(name) > 1 and name.startswith("-") and not _NEGATIVE_NUMBER.match(name) \
                    and not any(option.startswith(name) for option in self.option_names):
                unknown.append(name)
        return unknown

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's one check of a value against ``choices`` (a subcommand's name included)
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as error:
            close = difflib.get_close_matches(str(value), [str(choice) for choice in action.choices or ()], n=1)
            if not close:
                raise
            raise argparse.ArgumentError(action, f"{error.message}; did you mean {close[0]}?") from None
