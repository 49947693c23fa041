"""``allencv-lite audit DATA_DIR --output-file audit.json``: the summary, the JSON, and one line for bad input."""
import json
import shutil

import pytest

from allencv_lite.commands import main
from allencv_lite.common.text import plural


def test_audit_prints_a_summary_and_writes_the_json(planted_folder, feature_cache, tmp_path, capsys):
    output_file = tmp_path / "audit.json"
    assert main(["audit", str(planted_folder), "--output-file", str(output_file), "--cache-dir",
                 str(feature_cache)]) == 0
    out = capsys.readouterr().out
    assert "label issue  train/Stripes/flipped.jpg: labelled Stripes, looks like Dots" in out
    written = json.loads(output_file.read_text())
    assert written["label_issues"][0]["path"] == "train/Stripes/flipped.jpg"
    assert {"paths": ["train/Dots/dots2.jpg", "val/Dots/leaked.jpg"], "similarity": 1.0, "exact": True} in \
        written["leakage"]
    assert f"{plural(len(written['leakage']), 'train/validation leakage pair')}." in out
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


@pytest.mark.parametrize("output_file, where", [("audit.json", "{tmp}/audit.json"),
                                                 (None, "the JSON that --output-file FILE writes")])
def test_a_cut_listing_ends_with_how_many_more_and_where_they_all_are(planted_folder, feature_cache, tmp_path, capsys,
                                                                     output_file, where):
    # Six more byte copies make seven exact duplicate pairs (the near copy is below the data's own threshold);
    # their features are cached by content, so no new forward pass.
    data = tmp_path / "data"
    shutil.copytree(planted_folder, data)
    for index in range(4, 10):
        shutil.copy(data / f"train/Dots/dots{index}.jpg", data / f"train/Dots/dots{index}_copy.jpg")
    arguments = ["--output-file", str(tmp_path / output_file)] if output_file else []
    assert main(["audit", str(data), "--cache-dir", str(feature_cache), *arguments]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "7 duplicate pairs (7 exact)" in out[1]
    assert len([line for line in out if line.startswith("  duplicate ")]) == 5
    assert f"  … and 2 more duplicate pairs (see {where.format(tmp=tmp_path)})" in out


@pytest.mark.parametrize("arguments, message", [
    (["--folds", "1"], "--folds must be at least 2"),
    (["--backbone", "resnet"], "--backbone 'resnet' is not known; use one of ['efficientnet_lite0', "
                               "'efficientnet_lite2']"),
    (["--output-file", "{data}/audit.json"], "is inside the audited folder"),
    (["--output-file", "{tmp}/missing/audit.json"], "its folder {tmp}/missing does not exist"),
])
def test_bad_arguments_get_one_line_before_any_work(planted_folder, tmp_path, capsys, arguments, message):
    arguments = [argument.format(data=planted_folder, tmp=tmp_path) for argument in arguments]
    assert main(["audit", str(planted_folder), "--cache-dir", str(tmp_path / "cache"), *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert message.format(tmp=tmp_path) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "cache").exists()


def test_a_missing_data_dir_is_named(tmp_path, capsys):
    assert main(["audit", str(tmp_path / "nowhere")]) == 2
    assert f"DATA_DIR {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
