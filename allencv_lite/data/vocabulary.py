"""The mapping between label strings and the integer indices a model predicts."""
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Union
import collections
import os

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import write_text_atomically

DEFAULT_NAMESPACE = "labels"


class Vocabulary:
    """Label <-> index tables, one per namespace (AllenNLP's ``Vocabulary``, labels only).

    Build it from counts per label, ``Vocabulary({"labels": {"Cat": 1234, "Dog": 1234}})``,
    or from the training data with :meth:`from_labels`. Labels are indexed in sorted order
    (as torchvision's ``ImageFolder`` does), so the same folders always give the same
    indices; the counts are kept for summaries and class weights.
    """

    def __init__(self, counter: Optional[Mapping[str, Mapping[str, int]]] = None) -> None:
        self._counts: Dict[str, Dict[str, int]] = {}
        self._index_to_token: Dict[str, List[str]] = {}
        self._token_to_index: Dict[str, Dict[str, int]] = {}
        for namespace, counts in (counter or {}).items():
            self._set_namespace(namespace, sorted(counts), dict(counts))

    def _set_namespace(self, namespace: str, tokens: List[str], counts: Dict[str, int]) -> None:
        self._index_to_token[namespace] = list(tokens)
        self._token_to_index[namespace] = {token: i for i, token in enumerate(tokens)}
        self._counts[namespace] = counts

    @classmethod
    def from_labels(cls, labels: Iterable[str], namespace: str = DEFAULT_NAMESPACE) -> "Vocabulary":
        """Count ``labels`` (one per training image) into a vocabulary."""
        return cls({namespace: collections.Counter(labels)})

    def get_vocab_size(self, namespace: str = DEFAULT_NAMESPACE) -> int:
        """Number of labels in ``namespace``."""
        return len(self._index_to_token.get(namespace, []))

    def get_token_index(self, token: str, namespace: str = DEFAULT_NAMESPACE) -> int:
        """Index of ``token``.

        Raises:
            ConfigurationError: the label was not in the training data.
        """
        try:
            return self._token_to_index[namespace][token]
        except KeyError:
            known = self._index_to_token.get(namespace, [])
            raise ConfigurationError(
                f"Label '{token}' is not in the vocabulary's '{namespace}' namespace "
                f"(known: {known}). Every validation label must also occur in the training data."
            ) from None

    def get_token_from_index(self, index: int, namespace: str = DEFAULT_NAMESPACE) -> str:
        """The label with index ``index``."""
        return self._index_to_token[namespace][index]

    def get_index_to_token_vocabulary(self, namespace: str = DEFAULT_NAMESPACE) -> Dict[int, str]:
        """``{index: label}`` for ``namespace``."""
        return dict(enumerate(self._index_to_token.get(namespace, [])))

    def get_token_counts(self, namespace: str = DEFAULT_NAMESPACE) -> Dict[str, int]:
        """``{label: count}`` as seen when the vocabulary was built (empty if loaded from files)."""
        return dict(self._counts.get(namespace, {}))

    def save_to_files(self, directory: Union[str, os.PathLike]) -> None:
        """Write ``<namespace>.txt`` files, one label per line in index order (AllenNLP's format),
        each atomically (:mod:`allencv_lite.common.files`)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for namespace, tokens in self._index_to_token.items():
            write_text_atomically("".join(t + "\n" for t in tokens), directory / f"{namespace}.txt")

    @classmethod
    def from_files(cls, directory: Union[str, os.PathLike]) -> "Vocabulary":
        """Read a vocabulary written by :meth:`save_to_files`.

        Raises:
            ConfigurationError: the directory holds no ``.txt`` namespace file.
        """
        vocab = cls()
        files = sorted(Path(directory).glob("*.txt"))
        if not files:
            raise ConfigurationError(f"No vocabulary files (*.txt) in {directory}.")
        for file in files:
            tokens = file.read_text(encoding="utf-8").splitlines()
            vocab._set_namespace(file.stem, tokens, {})
        return vocab

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._index_to_token == other._index_to_token

    def __repr__(self) -> str:
        sizes = {ns: len(tokens) for ns, tokens in self._index_to_token.items()}
        return f"Vocabulary(sizes={sizes})"
