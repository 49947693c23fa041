"""What an audit found, as pandas tables, the ``audit.json`` contract, and decisions taken from it.

``audit.json`` (written by ``allencv-lite audit DATA_DIR --output-file audit.json``; paths
relative to DATA_DIR with forward slashes)::

    {
      "label_issues": [{"path": "train/Cat/12.jpg", "label": "Cat", "suggested_label": "Dog", "score": 0.03}, ...],
      "duplicates":   [{"paths": ["train/Cat/1.jpg", "train/Cat/9.jpg"], "similarity": 1.0, "exact": true}, ...],
      "leakage":      [{"paths": ["train/Dog/4.jpg", "val/Dog/7.jpg"], "similarity": 0.97, "exact": false}, ...],
      "skipped":      [{"path": "train/Cat/broken.jpg", "reason": "truncated"}, ...],
      "totals":       {"label_issues": 3, "duplicates": 1, "leakage": 1, "skipped": 1},
      "near_duplicate_similarity": 0.8862
    }

``label_issues`` are worst first (lowest ``score``, the out-of-sample probability of the given
label); ``duplicates`` are pairs within one split, most similar first; ``leakage`` pairs have one
image in each split (``train/`` and ``val/`` or ``validation/``); ``skipped`` lists the files that
could not be read. ``duplicates`` and ``leakage`` list at most :data:`MAX_LISTED_PAIRS` pairs each
(the most similar: pairs grow with the square of the images, and a file must stay readable);
``totals`` counts every finding of each kind, listed or not. ``near_duplicate_similarity`` is the
cosine similarity the near duplicates were found from (see :mod:`allencv_lite.audit.duplicates`).
Every finding is a proposal: nothing in the data folder is changed.
"""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from allencv_lite.audit.duplicates import nearest_neighbours
from allencv_lite.audit.label_issues import fit_linear_probe, l2_normalise
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import write_text_atomically
from allencv_lite.common.text import plural
from allencv_lite.data.cleaning import EXCLUDE, CleaningDecisions, relabel, relative_key

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LABEL_ISSUE_COLUMNS = ["path", "split", "label", "suggested_label", "score"]
PAIR_COLUMNS = ["path", "other_path", "similarity", "exact"]
MAX_LISTED_PAIRS = 1000  # duplicate and leakage pairs each, in audit.json: about 150 bytes a pair


def check_output_file(path: Union[str, os.PathLike], data_dir: Union[str, os.PathLike]) -> None:
    """Refuse an ``audit.json`` path that cannot be written or lies inside the audited folder.

    Raises:
        ConfigurationError: naming ``path`` and the fix.
    """
    path = Path(path)
    if path.resolve().is_relative_to(Path(data_dir).resolve()):
        raise ConfigurationError(f"--output-file {path} is inside the audited folder {data_dir}; the audit never "
                                 "writes into the data. Choose a path outside it.")
    if not path.parent.is_dir():
        raise ConfigurationError(f"Cannot write --output-file {path}: its folder {path.parent} does not exist.")


