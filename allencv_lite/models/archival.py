"""``model.tar.gz``: a trained model as plain files (config, weights, vocabulary).

An archive holds ``config.json`` (the resolved experiment config), ``weights.th`` (the
model's ``state_dict``), ``vocabulary/<namespace>.txt`` and ``meta.json`` (format
version). Nothing in it is pickled code: weights load with ``torch.load(weights_only=True)``,
and the model is rebuilt from the config, as AllenNLP does.
"""
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model

ARCHIVE_FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.th"
VOCABULARY_DIR = "vocabulary"
META_NAME = "meta.json"
REQUIRED_MEMBERS = (CONFIG_NAME, WEIGHTS_NAME, META_NAME)


@dataclass
class Archive:
    """A loaded archive: the model (in eval mode), its config, and the validation reader."""

    model: Model
    config: Dict[str, Any]
    dataset_reader: DatasetReader

    @property
    def vocab(self) -> Vocabulary:
        return self.model.vocab


def archive_model(archive_file: Union[str, os.PathLike], config: Dict[str, Any],
                  weights: Dict[str, torch.Tensor], vocab: Vocabulary) -> Path:
    """Write ``archive_file`` atomically: readers never see a half-written archive.

    Args:
        archive_file: destination, usually ``<serialization_dir>/model.tar.gz``.
        config: the resolved experiment config.
        weights: the model's ``state_dict``.
        vocab: the label vocabulary.
    """
    archive_file = Path(archive_file)
    with tempfile.TemporaryDirectory(dir=archive_file.parent) as staging:
        staging_dir = Path(staging)
        (staging_dir / CONFIG_NAME).write_text(json.dumps(config, indent=2), encoding="utf-8")
        (staging_dir / META_NAME).write_text(json.dumps({"format_version": ARCHIVE_FORMAT_VERSION}), encoding="utf-8")
        torch.save(weights, staging_dir / WEIGHTS_NAME)
        vocab.save_to_files(staging_dir / VOCABULARY_DIR)
        partial = staging_dir / "archive.partial"
        with tarfile.open(partial, "w:gz") as archive:
            for name in (CONFIG_NAME, META_NAME, WEIGHTS_NAME, VOCABULARY_DIR):
                archive.add(staging_dir / name, arcname=name)
        os.replace(partial, archive_file)
    return archive_file


def _check_member(archive_file: Path, member: tarfile.TarInfo) -> None:
    name = Path(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise ConfigurationError(f"{archive_file}: refusing member '{member.name}' whose path leaves the archive.")
    if not (member.isfile() or member.isdir()):
        raise ConfigurationError(f"{archive_file}: refusing member '{member.name}': only regular files are allowed.")


def extract_archive(archive_file: Union[str, os.PathLike], destination: Union[str, os.PathLike]) -> Path:
    """Safely unpack ``archive_file`` into ``destination``.

    Only regular files and folders inside ``destination`` are extracted; absolute paths,
    ``..``, links and device files are refused (besides Python's ``"data"`` filter).

    Raises:
        ConfigurationError: the file is missing, not a gzipped tar, truncated, unsafe, or
            lacks one of ``config.json``, ``weights.th``, ``meta.json``.
    """
    archive_file = Path(archive_file)
    if not archive_file.is_file():
        raise ConfigurationError(f"Archive {archive_file} does not exist.")
    try:
        with tarfile.open(archive_file, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                _check_member(archive_file, member)
            archive.extractall(destination, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ConfigurationError(f"Archive {archive_file} is corrupt or truncated ({error}); re-create it by training.") from None
    destination = Path(destination)
    missing = [name for name in REQUIRED_MEMBERS if not (destination / name).is_file()]
    if missing:
        raise ConfigurationError(f"Archive {archive_file} lacks {missing}; it was not written by allencv-lite.")
    return destination


def _without_pretrained_downloads(block: Any) -> Any:
    """The config with every ``"pretrained": true`` turned off: the archive has the weights."""
    if isinstance(block, dict):
        return {k: (False if k == "pretrained" else _without_pretrained_downloads(v)) for k, v in block.items()}
    if isinstance(block, list):
        return [_without_pretrained_downloads(v) for v in block]
    return block


def load_archive(archive_file: Union[str, os.PathLike], cuda_device: int = -1,
                 weights_file: Optional[Union[str, os.PathLike]] = None) -> Archive:
    """Rebuild the model saved in ``archive_file``.

    Args:
        archive_file: a ``model.tar.gz`` written by ``allencv-lite train``.
        cuda_device: -1 for CPU, else the GPU index to load onto.
        weights_file: use these weights instead of the archived ones (e.g. another epoch).

    Raises:
        ConfigurationError: see :func:`extract_archive`; also weights that do not fit the
            model described by the config.
    """
    with tempfile.TemporaryDirectory() as scratch:
        folder = extract_archive(archive_file, scratch)
        meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        if meta.get("format_version") != ARCHIVE_FORMAT_VERSION:
            raise ConfigurationError(f"Archive {archive_file} has format {meta.get('format_version')}; "
                                     f"this allencv-lite reads format {ARCHIVE_FORMAT_VERSION}.")
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
        vocab = Vocabulary.from_files(folder / VOCABULARY_DIR)
        device = torch.device("cpu" if cuda_device < 0 else f"cuda:{cuda_device}")
        try:
            state = torch.load(weights_file or folder / WEIGHTS_NAME, map_location=device, weights_only=True)
        except Exception as error:
            raise ConfigurationError(f"Could not read the weights in {archive_file}: {error}") from None
    model = Model.from_params(_without_pretrained_downloads(config["model"]), "model", vocab=vocab)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ConfigurationError(f"The weights in {archive_file} do not fit its model config: {error}") from None
    model.to(device).eval()
    reader_config = config.get("validation_dataset_reader", config["dataset_reader"])
    reader = DatasetReader.from_params(reader_config, "validation_dataset_reader")
    return Archive(model=model, config=config, dataset_reader=reader)
