"""Train from an experiment config: build everything it describes, train, archive.

:func:`train_model` is what ``allencv-lite train CONFIG -s DIR`` runs; :func:`build_trainer`
builds the trainer, the label vocabulary and the datasets without training (notebooks, the
learning-rate finder). With ``trainer.cuda_device`` a list, one process per device trains with
DistributedDataParallel; under ``torchrun`` every process runs :func:`train_model` alike.
``recover`` resumes a run that stopped, from its newest checkpoint.

The config's top-level keys are AllenNLP's. ``iterator`` and ``data_loader`` are two names for
one block, which builds the :class:`~allencv_lite.data.data_loader.DataLoaderFactory` that batches a
dataset: AllenNLP 0.9 called it ``iterator`` (its ``DataIterator``), AllenNLP 1.0 ``data_loader``
(PyTorch's ``DataLoader``). A config may use either (``data_loader`` wins when both are given), and
``validation_iterator`` / ``validation_data_loader`` likewise; without a validation block,
validation batches as training does.
"""
import json
import logging
import random
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.files import writing
from allencv_lite.common.from_params import check_known_keys
from allencv_lite.common.logs import log_to_stderr
from allencv_lite.common.plugins import import_plugins
from allencv_lite.common.text import plural

if TYPE_CHECKING:  # imported where used, so that the command line starts without torch
    from allencv_lite.data.dataset import ImageDataset
    from allencv_lite.data.vocabulary import Vocabulary
    from allencv_lite.models.model import Model
    from allencv_lite.training.callbacks import TrainerCallback
    from allencv_lite.training.trainer import Trainer

logger = logging.getLogger(__name__)

TOP_LEVEL_KEYS = {"dataset_reader", "validation_dataset_reader", "train_data_path", "validation_data_path",
                  "model", "iterator", "data_loader", "validation_iterator", "validation_data_loader",
                  "trainer", "random_seed", "numpy_seed", "pytorch_seed"}
REQUIRED_KEYS = ("dataset_reader", "train_data_path", "model", "trainer")
BLOCK_KEYS = TOP_LEVEL_KEYS - {"train_data_path", "validation_data_path", "random_seed", "numpy_seed", "pytorch_seed"}
SKIPPED_FILES_NAME = "skipped_files.csv"


def set_seeds(config: Dict[str, Any]) -> None:
    """Seed Python, NumPy and PyTorch with AllenNLP's keys and defaults (13370, 1337, 133)."""
    import numpy as np
    import torch

    random.seed(config.get("random_seed", 13370))
    np.random.seed(config.get("numpy_seed", 1337))
    torch.manual_seed(config.get("pytorch_seed", 133))


def check_top_level(config: Dict[str, Any]) -> None:
    """Raise ``ConfigurationError`` for unknown or missing top-level keys, and for a block
    (``trainer``, ``model``, ...) that is not an object, as ``-o '{trainer: 1}'`` makes it."""
    check_known_keys(config, sorted(TOP_LEVEL_KEYS), "config", "an experiment")
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise ConfigurationError(f"Missing top-level key(s) {missing}.")
    for key in sorted(BLOCK_KEYS & set(config)):
        if not isinstance(config[key], dict):
            raise ConfigurationError(f"{key}: expected an object such as {{\"type\": ...}}, got {config[key]!r}; "
                                     "check the config and any -o overrides.")


def prepare_serialization_dir(serialization_dir: Path, force: bool, recover: bool = False) -> None:
    """Create ``serialization_dir``; refuse a non-empty one unless ``force`` (which empties it)
    or ``recover`` (which keeps it, to resume).

    Raises:
        ConfigurationError: the folder exists, is not empty, and neither flag is set; both
            flags are set; ``recover`` without a ``config.json`` in the folder; the folder
            cannot be created or emptied.
    """
    if force and recover:
        raise ConfigurationError("--force and --recover cannot both be set: --force deletes the run that --recover "
                                 "would resume.")
    if recover:
        from allencv_lite.models.archival import CONFIG_NAME

        if not (serialization_dir / CONFIG_NAME).is_file():
            raise ConfigurationError(f"--recover: {serialization_dir} holds no {CONFIG_NAME}, so there is no run to "
                                     "resume; train without --recover.")
        return
    if serialization_dir.exists() and any(serialization_dir.iterdir()):
        if not force:
            raise ConfigurationError(f"Serialization directory {serialization_dir} is not empty; choose another, "
                                     "pass --recover to resume the run in it, or --force to overwrite it.")
        with writing(serialization_dir):
            shutil.rmtree(serialization_dir)
    with writing(serialization_dir):
        serialization_dir.mkdir(parents=True, exist_ok=True)


