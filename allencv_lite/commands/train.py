"""``allencv-lite train CONFIG -s DIR``: build everything a config describes, train, archive."""
import argparse
import json
import logging
import random
import shutil
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.params import load_config
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.archival import CONFIG_NAME, VOCABULARY_DIR, archive_model
from allencv_lite.models.model import Model
from allencv_lite.training.trainer import Trainer

logger = logging.getLogger(__name__)

TOP_LEVEL_KEYS = {"dataset_reader", "validation_dataset_reader", "train_data_path", "validation_data_path",
                  "model", "iterator", "data_loader", "validation_iterator", "validation_data_loader",
                  "trainer", "random_seed", "numpy_seed", "pytorch_seed"}
REQUIRED_KEYS = ("dataset_reader", "train_data_path", "model", "trainer")
ARCHIVE_NAME = "model.tar.gz"


def set_seeds(config: Dict[str, Any]) -> None:
    """Seed Python, NumPy and PyTorch with AllenNLP's keys and defaults (13370, 1337, 133)."""
    random.seed(config.get("random_seed", 13370))
    np.random.seed(config.get("numpy_seed", 1337))
    torch.manual_seed(config.get("pytorch_seed", 133))


def check_top_level(config: Dict[str, Any]) -> None:
    """Raise ``ConfigurationError`` for unknown or missing top-level keys."""
    unknown = sorted(set(config) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigurationError(f"Unexpected top-level key(s) {unknown}; accepted: {sorted(TOP_LEVEL_KEYS)}.")
    missing = [key for key in REQUIRED_KEYS if key not in config]
    if missing:
        raise ConfigurationError(f"Missing top-level key(s) {missing}.")


def prepare_serialization_dir(serialization_dir: Path, force: bool) -> None:
    """Create ``serialization_dir``; refuse a non-empty one unless ``force`` (which empties it).

    Raises:
        ConfigurationError: the folder exists, is not empty, and ``force`` is false.
    """
    if serialization_dir.exists() and any(serialization_dir.iterdir()):
        if not force:
            raise ConfigurationError(f"Serialization directory {serialization_dir} is not empty; "
                                     "choose another, or pass --force to overwrite it.")
        shutil.rmtree(serialization_dir)
    serialization_dir.mkdir(parents=True, exist_ok=True)


def train_model(config: Dict[str, Any], serialization_dir: Union[str, Path], force: bool = False) -> Model:
    """Train the experiment ``config`` describes, writing everything to ``serialization_dir``.

    Writes ``config.json`` (resolved), ``vocabulary/``, ``metrics_epoch_<n>.json``,
    ``best.th``, ``metrics.json`` and ``model.tar.gz``.

    Raises:
        ConfigurationError: any config error, before training starts; a validation label
            missing from the training data.
    """
    check_top_level(config)
    serialization_dir = Path(serialization_dir)
    prepare_serialization_dir(serialization_dir, force)
    set_seeds(config)
    reader = DatasetReader.from_params(config["dataset_reader"], "dataset_reader")
    validation_reader = (DatasetReader.from_params(config["validation_dataset_reader"], "validation_dataset_reader")
                         if "validation_dataset_reader" in config else reader)
    loader_key = "data_loader" if "data_loader" in config else "iterator"
    loader_factory = DataLoaderFactory.from_params(config.get(loader_key, {}), loader_key)
    validation_key = "validation_data_loader" if "validation_data_loader" in config else "validation_iterator"
    validation_loader_factory = (DataLoaderFactory.from_params(config[validation_key], validation_key)
                                 if validation_key in config else loader_factory)

    train_data = reader.read(config["train_data_path"])
    vocab = Vocabulary.from_labels(train_data.labels)
    train_data.index_with(vocab)
    validation_data = None
    if config.get("validation_data_path"):
        validation_data = validation_reader.read(config["validation_data_path"])
        validation_data.index_with(vocab)
    logger.info("Training images: %d, validation images: %d, labels: %s", len(train_data),
                len(validation_data) if validation_data is not None else 0, vocab.get_token_counts())

    model = Model.from_params(config["model"], "model", vocab=vocab)
    trainer = Trainer.from_params(
        config["trainer"], "trainer", model=model, serialization_dir=serialization_dir,
        train_data_loader=loader_factory.build(train_data, for_training=True),
        validation_data_loader=(validation_loader_factory.build(validation_data, for_training=False)
                                if validation_data is not None else None))

    (serialization_dir / CONFIG_NAME).write_text(json.dumps(config, indent=2), encoding="utf-8")
    vocab.save_to_files(serialization_dir / VOCABULARY_DIR)
    metrics = trainer.train()
    (serialization_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    archive_model(serialization_dir / ARCHIVE_NAME, config, model.state_dict(), vocab)
    logger.info("Wrote %s", serialization_dir / ARCHIVE_NAME)
    return model


def train_model_from_file(config_file: Union[str, Path], serialization_dir: Union[str, Path],
                          overrides: Optional[str] = None, force: bool = False) -> Model:
    """Load ``config_file`` (JSON or Jsonnet, with ``overrides``) and :func:`train_model` it."""
    return train_model(load_config(config_file, overrides), serialization_dir, force=force)


def add_subparser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("train", help="train a model from a config file",
                                   description="Train a model from a JSON/Jsonnet config (as `allennlp train`).")
    parser.add_argument("config_file", help="the experiment config (.json or .jsonnet)")
    parser.add_argument("-s", "--serialization-dir", required=True, help="folder for weights, metrics and archive")
    parser.add_argument("-o", "--overrides", default=None,
                        help='JSON object merged into the config, e.g. \'{"trainer": {"num_epochs": 1}}\'')
    parser.add_argument("-f", "--force", action="store_true", help="overwrite a non-empty serialization dir")
    parser.set_defaults(func=run_train)
    return parser


def run_train(args: argparse.Namespace) -> int:
    """Run the ``train`` command."""
    train_model_from_file(args.config_file, args.serialization_dir, args.overrides, args.force)
    return 0
