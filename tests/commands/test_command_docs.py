"""The pages that list the commands list the ones ``allencv-lite --help`` shows, in its order."""
import argparse
import re
from pathlib import Path

from allencv_lite.commands import build_parser

REPOSITORY = Path(__file__).resolve().parents[2]


def command_names() -> list:
    """The subcommands of ``allencv-lite``, in ``--help``'s order: ``["train", "find-lr", ...]``."""
    subparsers = next(action for action in build_parser()._actions if isinstance(action, argparse._SubParsersAction))
    return list(subparsers.choices)


def test_the_readmes_row_for_the_command_line_page_names_every_command_in_help_order():
    row = re.search(r"^\| \[docs/command_line\.md\]\(docs/command_line\.md\) \| (.*)$",
                    (REPOSITORY / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert row, "README.md's docs table has no row for docs/command_line.md"
    assert re.findall(r"`([a-z-]+)`", row.group(1).split(":")[0]) == command_names()


def test_the_command_line_page_has_a_section_for_every_command():
    headings = re.findall(r"^## ([a-z-]+)", (REPOSITORY / "docs" / "command_line.md").read_text(encoding="utf-8"),
                          re.MULTILINE)
    assert sorted(headings) == sorted(command_names())
