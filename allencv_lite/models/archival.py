"""``model.tar.gz``: a trained model as plain files (config, weights, vocabulary).

An archive holds ``config.json`` (the resolved experiment config), ``weights.th`` (the
model's ``state_dict``), ``vocabulary/<namespace>.txt`` and ``meta.json`` (format
version), and for a model validated on files held out of its training folder by a reader's
``validation_split``, ``validation_files.txt`` naming them (see :func:`load_validation_files`).
Nothing in it is pickled code: weights load with ``torch.load(weights_only=True)``,
and the model is rebuilt from the config, as AllenNLP does.

Archives may come from elsewhere, so loading trusts nothing in them: only regular files
and folders are extracted, only inside a fresh scratch folder (no absolute paths, no
``..``, no links, no devices), the whole gzip stream is checked (its CRC catches corrupt
bytes), and every member that is missing or unreadable is named in the error.
"""
import io
import json
import logging
import os
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.devices import select_device
from allencv_lite.common.files import atomic_writer, writing
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model

ARCHIVE_FORMAT_VERSION = 1
ARCHIVE_NAME = "model.tar.gz"  # in the serialization dir
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.th"
VOCABULARY_DIR = "vocabulary"
META_NAME = "meta.json"
VALIDATION_FILES_NAME = "validation_files.txt"
REQUIRED_MEMBERS = (CONFIG_NAME, WEIGHTS_NAME, META_NAME, f"{VOCABULARY_DIR}/labels.txt")

logger = logging.getLogger(__name__)


@dataclass
class Archive:
    """A loaded archive: the model (in eval mode), its config, and the validation reader."""

    model: Model
    config: Dict[str, Any]
    dataset_reader: DatasetReader
    validation_files: Optional[List[str]] = None  # see load_validation_files

    @property
    def vocab(self) -> Vocabulary:
        """The label vocabulary the model was trained with."""
        return self.model.vocab


def archive_model(archive_file: Union[str, os.PathLike], config: Dict[str, Any],
                  weights: Dict[str, torch.Tensor], vocab: Vocabulary,
                  validation_files: Optional[Sequence[str]] = None) -> Path:
    """Write ``archive_file`` atomically: readers never see a half-written archive, and a
    crash while writing leaves an existing archive at that path untouched (the members are
    staged in a temporary folder beside it, the archive written with
    :func:`~allencv_lite.common.files.atomic_writer`).

    Args:
        archive_file: destination, usually ``<serialization_dir>/model.tar.gz``.
        config: the resolved experiment config.
        weights: the model's ``state_dict``.
        vocab: the label vocabulary.
        validation_files: the files the model was validated on, relative to ``train_data_path``
            (or its CSV's image directory), when a reader's ``validation_split`` held them out
            of it: written one per line as ``validation_files.txt``.

    Raises:
        ConfigurationError: the archive cannot be written (full or read-only disk), naming it.
    """
    archive_file = Path(archive_file)
    weights_bytes = io.BytesIO()  # torch's own file writer reports a full disk as an unnamed RuntimeError
    torch.save(weights, weights_bytes)
    with atomic_writer(archive_file, binary=True) as file, tempfile.TemporaryDirectory(dir=archive_file.parent) as staging:
        staging_dir = Path(staging)
        (staging_dir / CONFIG_NAME).write_text(json.dumps(config, indent=2), encoding="utf-8")
        (staging_dir / META_NAME).write_text(json.dumps({"format_version": ARCHIVE_FORMAT_VERSION}), encoding="utf-8")
        (staging_dir / WEIGHTS_NAME).write_bytes(weights_bytes.getbuffer())
        vocab.save_to_files(staging_dir / VOCABULARY_DIR)
        members = [CONFIG_NAME, META_NAME, WEIGHTS_NAME, VOCABULARY_DIR]
        if validation_files is not None:
            (staging_dir / VALIDATION_FILES_NAME).write_text("".join(f"{name}\n" for name in validation_files),
                                                             encoding="utf-8")
            members.append(VALIDATION_FILES_NAME)
        with tarfile.open(fileobj=file, mode="w:gz") as archive:
            for name in members:
                archive.add(staging_dir / name, arcname=name)
    return archive_file


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link to '{member.linkname}'"
    if member.islnk():
        return f"a hard link to '{member.linkname}'"
    if member.ischr() or member.isblk():
        return "a device file"
    if member.isfifo():
        return "a named pipe"
    return f"of tar type {member.type!r}"