def differing_keys(saved: Any, current: Any, path: str = "") -> List[str]:
    """Key paths (``trainer.num_epochs``) whose values differ between two configs."""
    if isinstance(saved, dict) and isinstance(current, dict):
        return [difference for key in sorted(set(saved) | set(current))
                for difference in differing_keys(saved.get(key), current.get(key), f"{path}.{key}" if path else key)]
    return [] if saved == current else [path or "(whole config)"]


def check_recovered_config(config: Dict[str, Any], serialization_dir: Path) -> None:
    """Raise ``ConfigurationError`` naming the keys where ``config`` differs from the saved one."""
    from allencv_lite.models.archival import CONFIG_NAME

    saved = json.loads((serialization_dir / CONFIG_NAME).read_text(encoding="utf-8"))
    differences = differing_keys(saved, json.loads(json.dumps(config)))
    if differences:
        raise ConfigurationError(f"--recover: the config differs from {serialization_dir / CONFIG_NAME} at "
                                 f"{differences}; resume with the same config and overrides, or train a new run.")


def describe_completed_run(serialization_dir: Path, trainer_config: Dict[str, Any]) -> Optional[str]:
    """For ``--recover``: one line saying that the run in ``serialization_dir`` is complete and
    that nothing was done, if its newest checkpoint leaves no epoch to train (all
    ``num_epochs`` done, or ``patience`` ran out) and its ``model.tar.gz`` is written; ``None``
    when there is something left to do (epochs to train, or the archive of a run killed
    between its last checkpoint and its archive).

    Raises:
        ConfigurationError: the newest checkpoint cannot be read.
    """
    import torch

    from allencv_lite.models.archival import ARCHIVE_NAME
    from allencv_lite.training.checkpointing import Checkpointer
    from allencv_lite.training.trainer import DEFAULT_NUM_EPOCHS, MetricTracker

    archive = serialization_dir / ARCHIVE_NAME
    if not archive.is_file():
        return None
    checkpointer = Checkpointer(serialization_dir, None)
    saved = checkpointer.saved_epochs()  # from the file names: the checkpoint is loaded only to read its patience
    epochs_done = saved[-1] + 1 if saved else 0
    num_epochs, patience = trainer_config.get("num_epochs", DEFAULT_NUM_EPOCHS), trainer_config.get("patience")
    if num_epochs == 0:
        why = "it is the linear probe alone, with no epoch to train"
    elif epochs_done >= num_epochs:
        why = "its epoch is done" if num_epochs == 1 else f"all {num_epochs} epochs are done"
    elif saved and patience is not None and MetricTracker(
            **checkpointer.load_latest(torch.device("cpu"))["tracker"]).is_out_of_patience(patience):
        why = (f"it stopped early after epoch {epochs_done} of {num_epochs}, {plural(patience, 'epoch')} without "
               "improvement (trainer.patience)")
    else:
        return None
    return (f"--recover: the run in {serialization_dir} is complete ({why}); nothing was trained and {archive} was "
            "left as it was. To train longer, start a new run (another -s, or --force to replace this one).")


