"""``-o/--overrides``: one JSON (or Jsonnet) object merged into the config, as AllenNLP's option."""
import argparse
from typing import Any, Optional, Sequence, Union


class GivenOnce(argparse.Action):
    """Store the option's value, refusing a second one: argparse would keep only the last, and
    a repeated ``-o`` would silently drop the overrides before it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Union[str, Sequence[Any], None], option_string: Optional[str] = None) -> None:
        if getattr(namespace, self.dest) is not None:
            parser.error(f"{option_string} is given more than once, and only one JSON object is read; put all the "
                         "overrides in one, e.g. -o '{\"trainer\": {\"num_epochs\": 1, \"patience\": 3}}'")
        setattr(namespace, self.dest, values)


def add_overrides_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``-o/--overrides`` (``args.overrides``: the JSON text, or ``None``) to ``parser``."""
    parser.add_argument("-o", "--overrides", default=None, action=GivenOnce,
                        help='JSON object merged into the config, e.g. \'{"trainer": {"num_epochs": 1}}\'')
