"""Non-destructive data cleaning: decisions about images, kept beside the data, applied when reading.

A ``cleaning.json`` maps an image's path, relative to the folder a reader reads (the data
root: ``<root>/<label>/<image>`` for folders, the image directory for a CSV), to an action::

    {
      "Cat/666.jpg": "exclude",
      "Cat/4688.jpg": "relabel:Dog",
      "Dog/1.jpg": "keep"
    }

``exclude`` leaves the image out, ``relabel:<label>`` gives it that label, ``keep`` records
that someone looked and found it right. No file is ever deleted or moved: undoing a decision
is editing one line. The :class:`~allencv_lite.widgets.DatasetCleaner` writes the file; both
readers apply it with ``"cleaning_file": "cleaning.json"``.
"""
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Dict, List, Optional, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import write_text_atomically

logger = logging.getLogger(__name__)

KEEP = "keep"
EXCLUDE = "exclude"
RELABEL = "relabel:"

Sample = Tuple[str, Optional[str]]  # (image path, label or None), as readers produce them


def relabel(label: str) -> str:
    """The action that gives an image ``label``: ``"relabel:<label>"``."""
    return RELABEL + label


def check_action(action: object, where: str) -> str:
    """``action`` if it is ``keep``, ``exclude`` or ``relabel:<label>``.

    Raises:
        ConfigurationError: anything else; the message names ``where`` (file and entry).
    """
    if action in (KEEP, EXCLUDE) or (isinstance(action, str) and action.startswith(RELABEL) and
                                     action[len(RELABEL):].strip()):
        return action  # type: ignore[return-value]
    raise ConfigurationError(f"{where}: {action!r} is not an action; use \"keep\", \"exclude\" or "
                             "\"relabel:<label>\" (e.g. \"relabel:Dog\").")


def relative_key(path: Union[str, os.PathLike], root: Union[str, os.PathLike]) -> str:
    """``path`` relative to ``root`` with forward slashes, the key of ``cleaning.json``
    (the same on every operating system)."""
    return PurePosixPath(*Path(os.path.relpath(path, root)).parts).as_posix()


