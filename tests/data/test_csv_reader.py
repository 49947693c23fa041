"""image_classification_csv: Kaggle labels.csv files, ids with or without extensions."""
import pytest

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers import DatasetReader
from tests.helpers.image_files import BLUE, RED, write_image


def csv_reader(**options):
    return DatasetReader.from_params({"type": "image_classification_csv", **options}, "dataset_reader")


def test_kaggle_labels_csv_with_ids_lacking_the_extension(tmp_path):
    write_image(tmp_path / "train" / "000bec18.jpg", color=RED)
    write_image(tmp_path / "train" / "001513df.PNG", color=BLUE)
    (tmp_path / "labels.csv").write_text("\ufeffid,breed\n000bec18,boston_bull\n001513df,dingo\n", encoding="utf-8")
    dataset = csv_reader(image_directory="train", label_column="breed").read(tmp_path / "labels.csv")
    assert dataset.samples == [(str(tmp_path / "train" / "000bec18.jpg"), "boston_bull"),
                               (str(tmp_path / "train" / "001513df.PNG"), "dingo")]
    assert dataset.skipped == {}


def test_ids_with_extensions_and_sub_folders_are_found_beside_the_csv(tmp_path):
    write_image(tmp_path / "cats" / "a.jpg", color=RED)
    (tmp_path / "data.csv").write_text("file,animal\ncats/a.jpg,Cat\n")
    dataset = csv_reader(id_column="file", label_column="animal").read(tmp_path / "data.csv")
    assert dataset.samples == [(str(tmp_path / "cats" / "a.jpg"), "Cat")]


def test_rows_without_image_or_label_are_skipped_with_warnings(tmp_path, skip_warnings):
    write_image(tmp_path / "a.jpg", color=RED)
    write_image(tmp_path / "b.jpg", color=RED)
    write_image(tmp_path / "twin.jpg", color=RED)
    write_image(tmp_path / "twin.png", color=RED)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "labels.csv").write_text("id,label\na,Cat\ngone,Cat\nb,\ntwin,Dog\nempty,Dog\n")
    dataset = csv_reader().read(tmp_path / "labels.csv")
    assert dataset.labels == ["Cat"]
    assert dataset.skipped == {"missing file": 1, "no label": 1, "ambiguous id": 1, "empty file": 1}
    assert skip_warnings()[0] == (f"Skipping {tmp_path / 'gone'}: missing file ({tmp_path / 'labels.csv'}, line 3: "
                                  f"no such image in {tmp_path})")



def test_listing_the_labels_before_reading_warns_about_each_row_left_out_once(tmp_path, skip_warnings):
    write_image(tmp_path / "a.jpg", color=RED)
    (tmp_path / "labels.csv").write_text("id,label\na,Cat\ngone,Dog\n")
    reader = csv_reader()
    assert reader.read_labels(tmp_path / "labels.csv") == ["Cat"]  # as train does, to build the model first
    reader.read(tmp_path / "labels.csv")
    assert skip_warnings() == [f"Skipping {tmp_path / 'gone'}: missing file ({tmp_path / 'labels.csv'}, line 3: "
                               f"no such image in {tmp_path})"]

def test_a_missing_column_names_the_columns_there_are(tmp_path):
    (tmp_path / "labels.csv").write_text("id,breed\nx,y\n")
    with pytest.raises(ConfigurationError) as error:
        csv_reader().read(tmp_path / "labels.csv")
    assert str(error.value) == (f"label_column: {tmp_path / 'labels.csv'} has no column 'label'; its columns are "
                                "['id', 'breed']. Set \"label_column\" to one of them.")


def test_missing_csv_or_image_directory_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        csv_reader().read(tmp_path / "labels.csv")
    (tmp_path / "labels.csv").write_text("id,label\n")
    with pytest.raises(ConfigurationError, match="image_directory: .*train .* is not a folder"):
        csv_reader(image_directory="train").read(tmp_path / "labels.csv")


def test_a_csv_of_mostly_missing_images_names_the_first_five_and_counts_the_rest(tmp_path, skip_warnings, caplog):
    write_image(tmp_path / "present.jpg", color=RED)
    (tmp_path / "labels.csv").write_text("id,label\npresent,Cat\n" + "".join(f"gone{i},Dog\n" for i in range(40)))
    dataset = csv_reader().read(tmp_path / "labels.csv")
    assert [warning.split(":")[0] for warning in skip_warnings()] == [f"Skipping {tmp_path / f'gone{i}'}" for i in range(5)]
    assert caplog.records[-1].getMessage() == (f"Read 1 image from {tmp_path / 'labels.csv'}; 40 files skipped: "
                                               "40 missing file (5 named above, and 35 more).")
    assert len(dataset.skipped_files.files) == 40
