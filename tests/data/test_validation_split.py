"""``validation_split``: one labelled folder (or CSV) split into training and validation parts."""
import collections
from pathlib import Path

import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.image_classification_csv import ImageClassificationCsvReader
from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from tests.helpers.image_files import BLUE, RED

RESIZE = [{"type": "resize", "height": 8, "width": 8}]


def directory_reader(**options) -> ImageClassificationDirectoryReader:
    return ImageClassificationDirectoryReader.from_params({"augmentation": RESIZE, **options})


@pytest.fixture
def cats_and_dogs(image_folder) -> Path:
    """20 cats and 10 dogs."""
    files = {f"Cat/{i}.png": RED for i in range(20)}
    files.update({f"Dog/{i}.png": BLUE for i in range(10)})
    return image_folder(files)


def test_each_class_keeps_its_share_of_validation_images_and_the_parts_do_not_overlap(cats_and_dogs):
    reader = directory_reader(validation_split=0.2, seed=13)
    validation = reader.validation_files(cats_and_dogs)
    train = reader.read(cats_and_dogs).relative_paths()
    assert collections.Counter(name.split("/")[0] for name in validation) == {"Cat": 4, "Dog": 2}
    assert collections.Counter(name.split("/")[0] for name in train) == {"Cat": 16, "Dog": 8}
    assert not set(train) & set(validation) and len(train) + len(validation) == 30
    assert collections.Counter(reader.read_labels(cats_and_dogs)) == {"Cat": 16, "Dog": 8}


def test_the_same_seed_holds_out_the_same_files_and_another_seed_others(cats_and_dogs):
    first = directory_reader(validation_split=0.2, seed=13).validation_files(cats_and_dogs)
    assert directory_reader(validation_split=0.2, seed=13).validation_files(cats_and_dogs) == first
    assert directory_reader(validation_split=0.2, seed=14).validation_files(cats_and_dogs) != first


def test_a_small_class_still_gets_one_validation_image(image_folder):
    root = image_folder({**{f"Cat/{i}.png": RED for i in range(20)}, "Dog/a.png": BLUE, "Dog/b.png": BLUE})
    validation = directory_reader(validation_split=0.1).validation_files(root)
    assert collections.Counter(name.split("/")[0] for name in validation) == {"Cat": 2, "Dog": 1}


def test_reading_only_the_named_files_gives_the_validation_part(cats_and_dogs):
    validation = directory_reader(validation_split=0.2).validation_files(cats_and_dogs)
    dataset = directory_reader().read(cats_and_dogs, only=validation)
    assert dataset.relative_paths() == sorted(validation)


def test_a_class_with_one_image_is_named_with_its_count(image_folder):
    root = image_folder({**{f"Cat/{i}.png": RED for i in range(5)}, "Dog/only.png": BLUE})
    with pytest.raises(ConfigurationError, match=r"class 'Dog' has 1 image \(.*only.png\); validation_split needs at "
                                                 r"least 2 per class"):
        directory_reader(validation_split=0.2).read(root)


def test_a_split_that_leaves_a_class_nothing_to_train_on_says_which_fraction_would(cats_and_dogs):
    with pytest.raises(ConfigurationError, match=r"validation_split: 0.97 would hold out all 10 images of class 'Dog' "
                                                 r".*leaving none to train on; use a validation_split of at most 0.90"):
        directory_reader(validation_split=0.97).read(cats_and_dogs)


def test_an_empty_class_folder_is_named(cats_and_dogs):
    (cats_and_dogs / "Bird").mkdir()
    with pytest.raises(ConfigurationError, match=r"Class folder .*Bird is empty .* add images to it, or remove the "
                                                 r"folder"):
        directory_reader(validation_split=0.2).read(cats_and_dogs)


def test_a_folder_with_one_class_is_refused(image_folder):
    root = image_folder({f"Cat/{i}.png": RED for i in range(5)})
    with pytest.raises(ConfigurationError, match=r"has only one class, 'Cat' \(5 images\); classification needs at "
                                                 r"least two. Add a folder of images for each other class"):
        directory_reader(validation_split=0.2).read(root)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2])
def test_a_validation_split_outside_0_to_1_is_refused(fraction):
    with pytest.raises(ConfigurationError, match=f"validation_split: {fraction:g} is not a fraction between 0 and 1"):
        directory_reader(validation_split=fraction)


def write_csv(root: Path, rows) -> Path:
    csv_path = root / "labels.csv"
    csv_path.write_text("id,label\n" + "".join(f"{image_id},{label}\n" for image_id, label in rows), encoding="utf-8")
    return csv_path


def test_a_csv_is_split_by_its_label_column(cats_and_dogs):
    csv_path = write_csv(cats_and_dogs, [(f"Cat/{i}", "cat") for i in range(20)] + [(f"Dog/{i}", "dog")
                                                                                    for i in range(10)])
    reader = ImageClassificationCsvReader.from_params({"augmentation": RESIZE, "validation_split": 0.2, "seed": 1})
    validation = reader.validation_files(csv_path)
    assert collections.Counter(name.split("/")[0] for name in validation) == {"Cat": 4, "Dog": 2}
    assert reader.validation_files(csv_path) == validation
    assert collections.Counter(reader.read(csv_path).labels) == {"cat": 16, "dog": 8}


def test_a_csv_naming_a_missing_file_is_refused_when_splitting(cats_and_dogs):
    csv_path = write_csv(cats_and_dogs, [("Cat/0", "cat"), ("Cat/1", "cat"), ("Cat/gone", "cat"), ("Dog/0", "dog"),
                                         ("Dog/1", "dog")])
    reader = ImageClassificationCsvReader.from_params({"augmentation": RESIZE, "validation_split": 0.5})
    with pytest.raises(ConfigurationError, match=r"labels.csv, line 4: no image 'Cat/gone' in .*; fix the id, remove "
                                                 r"the row, or set \"image_directory\""):
        reader.read(csv_path)
