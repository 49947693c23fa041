"""The seed's trainer block, verbatim, trains its pretrained_resnet with six groups."""
import csv

import pytest
import torch

from allencv_lite.training.from_config import build_trainer
from tests.helpers.seed_recipe import seed_config

MODULES = {"stem": "_im2im_encoder.model.0.", "layer4": "_im2im_encoder.model.7.", "head": "_classification_layer."}


def parameters_by_module(model: torch.nn.Module, weights: dict) -> dict:
    """``weights`` (a state dict of ``model``) of the parameters of the stem, layer4 and the head."""
    return {module: [weights[name].clone() for name, _ in model.named_parameters() if name.startswith(prefix)]
            for module, prefix in MODULES.items()}


@pytest.fixture(scope="module")
def seed_run(digits_dir, tmp_path_factory):
    """Two epochs of the seed (ResNet-50 from random weights, since none can be downloaded) on
    64 digit images at 32×32 pixels; the trainer block is the seed's, with 2 epochs."""
    subset = tmp_path_factory.mktemp("digits_64")
    for split in ("train", "val"):
        for label in ("3", "8"):
            (subset / split / label).mkdir(parents=True)
            for image in sorted((digits_dir / split / label).iterdir())[:16]:
                (subset / split / label / image.name).symlink_to(image)
    config = seed_config()
    config["train_data_path"], config["validation_data_path"] = str(subset / "train"), str(subset / "val")
    for reader in ("dataset_reader", "validation_dataset_reader"):
        config[reader]["augmentation"][0].update(height=32, width=32)
    config["model"]["im2im_encoder"]["pretrained"] = False
    config["trainer"]["num_epochs"] = config["trainer"]["learning_rate_scheduler"]["num_epochs"] = 2
    serialization_dir = tmp_path_factory.mktemp("seed_run")
    trainer, _, _ = build_trainer(config, serialization_dir)
    start = parameters_by_module(trainer.model, trainer.model.state_dict())
    trainer.train()
    last_epoch = torch.load(serialization_dir / "checkpoints" / "epoch_1.th", weights_only=True)["model"]
    return serialization_dir, (start, parameters_by_module(trainer.model, last_epoch))


def test_seed_run_logs_the_learning_rate_of_each_of_the_six_groups(seed_run):
    serialization_dir, _ = seed_run
    with open(serialization_dir / "metrics.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    assert len(rows) == 2
    rates = [float(rows[0][f"lr_group_{i}"]) for i in range(6)]
    assert rates == pytest.approx([rates[5] * 0.38 ** (5 - i) for i in range(6)])  # discriminative fine-tuning


def test_seed_run_trains_the_head_and_layer4_and_never_the_stem_in_two_epochs(seed_run):
    _, (start, end) = seed_run  # the weights after the last epoch (not the best epoch's, which train() loads back)
    changed = {name: any(not torch.equal(a, b) for a, b in zip(start[name], end[name])) for name in start}
    assert changed == {"stem": False, "layer4": True, "head": True}