def _check_member(archive_file: Path, member: tarfile.TarInfo) -> None:
    """Raise ``ConfigurationError`` unless ``member`` is a regular file or folder that stays inside."""
    name = Path(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise ConfigurationError(f"Archive {archive_file}: refusing member '{member.name}', whose path leaves "
                                 "the folder it is extracted into.")
    if not (member.isfile() or member.isdir()):
        raise ConfigurationError(f"Archive {archive_file}: refusing member '{member.name}', which is "
                                 f"{_member_kind(member)}; only regular files and folders are allowed.")


def extract_archive(archive_file: Union[str, os.PathLike], destination: Union[str, os.PathLike]) -> Path:
    """Safely unpack ``archive_file`` into ``destination``.

    Every member is checked before anything is written: only regular files and folders
    inside ``destination`` are extracted; absolute paths, ``..``, symbolic and hard links
    and device files are refused (Python's ``"data"`` extraction filter is applied too).
    The gzip stream is then read to its end, so its CRC-32 check catches corrupt bytes.

    Raises:
        ConfigurationError: the file is missing (or a folder), a training config (the one place
            that says so, for every command that takes a trained model), not a gzipped tar,
            truncated or corrupt, holds an unsafe member, or lacks one of :data:`REQUIRED_MEMBERS`;
            ``destination`` cannot be written.
    """
    archive_file = Path(archive_file)
    if archive_file.is_dir():
        raise ConfigurationError(f"Archive {archive_file} is a folder without {ARCHIVE_NAME}: train writes it there "
                                 "when a run ends; pass the model.tar.gz of a finished run.")
    if not archive_file.is_file():
        raise ConfigurationError(f"Archive {archive_file} does not exist.")
    if _looks_like_a_config(archive_file):
        raise ConfigurationError(f"{archive_file} is a training config, not a trained model's archive: train it first "
                                 f"(allencv-lite train {archive_file} -s runs/my_run, with the variables it reads, "
                                 "e.g. TRAIN_PATH=... VALIDATION_PATH=...), then pass runs/my_run/model.tar.gz.")
    try:
        with tarfile.open(archive_file, "r:gz") as archive:
            members = archive.getmembers()
            for member in members:
                _check_member(archive_file, member)
            with writing(destination):  # a full scratch disk is not the archive's fault
                archive.extractall(destination, members=members, filter="data")
            while archive.fileobj.read(1 << 20):  # the rest of the stream, up to the gzip CRC
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise ConfigurationError(f"Archive {archive_file} is corrupt or truncated ({error}); "
                                 "re-create it by training, or copy it again.") from None
    destination = Path(destination)
    missing = [name for name in REQUIRED_MEMBERS if not (destination / name).is_file()]
    if missing:
        raise ConfigurationError(f"Archive {archive_file} lacks {missing}; it was not written by allencv-lite "
                                 "(or was edited by hand).")
    return destination


CONFIG_SUFFIXES = (".json", ".jsonnet", ".libsonnet")


def _looks_like_a_config(path: Path) -> bool:
    """Whether ``path`` is a JSON/Jsonnet config given where an archive belongs: not gzip (an archive
    starts with the bytes 1f 8b) and named like a config or starting like one (``{``, ``local``, ``//``)."""
    with path.open("rb") as stream:
        start = stream.read(512)
    if start[:2] == b"\x1f\x8b":
        return False
    return path.suffix in CONFIG_SUFFIXES or start.lstrip().startswith((b"{", b"local ", b"//", b"/*"))


def _read_json_member(archive_file: Path, folder: Path, name: str) -> Dict[str, Any]:
    try:
        value = json.loads((folder / name).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigurationError(f"Archive {archive_file}: member {name} is not valid JSON ({error}).") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"Archive {archive_file}: member {name} must hold a JSON object, got {value!r:.80}.")
    return value


def prediction_reader_config(config: Mapping[str, Any]) -> Dict[str, Any]:
    """The reader config that prepares images for prediction and evaluation.

    This is ``validation_dataset_reader``, never the training augmentation. A config
    without one validated with its ``dataset_reader``; then only that reader's steps
    registered as ``deterministic`` (:class:`~allencv_lite.data.augmentation.Traits`), at
    ``p`` = 1, are kept (resizing, cropping the centre, padding, normalizing, and a user's own
    transforms registered so), as torchvision's eval transforms do, and the dropped ones are
    logged.

    Raises:
        ConfigurationError: a step names no registered transform (say, a plugin's that is not
            imported: pass its package with ``--include-package``).
    """
    if "validation_dataset_reader" in config:
        return dict(config["validation_dataset_reader"])
    reader_config = dict(config["dataset_reader"])
    steps = reader_config.get("augmentation") or []
    kept = [step for step in steps if isinstance(step, dict) and step.get("p", 1) == 1
            and Augmentation.traits_of(step.get("type", "")).deterministic]
    if len(kept) < len(steps):
        dropped = [step.get("type") if isinstance(step, dict) else step for step in steps if step not in kept]
        logger.warning("The config has no validation_dataset_reader; predicting with dataset_reader's "
                       "augmentation without its random steps %s.", dropped)
        reader_config["augmentation"] = kept
    return reader_config


# Config keys that load starting weights when a model is built; the archive holds the trained weights.
_STARTING_WEIGHTS = {"pretrained": False, "pretrained_file": None}


def _without_starting_weights(block: Any) -> Any:
    """The config with ``"pretrained"`` turned off and ``"pretrained_file"`` unset everywhere:
    the archive has the weights, and the machine that loads it may lack the starting ones."""
    if isinstance(block, dict):
        return {k: (_STARTING_WEIGHTS[k] if k in _STARTING_WEIGHTS else _without_starting_weights(v))
                for k, v in block.items()}
    if isinstance(block, list):
        return [_without_starting_weights(v) for v in block]
    return block


def load_archive(archive_file: Union[str, os.PathLike], cuda_device: int = -1,
                 weights_file: Optional[Union[str, os.PathLike]] = None) -> Archive:
    """Rebuild the model saved in ``archive_file``.

    Args:
        archive_file: a ``model.tar.gz`` written by ``allencv-lite train``, or the run's
            serialization dir holding it (as AllenNLP's ``load_archive`` takes a folder).
        cuda_device: -1 for CPU, else the GPU index to load onto (the CPU, with a warning,
            where CUDA is not available).
        weights_file: use these weights instead of the archived ones (e.g. another epoch).

    Returns:
        the model in eval mode, the reader that prepares images for it
        (:func:`prediction_reader_config`), and the files it was validated on
        (:func:`load_validation_files`).

    Raises:
        ConfigurationError: see :func:`extract_archive`; also a ``meta.json`` or
            ``config.json`` that is not a JSON object, another format version, weights that
            are corrupt or hold anything but tensors (pickled code is refused by
            ``torch.load(weights_only=True)``), or weights that do not fit the model the
            config describes.
    """
    archive_file = _archive_in(archive_file)
    with tempfile.TemporaryDirectory() as scratch:
        folder = extract_archive(archive_file, scratch)
        meta = _read_json_member(archive_file, folder, META_NAME)
        if meta.get("format_version") != ARCHIVE_FORMAT_VERSION:
            raise ConfigurationError(f"Archive {archive_file} has format {meta.get('format_version')}; "
                                     f"this allencv-lite reads format {ARCHIVE_FORMAT_VERSION}.")
        config = _read_json_member(archive_file, folder, CONFIG_NAME)
        for key in ("model", "dataset_reader"):
            if key not in config:
                raise ConfigurationError(f"Archive {archive_file}: {CONFIG_NAME} has no '{key}' block.")
        vocab = Vocabulary.from_files(folder / VOCABULARY_DIR)
        validation_files = _read_validation_files(folder)
        device = select_device(cuda_device)
        weights_path = weights_file or folder / WEIGHTS_NAME
        try:
            state = torch.load(weights_path, map_location=device, weights_only=True)
        except Exception as error:  # torch raises many types: UnpicklingError, RuntimeError, EOFError, ...
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise ConfigurationError(f"Could not read the weights {weights_path if weights_file else WEIGHTS_NAME} "
                                     f"of {archive_file}: they are corrupt or hold more than tensors "
                                     f"({first_line}).") from None
    if not isinstance(state, Mapping):
        raise ConfigurationError(f"The weights of {archive_file} are a {type(state).__name__}, "
                                 "not a state_dict (a mapping of parameter names to tensors).")
    model = Model.from_params(_without_starting_weights(config["model"]), "model", vocab=vocab)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise ConfigurationError(f"The weights in {archive_file} do not fit its model config: {error}") from None
    model.to(device).eval()
    reader = DatasetReader.from_params(prediction_reader_config(config), "validation_dataset_reader")
    return Archive(model=model, config=config, dataset_reader=reader, validation_files=validation_files)


def load_validation_files(archive_file: Union[str, os.PathLike]) -> Optional[List[str]]:
    """The files a model was validated on when its reader's ``validation_split`` held them out of
    ``train_data_path``: paths relative to that folder (or its CSV's image directory), e.g.
    ``["Cat/3.jpg", "Dog/7.jpg"]``; ``None`` for a model validated on a folder of its own (or
    on nothing). The model itself is not built. Read the same images again with the archive's
    reader: ``load_archive(a).dataset_reader.read(train_data_path, only=load_validation_files(a))``.

    Args:
        archive_file: a ``model.tar.gz``, or the run's serialization dir holding it.

    Raises:
        ConfigurationError: as :func:`extract_archive`.
    """
    archive_file = _archive_in(archive_file)
    with tempfile.TemporaryDirectory() as scratch:
        return _read_validation_files(extract_archive(archive_file, scratch))


def _archive_in(path: Union[str, os.PathLike]) -> Path:
    """``path``, or the ``model.tar.gz`` in it when it is a run's serialization dir."""
    path = Path(path)
    return path / ARCHIVE_NAME if (path / ARCHIVE_NAME).is_file() else path


def _read_validation_files(folder: Path) -> Optional[List[str]]:
    path = folder / VALIDATION_FILES_NAME
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else None