def check_enough_labels(vocab: "Vocabulary", train_data_path: str) -> None:
    """Raise ``ConfigurationError`` unless the training data has at least two labels, which
    classification needs (one label would be a model that always answers it). A class folder
    without images gives no label, so the message names such folders."""
    counts = vocab.get_token_counts()
    if len(counts) >= 2:
        return
    from allencv_lite.data.dataset_readers.image_classification_directory import is_ignored

    root = Path(train_data_path)
    empty = sorted(folder.name for folder in root.iterdir()
                   if folder.is_dir() and not is_ignored(folder.name) and folder.name not in counts) if root.is_dir() else []
    empty_folders = ", ".join(f"'{name}'" for name in empty)
    if counts:
        found = ", ".join(f"'{label}' ({count} images)" for label, count in counts.items())
        what = f"has only one label, {found}" + (f", and no images in {empty_folders}" if empty else "")
    else:
        what = f"has no images in its class folders {empty_folders}" if empty else "has no labelled images"
    raise ConfigurationError(f"train_data_path: {train_data_path} {what}; classification needs at least two labels "
                             "with images. Put the images of each class into a folder of its own "
                             "(<root>/<label>/<image>), or point train_data_path at the folder above.")


def held_out_for_validation(config: Dict[str, Any], reader: Any) -> bool:
    """Whether validation reads the part of ``train_data_path`` that the training reader's
    ``validation_split`` holds out: the reader has one, and the config does not set
    ``validation_data_path`` (``None`` there, as the learning-rate finder sets it, means no validation)."""
    return getattr(reader, "validation_split", None) is not None and "validation_data_path" not in config


def count_skipped_files(datasets: Dict[str, Any]) -> int:
    """How many files the datasets (``None`` for one not read) have left out so far."""
    return sum(len(dataset.skipped_files) for dataset in datasets.values() if dataset is not None)


def write_skipped_files(serialization_dir: Path, datasets: Dict[str, Any], announced: int = 0) -> None:
    """Write every file the datasets left out, with its reason, to ``skipped_files.csv``
    (the log names only the first few of each reason), atomically, and say where it is unless
    it lists no more than the ``announced`` files the log already pointed there for (written
    again after training, it is named again only if decoding found more)."""
    from allencv_lite.common.files import atomic_writer

    path = serialization_dir / SKIPPED_FILES_NAME
    named = [(name, dataset) for name, dataset in datasets.items() if dataset is not None]
    with atomic_writer(path) as table:
        for index, (name, dataset) in enumerate(named):
            dataset.skipped_files.write_csv(table, name, header=index == 0)
    if count_skipped_files(datasets) > announced:
        logger.info("Every skipped file, with its reason: %s", path)


def train_model(config: Dict[str, Any], serialization_dir: Union[str, Path], force: bool = False,
                recover: bool = False, callbacks: Optional[List["TrainerCallback"]] = None,
                include_package: Sequence[str] = ()) -> "Model":
    """Train the experiment ``config`` describes, writing everything to ``serialization_dir``.

    Writes ``config.json`` (resolved), ``vocabulary/``, ``checkpoints/epoch_<n>.th``,
    ``metrics_epoch_<n>.json``, ``metrics.csv``, ``best.th``, ``metrics.json``,
    ``skipped_files.csv`` (every file the readers left out) and ``model.tar.gz``. With
    ``trainer.cuda_device`` a list of several devices, starts one process per device
    (``include_package`` is imported in each) and returns the archived model.

    Args:
        recover: resume the run in ``serialization_dir`` from its newest checkpoint; a run
            that is complete (all epochs done, or out of patience) and archived is left as it
            is, with one log line saying so, and its archived model returned.
        callbacks: given to the trainer (e.g. a notebook's live plot).

    Raises:
        ConfigurationError: any config error, before training starts; a validation label
            missing from the training data; with ``recover``, a config that differs from the
            saved one.
    """
    check_top_level(config)
    from allencv_lite.models.archival import ARCHIVE_NAME, load_archive
    from allencv_lite.training import distributed
    from allencv_lite.training.progress_report import describe_kept_epoch

    if recover:  # in every process (each reads the same files), before anything is read or written
        prepare_serialization_dir(Path(serialization_dir), force, recover)
        check_recovered_config(config, Path(serialization_dir))
        completed = describe_completed_run(Path(serialization_dir), config["trainer"])
        if completed is not None:
            logger.info(completed)
            logger.info(describe_kept_epoch(json.loads((Path(serialization_dir) / "metrics.json").read_text()),
                                            config["trainer"].get("validation_metric", "-loss").lstrip("+-")))
            return load_archive(Path(serialization_dir) / ARCHIVE_NAME).model
    devices = config["trainer"].get("cuda_device")
    if isinstance(devices, list) and len(devices) > 1 and not distributed.launched_as_worker():
        prepare_serialization_dir(Path(serialization_dir), force, recover)  # config errors show here, not in a worker
        distributed.spawn(_train_worker, len(devices), (config, str(serialization_dir), recover, list(include_package)))
        return load_archive(Path(serialization_dir) / ARCHIVE_NAME).model
    if not distributed.launched_as_worker():
        return _train_in_this_process(config, Path(serialization_dir), force, recover, callbacks)
    distributed.init_process_group(distributed.resolve_device(devices))
    try:
        return _train_in_this_process(config, Path(serialization_dir), force, recover, callbacks)
    finally:
        distributed.destroy_process_group()


