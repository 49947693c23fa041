"""``allencv-lite evaluate ARCHIVE DATA_PATH``: a printed table and a JSON file of metrics."""
import json
import shutil

from allencv_lite.commands import main
from allencv_lite.interpretation import ClassificationInterpretation, format_metrics_table
from allencv_lite.models.archival import load_archive


def test_evaluate_prints_the_table_and_writes_the_metrics_json(digits_archive, digits_dir, tmp_path, capsys):
    output_file = tmp_path / "metrics.json"
    assert main(["evaluate", str(digits_archive), str(digits_dir / "val"), "--output-file", str(output_file)]) == 0
    written = json.loads(output_file.read_text())
    expected = ClassificationInterpretation.from_archive(load_archive(digits_archive), digits_dir / "val",
                                                         progress=False).metrics()
    assert written == expected
    assert format_metrics_table(written) in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # written atomically, nothing left over


def test_evaluate_on_a_label_the_model_does_not_know_exits_2(digits_archive, digits_dir, tmp_path, capsys):
    shutil.copytree(digits_dir / "val" / "0", tmp_path / "zero")
    assert main(["evaluate", str(digits_archive), str(tmp_path)]) == 2
    assert "'zero'" in capsys.readouterr().err


def test_evaluate_on_a_missing_folder_exits_2(digits_archive, tmp_path, capsys):
    assert main(["evaluate", str(digits_archive), str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_evaluate_into_a_missing_folder_exits_2(digits_archive, digits_dir, tmp_path, capsys):
    status = main(["evaluate", str(digits_archive), str(digits_dir / "val"),
                   "--output-file", str(tmp_path / "nowhere" / "metrics.json")])
    assert status == 2
    assert "Cannot write --output-file" in capsys.readouterr().err
