"""The audit on generated pictures with planted problems (see conftest.py)."""
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

import pytest

from allencv_lite.audit import audit
from allencv_lite.audit.duplicates import NEAR_DUPLICATE_SIMILARITY, find_duplicates
from allencv_lite.audit.features import extract_features, pretrained_backbone
from allencv_lite.audit.report import MAX_LISTED_PAIRS
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.cleaning import CleaningDecisions
from tests.helpers.generated_pictures import PLANTED_THRESHOLD, near_copy, write_dataset


def folder_fingerprint(root: Path) -> dict:
    """Every file under ``root`` with the SHA-256 of its bytes."""
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def test_the_flipped_label_ranks_first_with_its_true_class_suggested(planted_report):
    worst = planted_report.label_issues.iloc[0]
    assert (worst.path, worst.label, worst.suggested_label) == ("train/Stripes/flipped.jpg", "Stripes", "Dots")
    assert worst.score < 0.5


def test_a_cut_summary_says_how_many_more_there_are_and_where(planted_report):
    # Two duplicate pairs (the exact copy, the near copy) and one leakage pair; one of each listed.
    assert planted_report.summary(listed=1).splitlines()[3:] == [
        "  duplicate    train/Dots/dots0.jpg ~ train/Dots/dots0_copy.jpg (similarity 1.000, exact)",
        "  … and 1 more duplicate pair (see report.duplicates)",
        "  leakage      train/Dots/dots2.jpg ~ val/Dots/leaked.jpg (similarity 1.000, exact)"]


def test_an_exact_copy_is_an_exact_duplicate(planted_report):
    exact = planted_report.duplicates[planted_report.duplicates.exact]
    assert [(row.path, row.other_path, row.similarity) for row in exact.itertuples()] == [
        ("train/Dots/dots0.jpg", "train/Dots/dots0_copy.jpg", 1.0)]


def test_a_resized_reencoded_copy_is_a_near_duplicate_and_nothing_else_is(planted_report):
    near = planted_report.duplicates[~planted_report.duplicates.exact]
    assert [(row.path, row.other_path) for row in near.itertuples()] == [
        ("train/Stripes/stripes1.jpg", "train/Stripes/stripes1_small.jpg")]
    assert PLANTED_THRESHOLD <= near.similarity.iloc[0] < 1.0


def test_a_copy_across_splits_is_leakage_not_a_duplicate(planted_report):
    assert [(row.path, row.other_path, row.exact) for row in planted_report.leakage.itertuples()] == [
        ("train/Dots/dots2.jpg", "val/Dots/leaked.jpg", True)]


def test_broken_and_non_image_files_are_skipped_and_listed(planted_report):
    assert dict(zip(planted_report.skipped.path, planted_report.skipped.reason)) == {
        "train/Dots/broken.jpg": "truncated", "train/Dots/notes.jpg": "not an image"}
    assert len(planted_report.images) == 40 + 3 + 12 + 1


def test_the_json_contract_has_relative_forward_slash_paths(planted_report, tmp_path):
    planted_report.save(tmp_path / "audit.json")
    found = json.loads((tmp_path / "audit.json").read_text())
    assert list(found) == ["label_issues", "duplicates", "leakage", "skipped", "totals", "near_duplicate_similarity"]
    assert found["totals"] == {"label_issues": len(planted_report.label_issues), "duplicates": 2, "leakage": 1,
                               "skipped": 2}
    assert found["near_duplicate_similarity"] == PLANTED_THRESHOLD
    assert found["label_issues"][0] == {"path": "train/Stripes/flipped.jpg", "label": "Stripes",
                                        "suggested_label": "Dots", "score": found["label_issues"][0]["score"]}
    assert found["leakage"] == [{"paths": ["train/Dots/dots2.jpg", "val/Dots/leaked.jpg"], "similarity": 1.0,
                                 "exact": True}]
    assert {"path": "train/Dots/notes.jpg", "reason": "not an image"} in found["skipped"]


def test_the_json_lists_at_most_max_listed_pairs_of_a_kind_the_most_similar_and_counts_them_all(planted_report):
    many = pd.DataFrame([(f"train/Dots/{n}.jpg", f"train/Dots/{n}b.jpg", 0.99 - n * 1e-5, False) for n in range(2500)],
                        columns=planted_report.duplicates.columns)
    found = dataclasses.replace(planted_report, duplicates=many).to_json()
    assert len(found["duplicates"]) == MAX_LISTED_PAIRS == 1000
    assert found["duplicates"][0]["paths"] == ["train/Dots/0.jpg", "train/Dots/0b.jpg"]
    assert found["totals"]["duplicates"] == 2500 and len(found["leakage"]) == found["totals"]["leakage"] == 1


