"""The ``--help`` layout of every subcommand: each option's default shown beside it."""
import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's ``ArgumentDefaultsHelpFormatter`` ("(default: 8000)"), leaving out the
    defaults that say nothing: unset options (``None``), flags (``False``) and empty lists."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or action.default == []:
            return action.help or ""
        return super()._get_help_string(action)