def _train_worker(config: Dict[str, Any], serialization_dir: str, recover: bool, include_package: List[str]) -> None:
    """One process of a multi-device run started by :func:`train_model`."""
    log_to_stderr()
    import_plugins(include_package)
    train_model(config, serialization_dir, recover=recover)


def build_trainer(config: Dict[str, Any], serialization_dir: Optional[Path] = None,
                  callbacks: Optional[List["TrainerCallback"]] = None
                  ) -> Tuple["Trainer", "Vocabulary", Dict[str, Optional["ImageDataset"]]]:
    """Seed, build the model (checking its wiring before any image is decoded: the labels come
    from the data's names), read the data, and build the trainer (optimizer, scheduler, data
    loaders) the experiment ``config`` describes; returns the trainer, the label vocabulary and
    the ``"training"`` and ``"validation"`` datasets (``None`` without ``validation_data_path`` or the
    reader's ``validation_split``, which holds the validation part out of ``train_data_path``).
    With a ``serialization_dir``, writes ``skipped_files.csv`` there.

    Raises:
        ConfigurationError: any config error; a validation label missing from the training data;
            with ``linear_probe_first``, a label with too few training images for the probe's
            cross-validation (from the file names, before any image is decoded).
    """
    from allencv_lite.data.data_loader import DataLoaderFactory
    from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
    from allencv_lite.data.vocabulary import Vocabulary
    from allencv_lite.models.model import Model
    from allencv_lite.training import distributed
    from allencv_lite.training.linear_probe import check_images_per_label
    from allencv_lite.training.trainer import Trainer

    set_seeds(config)
    reader = DatasetReader.from_params(config["dataset_reader"], "dataset_reader")
    if config.get("validation_data_path") and getattr(reader, "validation_split", None) is not None:
        raise ConfigurationError("dataset_reader.validation_split holds out validation images from train_data_path, "
                                 "but validation_data_path names a validation folder too; remove one of them.")
    validation_reader = (DatasetReader.from_params(config["validation_dataset_reader"], "validation_dataset_reader")
                         if "validation_dataset_reader" in config else reader)
    loader_key = "data_loader" if "data_loader" in config else "iterator"
    loader_factory = DataLoaderFactory.from_params(config.get(loader_key, {}), loader_key)
    validation_key = "validation_data_loader" if "validation_data_loader" in config else "validation_iterator"
    validation_loader_factory = (DataLoaderFactory.from_params(config[validation_key], validation_key)
                                 if validation_key in config else loader_factory)

    # The model is built (and its wiring checked) from the labels' names, before any image is decoded.
    named_vocab = Vocabulary.from_labels(reader.read_labels(config["train_data_path"]))
    check_enough_labels(named_vocab, config["train_data_path"])
    if config["trainer"].get("linear_probe_first"):  # too few images for the probe: refused before decoding
        check_images_per_label(named_vocab.get_token_counts())
    model = Model.from_params(config["model"], "model", vocab=named_vocab)
    train_data = reader.read(config["train_data_path"])
    vocab = Vocabulary.from_labels(train_data.labels)
    check_enough_labels(vocab, config["train_data_path"])
    if vocab != named_vocab:  # a cleaning_file relabelled, or a class lost all its readable images
        logger.info("The readable training images carry the labels %s, not the folders' or CSV's %s; building the "
                    "model again for them.", vocab.get_token_counts(), named_vocab.get_token_counts())
        model = Model.from_params(config["model"], "model", vocab=vocab)
    train_data.index_with(vocab)
    validation_data = None
    if config.get("validation_data_path"):
        validation_data = validation_reader.read(config["validation_data_path"])
        validation_data.index_with(vocab)
    elif held_out_for_validation(config, reader):  # the files the training reader's validation_split left out
        validation_data = validation_reader.read(config["train_data_path"],
                                                 only=reader.validation_files(config["train_data_path"]))
        validation_data.index_with(vocab)
    logger.info("Training images: %d, %slabels: %s%s", len(train_data),  # no validation count where none is read
                f"validation images: {len(validation_data)}, " if validation_data is not None else "",
                vocab.get_token_counts(),
                " (lazy: files whose header is readable; any found broken when decoded are counted in each "
                "epoch's num_skipped_files)" if train_data.lazy else "")
    datasets = {"training": train_data, "validation": validation_data}

    trainer_block = dict(config["trainer"])
    if callbacks:  # built callbacks (a notebook's live plot) join the config's, after them
        trainer_block["callbacks"] = [*trainer_block.get("callbacks", []), *callbacks]
    trainer = Trainer.from_params(
        trainer_block, "trainer", model=model, serialization_dir=serialization_dir,
        train_data_loader=loader_factory.build(train_data, for_training=True),
        validation_data_loader=(validation_loader_factory.build(validation_data, for_training=False)
                                if validation_data is not None else None))
    if serialization_dir is not None and distributed.is_main_process():  # only once the config built: a
        write_skipped_files(serialization_dir, datasets)                   # config error leaves the folder empty
    return trainer, vocab, datasets