@dataclass
class AppliedCleaning:
    """What applying the decisions did to one dataset.

    Attributes:
        excluded: keys of the images left out.
        relabelled: ``{key: (old label, new label)}``.
        kept: keys confirmed as they are.
        unmatched: ``{key: why}`` for entries that changed nothing: no such file under the root
            (missing), or a file the reader did not take (unreadable, outside a class folder),
            or a relabel to the label the image already has (stale: the file was moved since).
    """

    source: str
    excluded: List[str] = field(default_factory=list)
    relabelled: Dict[str, Tuple[Optional[str], str]] = field(default_factory=dict)
    kept: List[str] = field(default_factory=list)
    unmatched: Dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line, e.g. ``"Cleaning applied to data/train: 2 excluded, 1 relabelled (Cat -> Dog: 1), 0 kept."``."""
        moves = Counter(f"{old} -> {new}" for old, new in self.relabelled.values())
        detail = f" ({', '.join(f'{move}: {n}' for move, n in sorted(moves.items()))})" if moves else ""
        unmatched = f"; {len(self.unmatched)} entries changed nothing" if self.unmatched else ""
        return (f"Cleaning applied to {self.source}: {len(self.excluded)} excluded, {len(self.relabelled)} "
                f"relabelled{detail}, {len(self.kept)} kept{unmatched}.")


class CleaningDecisions:
    """The decisions of a ``cleaning.json``: ``{key: action}`` (see the module docstring).

    Args:
        decisions: ``{path relative to the data root: action}``.
        source: where they came from, named in messages.

    Raises:
        ConfigurationError: an action that is not ``keep``, ``exclude`` or ``relabel:<label>``.
    """

    def __init__(self, decisions: Optional[Dict[str, str]] = None, source: str = "cleaning decisions") -> None:
        self.source = source
        self.decisions = {key: check_action(action, f"{source}, entry '{key}'")
                          for key, action in (decisions or {}).items()}

    @classmethod
    def load(cls, path: Union[str, os.PathLike], missing_ok: bool = False) -> "CleaningDecisions":
        """Read a ``cleaning.json``.

        Args:
            missing_ok: a missing file gives no decisions (the cleaner starts one) instead of an error.

        Raises:
            ConfigurationError: the file is missing (unless ``missing_ok``), is not a JSON
                object of strings, or holds an unknown action; the message names the file.
        """
        path = Path(path)
        if not path.is_file():
            if missing_ok:
                return cls(source=str(path))
            raise ConfigurationError(f"cleaning_file: {path} does not exist; write it with the DatasetCleaner, "
                                     "or remove \"cleaning_file\" from the reader's config.")
        try:
            decisions = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ConfigurationError(f"cleaning_file: {path} is not valid JSON ({error}).") from None
        if not isinstance(decisions, dict):
            raise ConfigurationError(f"cleaning_file: {path} must hold a JSON object of "
                                     f"{{\"<path relative to the data root>\": \"<action>\"}}, got {type(decisions).__name__}.")
        return cls(decisions, source=str(path))

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the decisions as indented JSON, keys sorted, atomically (a crash leaves the old file whole).

        Raises:
            ConfigurationError: ``path`` cannot be written (its folder is missing, the disk is
                full or read-only), naming it.
        """
        write_text_atomically(json.dumps(dict(sorted(self.decisions.items())), indent=2) + "\n", path)

    def decide(self, key: str, action: str) -> None:
        """Record ``action`` for the image ``key``.

        Raises:
            ConfigurationError: an unknown action.
        """
        self.decisions[key] = check_action(action, f"{self.source}, entry '{key}'")

    def forget(self, key: str) -> None:
        """Drop the decision about ``key``, if there is one."""
        self.decisions.pop(key, None)

    def get(self, key: str) -> Optional[str]:
        """The action recorded for ``key``, or ``None``."""
        return self.decisions.get(key)

    def apply(self, samples: List[Sample], root: Union[str, os.PathLike]) -> Tuple[List[Sample], AppliedCleaning]:
        """The samples with the decisions applied: excluded ones left out, relabelled ones with
        their new label. Logs the :meth:`AppliedCleaning.summary`, and one warning for each
        entry that changed nothing, naming it and why.

        Args:
            samples: ``(path, label)`` pairs found under ``root``.
            root: the folder the keys are relative to.
        """
        applied = AppliedCleaning(source=str(root))
        cleaned: List[Sample] = []
        seen = set()
        for path, label in samples:
            key = relative_key(path, root)
            action = self.decisions.get(key)
            seen.add(key)
            if action is None:
                cleaned.append((path, label))
            elif action == EXCLUDE:
                applied.excluded.append(key)
            elif action == KEEP:
                applied.kept.append(key)
                cleaned.append((path, label))
            elif action[len(RELABEL):] == label:
                applied.unmatched[key] = f"it is already labelled '{label}' (stale: was the file moved?)"
                cleaned.append((path, label))
            else:
                applied.relabelled[key] = (label, action[len(RELABEL):])
                cleaned.append((path, action[len(RELABEL):]))
        for key in self.decisions.keys() - seen:
            applied.unmatched[key] = ("the reader did not take this file (see its warnings)" if (Path(root) / key).exists()
                                      else f"no such file under {root} (missing: deleted, moved or another dataset?)")
        for key, why in sorted(applied.unmatched.items()):
            logger.warning("%s: entry '%s' (%s) changed nothing: %s.", self.source, key, self.decisions[key], why)
        logger.info("%s", applied.summary())
        return cleaned, applied

    def __len__(self) -> int:
        return len(self.decisions)

    def __repr__(self) -> str:
        return f"CleaningDecisions({len(self)} decisions from {self.source})"
