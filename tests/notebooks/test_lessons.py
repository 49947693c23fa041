"""find_lesson_data: the environment variable, then a downloaded split, then the embedded digits."""
import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.lessons import LessonData, find_lesson_data, sample_lesson_data


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


def test_a_relative_variable_is_found_from_the_repository_root_when_not_from_the_working_directory(
        tmp_path, monkeypatch):
    repository = tmp_path / "clone"
    photos = make_split(repository / "data" / "cats_dogs")
    (repository / "notebooks").mkdir()
    monkeypatch.setattr("allencv_lite.lessons.REPOSITORY_ROOT", repository)
    monkeypatch.chdir(repository / "notebooks")  # where a notebook's kernel runs
    monkeypatch.setenv("ALLENCV_DATA_DIR", "data/cats_dogs")  # as the README says, from the root
    data = find_lesson_data(tmp_path / "elsewhere")
    assert (data.root, data.source) == (photos, "$ALLENCV_DATA_DIR")


def test_a_relative_variable_is_found_from_the_working_directory_first(tmp_path, monkeypatch):
    here = make_split(tmp_path / "here" / "photos")
    make_split(tmp_path / "clone" / "photos")
    monkeypatch.setattr("allencv_lite.lessons.REPOSITORY_ROOT", tmp_path / "clone")
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("ALLENCV_DATA_DIR", "photos")
    assert find_lesson_data(tmp_path / "data").root == here


def test_a_variable_found_nowhere_names_both_paths_tried_and_the_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("allencv_lite.lessons.REPOSITORY_ROOT", tmp_path / "clone")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALLENCV_DATA_DIR", "data/cats_dogs")
    downloaded = make_split(tmp_path / "data" / "cats_dogs_download" / "cats_dogs")
    data = find_lesson_data(downloaded.parent)
    line = capsys.readouterr().err
    assert line == (f"ALLENCV_DATA_DIR=data/cats_dogs was not found at {tmp_path}/data/cats_dogs nor at "
                    f"{tmp_path}/clone/data/cats_dogs; using the downloaded PetImages split in {downloaded} instead.\n")
    assert data.root == downloaded and "since ALLENCV_DATA_DIR=data/cats_dogs was not found" in data.source


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


def photo_folder(root, per_label):
    """``root/{train,val}/{Cat,Dog}/`` with ``per_label`` one-byte "images" each."""
    for split in ("train", "val"):
        for label in ("Cat", "Dog"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for index in range(per_label):
                (folder / f"{label.lower()}.{index}.jpg").write_bytes(b"x")
    return LessonData(root, "cats_dogs", "test")


def test_a_sample_keeps_the_layout_with_the_asked_number_per_label(tmp_path):
    sample = sample_lesson_data(photo_folder(tmp_path / "full", 10), tmp_path / "sample", 4, 2)
    assert sample.name == "cats_dogs_sample"
    assert [len(list((sample.train_path / label).iterdir())) for label in ("Cat", "Dog")] == [4, 4]
    assert [len(list((sample.validation_path / label).iterdir())) for label in ("Cat", "Dog")] == [2, 2]
    linked = next((sample.train_path / "Cat").iterdir())
    assert linked.resolve() == (tmp_path / "full" / "train" / "Cat" / linked.name).resolve()


def test_the_same_seed_gives_the_same_sample_and_a_rerun_replaces_the_old_one(tmp_path):
    full = photo_folder(tmp_path / "full", 10)
    names = lambda sample: sorted(p.name for p in (sample.train_path / "Dog").iterdir())  # noqa: E731
    first = names(sample_lesson_data(full, tmp_path / "sample", 3, 1, seed=5))
    (tmp_path / "sample" / "train" / "Dog" / "stray.jpg").write_bytes(b"x")
    assert names(sample_lesson_data(full, tmp_path / "sample", 3, 1, seed=5)) == first
    assert names(sample_lesson_data(full, tmp_path / "other", 3, 1, seed=6)) != first


def test_a_label_with_fewer_images_keeps_them_all(tmp_path):
    sample = sample_lesson_data(photo_folder(tmp_path / "full", 3), tmp_path / "sample", 50, 50)
    assert len(list((sample.train_path / "Cat").iterdir())) == 3


def test_a_sample_inside_the_data_folder_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="inside the data folder"):
        sample_lesson_data(photo_folder(tmp_path / "full", 3), tmp_path / "full" / "sample", 1, 1)


def test_a_sample_follows_the_readers_file_rules(tmp_path):
    full = photo_folder(tmp_path / "full", 3)
    for junk in ("train/Cat/._cat.0.jpg", "train/Cat/notes.txt", "train/__MACOSX/Cat/._cat.1.jpg",
                 "train/.ipynb_checkpoints/cat.2-checkpoint.jpg"):
        (full.root / junk).parent.mkdir(parents=True, exist_ok=True)
        (full.root / junk).write_bytes(b"x")
    (full.root / "train" / "Cat" / "indoors").mkdir()
    (full.root / "train" / "Cat" / "indoors" / "cat.9.jpg").write_bytes(b"x")
    sample = sample_lesson_data(full, tmp_path / "sample", 50, 50)
    assert sorted(p.name for p in sample.train_path.iterdir()) == ["Cat", "Dog"]
    assert sorted(str(p.relative_to(sample.train_path)) for p in sample.train_path.rglob("*.jpg")
                  if p.parent.name == "Cat" or p.parent.name == "indoors") == [
        "Cat/cat.0.jpg", "Cat/cat.1.jpg", "Cat/cat.2.jpg", "Cat/indoors/cat.9.jpg"]