@dataclass
class AuditReport:
    """The findings of :func:`~allencv_lite.audit.audit` on one data folder.

    Attributes:
        root: the audited DATA_DIR.
        images: one row per readable image: ``path`` (relative to ``root``, forward slashes),
            ``split`` (``train``, ``val``, ``validation`` or ``""`` without splits), ``label``,
            ``suggested_label`` (the out-of-sample prediction), ``score`` (the out-of-sample
            probability of ``label``, cleanlab's self-confidence), ``hash`` (SHA-256 of the file).
        features: ``(len(images), channels)`` float32, the backbone's vectors in the order of ``images``.
        probabilities: ``(len(images), len(classes))``, each image's out-of-sample class probabilities.
        classes: the labels, sorted (the columns of ``probabilities``).
        label_issues: the images cleanlab flags, worst first (columns :data:`LABEL_ISSUE_COLUMNS`).
        duplicates, leakage: pairs within one split, and across splits (columns :data:`PAIR_COLUMNS`).
        skipped: ``path``, ``reason`` of the files that could not be read.
        backbone: the feature backbone's name; ``settings``: folds, seed, threshold, normalisation.
    """

    root: Path
    images: pd.DataFrame
    features: np.ndarray
    probabilities: np.ndarray
    classes: List[str]
    label_issues: pd.DataFrame
    duplicates: pd.DataFrame
    leakage: pd.DataFrame
    skipped: pd.DataFrame
    backbone: str
    settings: Dict[str, Any] = field(default_factory=dict)

    def to_json(self, max_pairs: int = MAX_LISTED_PAIRS) -> Dict[str, Any]:
        """The ``audit.json`` contract (see the module docstring), listing at most ``max_pairs``
        duplicate and ``max_pairs`` leakage pairs, the most similar."""
        def pairs(table: pd.DataFrame) -> List[Dict[str, Any]]:
            return [{"paths": [row.path, row.other_path], "similarity": round(float(row.similarity), 4),
                     "exact": bool(row.exact)} for row in table.head(max_pairs).itertuples()]

        return {
            "label_issues": [{"path": row.path, "label": row.label, "suggested_label": row.suggested_label,
                              "score": round(float(row.score), 4)} for row in self.label_issues.itertuples()],
            "duplicates": pairs(self.duplicates),
            "leakage": pairs(self.leakage),
            "skipped": [{"path": row.path, "reason": row.reason} for row in self.skipped.itertuples()],
            "totals": {"label_issues": len(self.label_issues), "duplicates": len(self.duplicates),
                       "leakage": len(self.leakage), "skipped": len(self.skipped)},
            "near_duplicate_similarity": round(float(self.settings["near_duplicate_similarity"]), 4),
        }

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write :meth:`to_json` to ``path`` atomically.

        Raises:
            ConfigurationError: ``path`` is inside the audited folder (the audit never writes
                there), or cannot be written.
        """
        check_output_file(path, self.root)
        write_text_atomically(json.dumps(self.to_json(), indent=2) + "\n", path)

    def summary(self, listed: int = 5, see: str = "report.{table}") -> str:
        """A few lines for the terminal: counts, then the ``listed`` worst label issues and most
        similar duplicate and leakage pairs. A list that is cut ends in a line with the number left
        out and ``see``, where the rest are (``{table}`` stands for ``label_issues``, ``duplicates``
        or ``leakage``): ``  … and 12 more label issues (see report.label_issues)``."""
        def label_issue(row: Any) -> str:
            return (f"  label issue  {row.path}: labelled {row.label}, looks like {row.suggested_label} "
                    f"(score {row.score:.3f})")

        def pair(kind: str) -> Callable[[Any], str]:
            return lambda row: (f"  {kind:11}  {row.path} ~ {row.other_path} (similarity {row.similarity:.3f}"
                                f"{', exact' if row.exact else ''})")

        lines = [f"Audited {len(self.images)} images of {self.root} with {self.backbone} features "
                 f"({len(self.skipped)} skipped).",
                 f"{plural(len(self.label_issues), 'label issue')}, {plural(len(self.duplicates), 'duplicate pair')} "
                 f"({int(self.duplicates.exact.sum())} exact), "
                 f"{plural(len(self.leakage), 'train/validation leakage pair')}."]
        for table, noun, describe in (("label_issues", "label issue", label_issue),
                                      ("duplicates", "duplicate pair", pair("duplicate")),
                                      ("leakage", "leakage pair", pair("leakage"))):
            rows = getattr(self, table)
            lines.extend(describe(row) for row in rows.head(listed).itertuples())
            if len(rows) > listed:
                lines.append(f"  … and {plural(len(rows) - listed, 'more ' + noun)} "
                             f"(see {see.replace('{table}', table)})")
        return "\n".join(lines)

    def neighbours(self, paths: Union[str, Sequence[str]], k: int = 3,
                   split: Optional[str] = "train") -> pd.DataFrame:
        """For each image of ``paths``, the ``k`` images of ``split`` (all images when ``None`` or
        without splits) whose features are most similar, most similar first: columns ``of`` (the
        image asked about), ``path``, ``label``, ``similarity`` (cosine). They show why the audit
        suggests a label.

        Raises:
            ConfigurationError: a path that is not an audited image.
        """
        queries = [self._index(path) for path in ([paths] if isinstance(paths, str) else paths)]
        has_split = split is not None and (self.images.split == split).any()
        candidates = np.flatnonzero(self.images.split == split) if has_split else np.arange(len(self.images))
        found = nearest_neighbours(self.features, queries, candidates, k)
        rows = [(self.images.path.iloc[query], self.images.path.iloc[other], self.images.label.iloc[other], similarity)
                for query in queries for other, similarity in found[query]]
        return pd.DataFrame(rows, columns=["of", "path", "label", "similarity"])

    def plot_label_issues(self, k: int = 6, ncols: int = 3, figsize: Optional[Tuple[float, float]] = None) -> "Figure":
        """The ``k`` worst label issues as pictures with their nearest training images (see
        :func:`allencv_lite.audit.plots.plot_label_issues`); what ``plot_top_losses(k, audit=report)`` draws."""
        from allencv_lite.audit.plots import plot_label_issues

        return plot_label_issues(self, k, ncols, figsize)

    def linear_probe_accuracy(self, train_samples: Sequence[Tuple[str, str]],
                              validation_samples: Sequence[Tuple[str, str]]) -> float:
        """The validation accuracy of a logistic regression trained on the audited features of
        ``train_samples``: a retrain in seconds, to compare labels before and after cleaning.

        Args:
            train_samples, validation_samples: ``(image path, label)`` pairs as a reader gives them
                (``dataset.samples``, so a ``cleaning_file`` is applied), images of this audit.

        Raises:
            ConfigurationError: an image that is not in this audit.
        """
        def rows(samples: Sequence[Tuple[str, str]]) -> Tuple[np.ndarray, List[str]]:
            indices = [self._index(relative_key(path, self.root)) for path, _ in samples]
            return self.features[indices], [label for _, label in samples]

        classifier = fit_linear_probe(*rows(train_samples))
        features, labels = rows(validation_samples)
        return float(np.mean(classifier.predict(l2_normalise(features)) == np.array(labels)))

    def split_root(self, path: str) -> Path:
        """The folder a reader reads for the image ``path`` (its split folder, or ``root``)."""
        split = self.images.split.iloc[self._index(path)]
        return self.root / split if split else self.root

    def accept(self, path: str, cleaning_file: Union[str, os.PathLike], action: Optional[str] = None) -> str:
        """Accept the proposal about ``path``: write a decision into ``cleaning_file`` (created if
        missing, written atomically), keyed by the path relative to its split folder, which is the
        folder a reader of that split applies the file to. The data folder is not touched.

        Args:
            path: an image as the report names it (``train/Cat/12.jpg``).
            cleaning_file: the ``cleaning.json`` of that split's reader.
            action: ``keep``, ``exclude`` or ``relabel:<label>``; by default ``relabel`` to the
                suggested label for a label issue, ``exclude`` for an image in a duplicate or leakage pair.

        Returns:
            the action written.

        Raises:
            ConfigurationError: ``path`` is not audited, ``cleaning_file`` is inside the data
                folder, or no action is given for an image with no finding.
        """
        if Path(cleaning_file).resolve().is_relative_to(self.root.resolve()):
            raise ConfigurationError(f"cleaning_file {cleaning_file} is inside the audited folder {self.root}; keep "
                                     "decisions beside the data, not in it.")
        row = self.images.iloc[self._index(path)]
        if action is None:
            if path in set(self.label_issues.path):
                action = relabel(row.suggested_label)
            elif path in set(self.duplicates.other_path) | set(self.leakage.other_path) | set(self.duplicates.path):
                action = EXCLUDE
            else:
                raise ConfigurationError(f"The audit proposes nothing for {path}; give the action "
                                         "(\"keep\", \"exclude\" or \"relabel:<label>\").")
        decisions = CleaningDecisions.load(cleaning_file, missing_ok=True)
        prefix = f"{row.split}/" if row.split else ""
        decisions.decide(path[len(prefix):], action)
        decisions.save(cleaning_file)
        return action

    def _index(self, path: str) -> int:
        matches = np.flatnonzero(self.images.path == PurePosixPath(path).as_posix())
        if not len(matches):
            raise ConfigurationError(f"{path} is not an image of this audit of {self.root}; paths are relative to it, "
                                     "e.g. 'train/Cat/1.jpg'.")
        return int(matches[0])