def calibrate_after_training(trainer: "Trainer") -> Dict[str, float]:
    """Fit the trained model's temperature on the validation data unless the trainer block says
    ``"calibrate": false`` (see :func:`~allencv_lite.interpret.calibration.calibrate_model`);
    returns what to add to ``metrics.json`` (nothing when not calibrated)."""
    from allencv_lite.interpret.calibration import calibrate_model

    if not trainer.calibrate:
        return {}
    if trainer.validation_data_loader is None or not hasattr(trainer.model, "set_temperature"):
        logger.info("Temperature scaling skipped: it needs validation images and a model with a temperature "
                    "(basic_image_classifier); set \"calibrate\": false in the trainer block to silence this.")
        return {}
    return calibrate_model(trainer.model, trainer.validation_data_loader)


def _train_in_this_process(config: Dict[str, Any], serialization_dir: Path, force: bool, recover: bool,
                           callbacks: Optional[List["TrainerCallback"]]) -> "Model":
    from allencv_lite.common.files import write_text_atomically
    from allencv_lite.models.archival import ARCHIVE_NAME, CONFIG_NAME, VOCABULARY_DIR, archive_model
    from allencv_lite.training import distributed

    if distributed.is_main_process():
        prepare_serialization_dir(serialization_dir, force, recover)
    distributed.barrier()  # process 0 has emptied or checked the folder
    trainer, vocab, datasets = build_trainer(config, serialization_dir, callbacks)
    if distributed.is_main_process() and not recover:
        write_text_atomically(json.dumps(config, indent=2), serialization_dir / CONFIG_NAME)
        with writing(serialization_dir / VOCABULARY_DIR):
            vocab.save_to_files(serialization_dir / VOCABULARY_DIR)
    announced = count_skipped_files(datasets)  # build_trainer has named skipped_files.csv for these
    metrics = trainer.train()
    if distributed.is_main_process():
        metrics.update(calibrate_after_training(trainer))
        write_skipped_files(serialization_dir, datasets, announced)
        write_text_atomically(json.dumps(metrics, indent=2), serialization_dir / "metrics.json")
        validation = datasets["validation"]
        archive_model(serialization_dir / ARCHIVE_NAME, config, trainer.model.state_dict(), vocab,
                      validation_files=(validation.relative_paths()
                                        if validation is not None and not config.get("validation_data_path") else None))
        logger.info("Wrote %s", serialization_dir / ARCHIVE_NAME)
    return trainer.model
