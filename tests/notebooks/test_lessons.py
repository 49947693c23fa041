"""find_lesson_data: the environment variable, then a downloaded split, then the embedded digits."""
import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.lessons import find_lesson_data


def make_split(root):
    for split in ("train", "val"):
        (root / split / "Cat").mkdir(parents=True)
    return root


def test_the_environment_variable_comes_first(tmp_path, monkeypatch):
    shared = make_split(tmp_path / "shared" / "cats_dogs")
    make_split(tmp_path / "data" / "cats_dogs")
    monkeypatch.setenv("ALLENCV_DATA_DIR", str(shared))
    data = find_lesson_data(tmp_path / "data")
    assert (data.root, data.name, data.source) == (shared, "cats_dogs", "$ALLENCV_DATA_DIR")
    assert data.train_path == shared / "train" and data.validation_path == shared / "val"


def test_an_environment_variable_without_splits_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLENCV_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigurationError, match=r"ALLENCV_DATA_DIR=.* has no train/ and val/ folders"):
        find_lesson_data(tmp_path / "data")


def test_a_downloaded_split_comes_before_the_digits(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLENCV_DATA_DIR", raising=False)
    downloaded = make_split(tmp_path / "cats_dogs")
    data = find_lesson_data(tmp_path)
    assert (data.root, data.name) == (downloaded, "cats_dogs")
    assert not (tmp_path / "digits").exists()


def test_without_photos_the_embedded_digits_are_written_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLENCV_DATA_DIR", "")
    data = find_lesson_data(tmp_path)
    assert (data.root, data.name) == (tmp_path / "digits", "digits")
    assert sorted(p.name for p in data.train_path.iterdir()) == [str(d) for d in range(10)]
    assert len(list(data.validation_path.glob("*/*.png"))) == 358
    marker = data.train_path / "0" / "marker.txt"
    marker.write_text("kept")
    assert find_lesson_data(tmp_path).root == data.root and marker.exists()
