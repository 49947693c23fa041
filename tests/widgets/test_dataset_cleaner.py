"""DatasetCleaner: the most suspicious images first, decisions saved to cleaning.json, no file touched."""
import json
import shutil

import numpy as np
import pytest

from allencv_lite.data.dataset_readers import DatasetReader
from allencv_lite.interpret.grad_cam import explain_file
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.models.archival import load_archive
from allencv_lite.widgets import DatasetCleaner
from allencv_lite.widgets.image_encoding import png_bytes


@pytest.fixture(scope="module")
def archive(digits_archive):
    return load_archive(digits_archive)


@pytest.fixture
def folder(digits_dir, tmp_path):
    """Six validation images of each of the digits 0, 1 and 2, as ``<folder>/<digit>/<image>``."""
    root = tmp_path / "digits"
    for digit in ("0", "1", "2"):
        (root / digit).mkdir(parents=True)
        for image in sorted((digits_dir / "val" / digit).iterdir())[:6]:
            shutil.copy(image, root / digit / image.name)
    return root


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_images_are_ranked_by_loss_worst_first_as_the_top_losses(archive, folder, tmp_path):
    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json")
    top = ClassificationInterpretation.from_archive(archive, folder, progress=False).top_losses(18)
    assert [item.path for item in cleaner.items] == [sample["path"] for sample in top]
    assert [item.score for item in cleaner.items] == pytest.approx([sample["loss"] for sample in top])


def test_each_tile_shows_the_key_label_prediction_probability_and_loss(archive, folder, tmp_path):
    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json", num_images=4)
    assert len(cleaner.tiles) == 4
    item = cleaner.tiles[0].item
    caption = cleaner.tiles[0].caption.value
    assert item.key == f"{item.label}/{item.path.rsplit('/', 1)[1]}"
    assert f"label <b>{item.label}</b> · predicted <b>{item.predicted}</b> ({item.probability:.2f})" in caption
    assert f"loss {item.score:.2f}" in caption
    assert [label for label, _ in cleaner.tiles[0].action.options][:3] == ["(no decision)", "keep", "exclude"]
    assert f"relabel to {item.label}" not in [label for label, _ in cleaner.tiles[0].action.options]


def test_decisions_are_saved_at_once_and_no_file_is_deleted_or_moved(archive, folder, tmp_path):
    before = files_under(folder)
    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json")
    first, second, third = (tile.item.key for tile in cleaner.tiles[:3])
    cleaner.tiles[0].action.value = "exclude"
    other = "0" if cleaner.tiles[1].item.label != "0" else "1"
    cleaner.tiles[1].action.value = f"relabel:{other}"
    cleaner.tiles[2].action.value = "keep"
    cleaner.tiles[2].action.value = ""  # changed my mind: no decision
    assert json.loads((tmp_path / "cleaning.json").read_text()) == {first: "exclude", second: f"relabel:{other}"}
    assert "Saved 2 decisions" in cleaner.status.value
    assert files_under(folder) == before


def test_reopening_shows_the_saved_decisions_and_the_reader_applies_them(archive, folder, tmp_path):
    cleaning_file = tmp_path / "cleaning.json"
    cleaner = DatasetCleaner(archive, folder, cleaning_file=cleaning_file)
    excluded = cleaner.tiles[0].item
    cleaner.tiles[0].action.value = "exclude"

    reopened = DatasetCleaner(archive, folder, cleaning_file=cleaning_file)
    assert [tile.action.value for tile in reopened.tiles[:2]] == ["exclude", ""]
    dataset = DatasetReader.from_params({"type": "image_classification_directory",
                                         "cleaning_file": str(cleaning_file)}).read(folder)
    assert excluded.path not in [path for path, _ in dataset.samples] and len(dataset) == 17


def test_the_heatmap_checkbox_draws_the_grad_cam_of_the_predicted_label(archive, folder, tmp_path):
    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json", num_images=2)
    plain = cleaner.tiles[0].image.value
    cleaner.heatmap_toggle.value = True
    item = cleaner.tiles[0].item
    expected = explain_file(archive.model, archive.dataset_reader, item.path, label=cleaner.labels.index(item.predicted))
    assert cleaner.tiles[0].image.value == png_bytes(expected, 160) != plain


def test_pages_move_through_the_ranking(archive, folder, tmp_path):
    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json", num_images=8)
    assert cleaner.previous_button.disabled and "page 1 of 3 (18 images" in cleaner.page_label.value
    cleaner.next_button.click()
    assert [tile.item for tile in cleaner.tiles] == cleaner.items[8:16]
    cleaner.next_button.click()
    assert len(cleaner.tiles) == 2 and cleaner.next_button.disabled


def test_unlabelled_images_are_ranked_by_uncertainty_and_offer_a_label(archive, folder, tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    for image in sorted(folder.glob("*/*.png")):
        shutil.copy(image, loose / f"{image.parent.name}_{image.name}")
    cleaner = DatasetCleaner(archive, loose, cleaning_file=tmp_path / "cleaning.json")
    scores = [item.score for item in cleaner.items]
    assert len(scores) == 18 and scores == sorted(scores, reverse=True)
    assert all(item.label is None and item.score == pytest.approx(1 - item.probability) for item in cleaner.items)
    assert "label as 0" in [label for label, _ in cleaner.tiles[0].action.options]
    assert f"uncertainty {scores[0]:.2f}" in cleaner.tiles[0].caption.value


def test_a_saved_notebook_shows_the_page_and_each_new_decision(displayed, archive, folder, tmp_path, picture_of):
    from IPython.display import display


    cleaner = DatasetCleaner(archive, folder, cleaning_file=tmp_path / "cleaning.json", num_images=4, ncols=2)
    display(cleaner)
    cleaner.tiles[0].action.value = "exclude"
    first, *updates = displayed
    assert updates and all(update["update"] for update in updates)
    assert {update["transient"]["display_id"] for update in updates} == {first["transient"]["display_id"]}
    assert first["data"]["text/plain"] == updates[-1]["data"]["text/plain"]  # nbval compares it: no state in it
    mime_type, before = picture_of(first["data"])
    _, after = picture_of(updates[-1]["data"])
    assert mime_type == "image/jpeg" and before.shape == after.shape == (2 * 192 + 24, 2 * 160, 3)
    assert np.abs(before.astype(int) - after).mean() > 0  # the first tile's caption now says "exclude"
    assert len(updates[-1]["data"][mime_type]) < 100_000