def test_handwritten_digits_all_alike_have_no_near_duplicate_at_the_data_s_own_threshold(digits_dir, feature_cache):
    report = audit(digits_dir / "val", cache_folder=feature_cache, progress=False)  # 358 digits of 8×8 pixels
    at_the_photos_threshold, _ = find_duplicates(list(report.images.hash), report.features, NEAR_DUPLICATE_SIMILARITY)
    assert len(at_the_photos_threshold) > 10_000  # of 63 903 pairs: ImageNet features of tiny grey digits are alike
    assert report.duplicates.empty and 0.98 < report.settings["near_duplicate_similarity"] < 1
    assert report.to_json()["totals"]["duplicates"] == 0


def test_the_nearest_training_images_of_the_flipped_picture_are_dots(planted_report):
    neighbours = planted_report.neighbours("train/Stripes/flipped.jpg")
    assert list(neighbours.label) == ["Dots", "Dots", "Dots"]
    assert neighbours.similarity.is_monotonic_decreasing


def test_accepting_a_label_issue_writes_a_relabel_keyed_by_the_split_folder(planted_report, tmp_path):
    action = planted_report.accept("train/Stripes/flipped.jpg", tmp_path / "cleaning.json")
    assert action == "relabel:Dots"
    assert CleaningDecisions.load(tmp_path / "cleaning.json").decisions == {"Stripes/flipped.jpg": "relabel:Dots"}


def test_decisions_are_never_written_into_the_data(planted_report):
    with pytest.raises(ConfigurationError, match="inside the audited folder"):
        planted_report.accept("train/Stripes/flipped.jpg", planted_report.root / "cleaning.json")


def test_the_data_folder_is_byte_identical_after_an_audit(planted_folder, feature_cache, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(planted_folder, data)
    before = folder_fingerprint(data)
    report = audit(data, cache_folder=feature_cache, progress=False, near_duplicate_similarity=PLANTED_THRESHOLD)
    report.save(tmp_path / "audit.json")
    assert folder_fingerprint(data) == before


def test_a_rerun_computes_only_the_changed_images(planted_folder, feature_cache, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(planted_folder / "train", data)
    backbone = pretrained_backbone()
    first = extract_features(sorted(map(str, data.rglob("*.jpg"))), backbone, feature_cache, progress=False)
    assert first.computed == 0  # the session's audit already cached every picture
    for n in range(3):  # edited: resized and saved again
        (data / "Dots" / f"dots{10 + n}.jpg").write_bytes(near_copy(data / "Dots" / f"dots{10 + n}.jpg"))
    rerun = extract_features(sorted(map(str, data.rglob("*.jpg"))), backbone, feature_cache, progress=False)
    assert rerun.computed == 3


@pytest.mark.parametrize("layout, message", [
    ({}, "holds no images to audit"),
    ({"Cat": 6}, "has a single class, 'Cat'"),
    ({"Cat": 6, "Dog": 3}, r"class folder 'Dog' \(3\) has fewer images than the 5 folds of cross-validation; add "
                           r"images to it or lower --folds to 3"),
])
def test_data_the_audit_cannot_judge_gets_one_line_naming_the_folder(tmp_path, layout, message):
    root = tmp_path / "data"
    root.mkdir()
    write_dataset(root, {label: count for label, count in layout.items()}, seed=0)
    with pytest.raises(ConfigurationError, match=message) as error:
        audit(root, cache_folder=tmp_path / "cache", progress=False)
    assert str(root) in str(error.value)


def test_a_linear_probe_on_the_audited_features_tells_the_planted_classes_apart(planted_report):
    root = planted_report.root
    train = [(str(root / path), label) for path, label, split in
             zip(planted_report.images.path, planted_report.images.label, planted_report.images.split) if split == "train"]
    validation = [(str(root / path), label) for path, label, split in
                  zip(planted_report.images.path, planted_report.images.label, planted_report.images.split)
                  if split == "val"]
    assert planted_report.linear_probe_accuracy(train, validation) == 1.0


def test_a_folder_without_duplicates_gives_empty_tables(feature_cache, tmp_path):
    write_dataset(tmp_path / "data", {"Stripes": 5, "Dots": 5}, seed=3)
    report = audit(tmp_path / "data", cache_folder=feature_cache, progress=False,
                   near_duplicate_similarity=PLANTED_THRESHOLD)
    assert report.to_json()["duplicates"] == report.to_json()["leakage"] == []
    assert len(report.images) == 10 and "0 duplicate pairs (0 exact), 0 train/validation leakage pairs" in report.summary()


def test_an_archive_s_backbone_and_reader_give_the_features(digits_archive, digits_dir, tmp_path):
    for digit in ("0", "1", "2"):
        (tmp_path / "data" / digit).mkdir(parents=True)
        for image in sorted((digits_dir / "val" / digit).iterdir())[:6]:
            shutil.copy(image, tmp_path / "data" / digit / image.name)
    report = audit(tmp_path / "data", archive=str(digits_archive), cache_folder=tmp_path / "cache", progress=False)
    assert report.backbone.startswith("archive:") and report.features.shape == (18, 16)
    assert [path.name.startswith(report.backbone.replace(":", "-")) for path in (tmp_path / "cache").iterdir()] == [True]
