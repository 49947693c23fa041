"""``allencv-lite predict ARCHIVE FOLDER``: one record per image naming its file, bad files reported, a summary."""
import csv
import json
from pathlib import Path
from typing import List

import numpy as np
import pytest
from PIL import Image

from allencv_lite.commands import main


def records(text: str) -> List[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def photo_folder(tmp_path) -> Path:
    """200 random 20×20 images: 120 loose in the folder, 80 in a sub-folder ``more/``."""
    folder = tmp_path / "new_photos"
    (folder / "more").mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 256, size=(200, 20, 20, 3), dtype=np.uint8)
    for index, image in enumerate(pixels):
        Image.fromarray(image).save(folder / ("more" if index >= 120 else "") / f"{index:03d}.png")
    return folder


def test_a_folder_of_200_images_gives_200_records_each_naming_its_file(digits_archive, photo_folder, capsys):
    assert main(["predict", str(digits_archive), str(photo_folder), "--batch-size", "32"]) == 0
    captured = capsys.readouterr()
    outputs = records(captured.out)
    assert sorted(record["path"] for record in outputs) == sorted(str(p) for p in photo_folder.rglob("*.png"))
    assert all(list(record) == ["path", "label", "probabilities", "top_k"] for record in outputs)
    per_label = {label: sum(record["label"] == label for record in outputs) for label in outputs[0]["probabilities"]}
    counts = ", ".join(f"{n} {label}" for label, n in sorted(per_label.items(), key=lambda p: (-p[1], p[0])) if n)
    assert captured.err.splitlines()[-1] == f"allencv-lite predict: 200 images: {counts}; 0 failed."


@pytest.mark.parametrize("batch_size", ["1", "32"])
def test_a_corrupt_file_among_them_gives_one_error_record_and_the_others_still_come_out(digits_archive, photo_folder,
                                                                                        capsys, batch_size):
    corrupt = photo_folder / "more" / "150.png"
    corrupt.write_bytes(corrupt.read_bytes()[:60])  # cut short, as an unfinished download
    assert main(["predict", str(digits_archive), str(photo_folder), "--batch-size", batch_size]) == 1
    captured = capsys.readouterr()
    assert len(records(captured.out)) == 199
    [error] = records(captured.err)
    assert error["path"] == str(corrupt)
    assert error["error"].startswith(f"{corrupt}: truncated")
    assert captured.err.splitlines()[-1].endswith("; 1 failed.")
    assert captured.err.splitlines()[-1].startswith("allencv-lite predict: 200 images: ")


def test_csv_output_has_a_row_per_image_with_its_path_label_and_probabilities(digits_archive, photo_folder, tmp_path,
                                                                             capsys, caplog):
    (photo_folder / "notes.txt").write_text("not a photo")
    (photo_folder / "broken.jpg").write_bytes(b"")
    output_file = tmp_path / "predictions.csv"
    status = main(["predict", str(digits_archive), str(photo_folder), "--batch-size", "32", "--silent",
                   "--output-file", str(output_file)])
    assert status == 1
    with open(output_file, newline="") as table:
        rows = list(csv.DictReader(table))
    assert list(rows[0]) == ["path", "label", *(f"probabilities.{digit}" for digit in range(10)), "error"]
    assert len(rows) == 201  # 200 images and the empty file; notes.txt is passed over with a warning
    [broken] = [row for row in rows if row["error"]]
    assert broken == {"path": str(photo_folder / "broken.jpg"), "label": "", "error": f"{photo_folder / 'broken.jpg'}: "
                      "empty file", **{f"probabilities.{digit}": "" for digit in range(10)}}
    for row in rows:
        if not row["error"]:
            probabilities = [float(row[f"probabilities.{digit}"]) for digit in range(10)]
            assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
            assert row["label"] == str(int(np.argmax(probabilities)))
    assert f"Skipping {photo_folder / 'notes.txt'}: unsupported file type" in caplog.text
    assert capsys.readouterr().err.splitlines()[-1].endswith("; 1 failed; 1 file skipped: 1 unsupported file type.")


@pytest.mark.parametrize("options", [[], ["--min-confidence", "0.5"]])
def test_a_folder_record_is_the_json_lines_record_of_its_image_plus_its_path(digits_archive, digits_dir, tmp_path,
                                                                             capsys, options):
    folder = digits_dir / "val" / "3"
    images = sorted(str(path) for path in folder.iterdir())[:8]
    (tmp_path / "input.jsonl").write_text("".join(json.dumps({"image_path": path}) + "\n" for path in images))
    assert main(["predict", str(digits_archive), str(tmp_path / "input.jsonl"), *options]) == 0
    from_lines = records(capsys.readouterr().out)
    main(["predict", str(digits_archive), *images, *options])
    from_files = records(capsys.readouterr().out)
    assert from_files == [{"path": path, **record} for path, record in zip(images, from_lines)]
    if options:  # the untrained model is unsure of some 3s, sure of others
        assert {record["not_sure"] for record in from_files} == {True, False}


def test_image_files_and_folders_can_be_mixed_and_keep_their_order(digits_archive, photo_folder, capsys):
    single = photo_folder / "more" / "199.png"
    assert main(["predict", str(digits_archive), str(single), str(photo_folder / "more")]) == 0
    paths = [record["path"] for record in records(capsys.readouterr().out)]
    assert paths == [str(single)] + sorted(str(p) for p in (photo_folder / "more").glob("*.png"))
