"""training_config/own_images.jsonnet: one folder of class folders is enough, a linear probe on frozen
features needs nothing tuned, and 30 photos per class make a model that is right about new photos."""
from pathlib import Path

import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training.from_config import train_model
from allencv_lite.common.params import load_config
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.lessons import LessonData, sample_own_photos
from allencv_lite.models import Model
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors.image_files import find_images, predict_image_files
from allencv_lite.predictors.image_predictor import ImagePredictor

RECIPE = Path(__file__).resolve().parents[2] / "training_config" / "own_images.jsonnet"


def test_the_recipe_needs_only_data_path_and_holds_out_a_fifth_of_it():
    config = load_config(RECIPE, ext_vars={"DATA_PATH": "my_photos"})
    assert config["train_data_path"] == "my_photos" and "validation_data_path" not in config
    assert config["dataset_reader"]["validation_split"] == 0.2


def test_the_recipe_trains_only_a_new_linear_layer_on_the_frozen_backbone():
    config = load_config(RECIPE, ext_vars={"DATA_PATH": "my_photos"})
    model = Model.from_params(config["model"], "model", vocab=Vocabulary({"labels": {"a": 1, "b": 1, "c": 1}}))
    trained = [name for name, parameter in model.named_parameters() if parameter.requires_grad]
    assert trained == ["_classification_layer.weight", "_classification_layer.bias"]


def test_the_recipe_is_the_linear_probe_alone_with_no_rate_or_epochs_to_choose():
    config = load_config(RECIPE, ext_vars={"DATA_PATH": "my_photos"})
    assert config["trainer"]["num_epochs"] == 0 and config["trainer"]["linear_probe_first"] is True
    assert not {"optimizer", "learning_rate_scheduler", "patience"} & set(config["trainer"])


def test_training_images_are_preprocessed_like_validation_images_since_each_is_seen_once():
    config = load_config(RECIPE, ext_vars={"DATA_PATH": "my_photos"})
    assert config["dataset_reader"]["augmentation"] == config["validation_dataset_reader"]["augmentation"]
    assert [step["type"] for step in config["dataset_reader"]["augmentation"]] == [
        "smallest_max_size", "center_crop", "normalize"]


def test_a_class_of_five_photos_is_refused_by_name_leaving_the_run_folder_empty_and_six_are_enough(digits_dir,
                                                                                                     tmp_path):
    photos = sample_own_photos(LessonData(digits_dir, "digits", "test"), tmp_path / "sample", images_per_label=6,
                               new_per_label=1, labels=["3", "7"])
    config = load_config(RECIPE, ext_vars={"DATA_PATH": str(photos.folder)})
    photo = next((photos.folder / "7").iterdir())
    content = photo.read_bytes()
    photo.unlink()
    with pytest.raises(ConfigurationError, match=r"every label needs at least 5 of them .*; '7' has 4\. Add images"):
        train_model(config, tmp_path / "run")
    assert not any((tmp_path / "run").iterdir())  # so the same command runs once the photo is back
    photo.write_bytes(content)
    train_model(config, tmp_path / "run")  # 5 per class to train on, 1 to validate
    assert (tmp_path / "run" / "model.tar.gz").exists()


def test_own_photos_are_one_folder_of_class_folders_and_unlabelled_new_photos_from_elsewhere(digits_dir, tmp_path):
    photos = sample_own_photos(LessonData(digits_dir, "digits", "test"), tmp_path / "sample", images_per_label=4,
                               new_per_label=2, labels=["3", "7"])
    assert sorted(path.name for path in photos.folder.iterdir()) == ["3", "7"]
    assert all(len(list((photos.folder / label).iterdir())) == 4 for label in ("3", "7"))
    assert sorted(photos.truth) == [str(photos.new_photos / f"{n:04d}.png") for n in range(4)]
    assert sorted(photos.truth.values()) == ["3", "3", "7", "7"]
    originals = {path.resolve() for path in photos.folder.rglob("*.png")}
    assert all(Path(path).resolve().parent.parent.name == "val" for path in photos.truth)  # never a training image
    assert not originals & {Path(path).resolve() for path in photos.truth}


def test_30_photos_per_class_in_one_folder_give_at_least_97_percent_on_200_new_photos(cats_dogs_dir, tmp_path):
    photos = sample_own_photos(LessonData(cats_dogs_dir, "cats_dogs", "ALLENCV_DATA_DIR"), tmp_path / "sample",
                               images_per_label=30, new_per_label=100, seed=0)
    config = load_config(RECIPE, ext_vars={"DATA_PATH": str(photos.folder)})
    train_model(config, tmp_path / "run")
    archive = load_archive(tmp_path / "run" / "model.tar.gz")
    assert len(archive.validation_files) == 12  # a fifth of each class's 30, held out by the recipe
    predictor = ImagePredictor(archive.model, archive.dataset_reader)
    images, _ = find_images([photos.new_photos])
    records = [record for ok, record in predict_image_files(predictor, images, batch_size=32) if ok]
    assert len(records) == 200
    accuracy = sum(record["label"] == photos.truth[record["path"]] for record in records) / len(records)
    assert accuracy >= 0.97
