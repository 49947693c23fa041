"""cleaning.json: decisions saved atomically, and applied by both readers without touching a file."""
import json
import logging

import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.cleaning import CleaningDecisions, relabel
from allencv_lite.data.dataset_readers import DatasetReader
from tests.helpers.image_files import BLUE, RED, write_image


@pytest.fixture
def pets(tmp_path):
    """``pets/{Cat,Dog}/`` with three cats (one of them really a dog) and two dogs."""
    root = tmp_path / "pets"
    for name in ("1.jpg", "2.jpg", "3.jpg"):
        write_image(root / "Cat" / name, color=RED)
    for name in ("4.jpg", "5.jpg"):
        write_image(root / "Dog" / name, color=BLUE)
    return root


def write_cleaning(path, decisions):
    path.write_text(json.dumps(decisions), encoding="utf-8")
    return path


def directory_reader(**options):
    return DatasetReader.from_params({"type": "image_classification_directory", **options}, "dataset_reader")


def test_decisions_are_saved_sorted_and_read_back(tmp_path):
    decisions = CleaningDecisions()
    decisions.decide("Dog/5.jpg", "keep")
    decisions.decide("Cat/3.jpg", relabel("Dog"))
    decisions.decide("Cat/1.jpg", "exclude")
    decisions.save(tmp_path / "cleaning.json")
    assert (tmp_path / "cleaning.json").read_text() == (
        '{\n  "Cat/1.jpg": "exclude",\n  "Cat/3.jpg": "relabel:Dog",\n  "Dog/5.jpg": "keep"\n}\n')
    assert CleaningDecisions.load(tmp_path / "cleaning.json").decisions == decisions.decisions
    assert [p.name for p in tmp_path.iterdir()] == ["cleaning.json"]  # no .partial left behind


def test_saving_replaces_the_file_whole(tmp_path, monkeypatch):
    path = write_cleaning(tmp_path / "cleaning.json", {"Cat/1.jpg": "exclude"})
    decisions = CleaningDecisions.load(path)
    decisions.decide("Cat/2.jpg", "exclude")

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(ConfigurationError, match="Cannot write .*cleaning.json: No space left on device"):
        decisions.save(path)
    assert json.loads(path.read_text()) == {"Cat/1.jpg": "exclude"}  # the old file, whole


def test_an_unknown_action_names_the_file_and_the_entry(tmp_path):
    path = write_cleaning(tmp_path / "cleaning.json", {"Cat/1.jpg": "delete"})
    with pytest.raises(ConfigurationError, match=r"cleaning.json, entry 'Cat/1.jpg': 'delete' is not an action; "
                                                 r"use \"keep\", \"exclude\" or \"relabel:<label>\""):
        CleaningDecisions.load(path)


@pytest.mark.parametrize("text, message", [("{not json", "is not valid JSON"),
                                           ('["Cat/1.jpg"]', "must hold a JSON object")])
def test_a_malformed_file_is_named(tmp_path, text, message):
    (tmp_path / "cleaning.json").write_text(text)
    with pytest.raises(ConfigurationError, match=message):
        CleaningDecisions.load(tmp_path / "cleaning.json")


def test_a_missing_cleaning_file_stops_the_reader_before_any_image_is_read(tmp_path):
    with pytest.raises(ConfigurationError, match="cleaning_file: .*nope.json does not exist"):
        directory_reader(cleaning_file=str(tmp_path / "nope.json"))


def test_the_directory_reader_excludes_relabels_and_keeps_and_logs_it(pets, tmp_path, caplog):
    path = write_cleaning(tmp_path / "cleaning.json", {"Cat/1.jpg": "exclude", "Cat/3.jpg": "relabel:Dog",
                                                       "Dog/5.jpg": "keep"})
    with caplog.at_level(logging.INFO, logger="allencv_lite.data.cleaning"):
        dataset = directory_reader(cleaning_file=str(path)).read(pets)
    assert [(p.replace(str(pets), ""), label) for p, label in dataset.samples] == [
        ("/Cat/2.jpg", "Cat"), ("/Cat/3.jpg", "Dog"), ("/Dog/4.jpg", "Dog"), ("/Dog/5.jpg", "Dog")]
    assert f"Cleaning applied to {pets}: 1 excluded, 1 relabelled (Cat -> Dog: 1), 1 kept." in caplog.messages
    assert dataset.cleaning.excluded == ["Cat/1.jpg"] and dataset.cleaning.relabelled == {"Cat/3.jpg": ("Cat", "Dog")}
    assert sorted(p.name for p in pets.rglob("*.jpg")) == ["1.jpg", "2.jpg", "3.jpg", "4.jpg", "5.jpg"]  # untouched


def test_missing_and_stale_entries_are_warnings_naming_them(pets, tmp_path, caplog):
    path = write_cleaning(tmp_path / "cleaning.json", {"Cat/9.jpg": "exclude", "Dog/4.jpg": "relabel:Dog"})
    with caplog.at_level(logging.WARNING, logger="allencv_lite.data.cleaning"):
        dataset = directory_reader(cleaning_file=str(path)).read(pets)
    assert len(dataset) == 5
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert warnings == [
        f"{path}: entry 'Cat/9.jpg' (exclude) changed nothing: no such file under {pets} (missing: deleted, moved "
        "or another dataset?).",
        f"{path}: entry 'Dog/4.jpg' (relabel:Dog) changed nothing: it is already labelled 'Dog' (stale: was the "
        "file moved?)."]


def test_new_decisions_count_at_the_next_read(pets, tmp_path):
    path = write_cleaning(tmp_path / "cleaning.json", {})
    reader = directory_reader(cleaning_file=str(path))
    assert len(reader.read(pets)) == 5
    write_cleaning(path, {"Dog/4.jpg": "exclude"})
    assert len(reader.read(pets)) == 4


def test_the_csv_reader_applies_keys_relative_to_its_image_directory(tmp_path):
    write_image(tmp_path / "images" / "a.jpg", color=RED)
    write_image(tmp_path / "images" / "b.jpg", color=BLUE)
    write_image(tmp_path / "images" / "c.jpg", color=BLUE)
    (tmp_path / "labels.csv").write_text("id,label\na,Cat\nb,Cat\nc,Dog\n")
    path = write_cleaning(tmp_path / "cleaning.json", {"a.jpg": "exclude", "b.jpg": "relabel:Dog"})
    reader = DatasetReader.from_params({"type": "image_classification_csv", "image_directory": "images",
                                        "cleaning_file": str(path)}, "dataset_reader")
    dataset = reader.read(tmp_path / "labels.csv")
    assert [(p.replace(str(tmp_path), ""), label) for p, label in dataset.samples] == [
        ("/images/b.jpg", "Dog"), ("/images/c.jpg", "Dog")]
