"""``allencv-lite predict``: JSON lines in, JSON lines out, bad lines reported by number."""
import io
import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import List

import pytest

from allencv_lite.commands import main


@pytest.fixture
def digit_paths(digits_dir) -> List[str]:
    """One validation image of each digit 0 to 4."""
    return [str(sorted((digits_dir / "val" / str(d)).iterdir())[0]) for d in range(5)]


@pytest.fixture
def mixed_input(digit_paths, tmp_path) -> Path:
    """Nine lines: five good, a missing file (3), a text file posing as an image (5), bad JSON (7),
    a JSON list (8), and a blank line (6) that is skipped but still counted."""
    fake = tmp_path / "fake.jpg"
    fake.write_text("I am not a JPEG")
    lines = [
        json.dumps({"image_path": digit_paths[0]}),
        json.dumps({"image_path": digit_paths[1]}),
        json.dumps({"image_path": str(tmp_path / "missing.png")}),
        json.dumps({"image_path": digit_paths[2]}),
        json.dumps({"image_path": str(fake)}),
        "",
        '{"image_path": ',
        "[1, 2]",
        json.dumps({"image_path": digit_paths[3]}),
        json.dumps({"image_path": digit_paths[4]}),
    ]
    path = tmp_path / "input.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def records(text: str) -> List[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_good_lines_print_one_prediction_each_and_exit_0(digits_archive, digit_paths, tmp_path, capsys):
    source = tmp_path / "good.jsonl"
    source.write_text("".join(json.dumps({"image_path": p}) + "\n" for p in digit_paths))
    assert main(["predict", str(digits_archive), str(source)]) == 0
    outputs = records(capsys.readouterr().out)
    assert len(outputs) == 5
    assert all(set(output) == {"label", "probabilities", "top_k"} for output in outputs)


@pytest.mark.parametrize("batch_size", ["1", "3", "32"])
def test_bad_lines_give_numbered_error_records_and_the_rest_still_run(digits_archive, mixed_input, tmp_path, capsys,
                                                                       batch_size):
    output_file = tmp_path / "out.jsonl"
    status = main(["predict", str(digits_archive), str(mixed_input), "--batch-size", batch_size,
                   "--output-file", str(output_file)])
    assert status == 1
    captured = capsys.readouterr()
    assert len(records(captured.out)) == 5
    errors = records(captured.err)
    assert [error["line"] for error in errors] == [3, 5, 7, 8]
    assert "missing.png" in errors[0]["error"]
    assert "fake.jpg: not an image" in errors[1]["error"]
    assert errors[2]["error"].startswith("not a JSON object")
    assert errors[3]["error"] == ('not a JSON object: expected a JSON object. Write one object per line, such as '
                                  '{"image_path": "cat.jpg"}')
    assert "4 of 9 input lines failed" in captured.err
    written = records(output_file.read_text())
    assert ["line" in record for record in written] == [False, False, True, False, True, True, True, False, False]


def test_batched_and_unbatched_predictions_agree(digits_archive, mixed_input, capsys):
    main(["predict", str(digits_archive), str(mixed_input), "--batch-size", "1"])
    one_at_a_time = records(capsys.readouterr().out)
    main(["predict", str(digits_archive), str(mixed_input), "--batch-size", "4"])
    batched = records(capsys.readouterr().out)
    assert [o["label"] for o in batched] == [o["label"] for o in one_at_a_time]
    for a, b in zip(batched, one_at_a_time):
        assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-6)


def test_dash_reads_stdin(digits_archive, digit_paths, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"image_path": digit_paths[0]}) + "\n"))
    assert main(["predict", str(digits_archive), "-"]) == 0
    assert len(records(capsys.readouterr().out)) == 1


def test_silent_prints_no_predictions_but_still_writes_them_and_reports_errors(digits_archive, mixed_input, tmp_path,
                                                                               capsys):
    output_file = tmp_path / "out.jsonl"
    assert main(["predict", str(digits_archive), str(mixed_input), "--silent", "--output-file", str(output_file)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(records(captured.err)) == 4
    assert len(records(output_file.read_text())) == 9


@pytest.mark.parametrize("arguments, message", [
    (["INPUT", "--batch-size", "0"], "--batch-size must be at least 1, got 0"),
    (["NOWHERE/in.jsonl"], "Cannot open the input file NOWHERE/in.jsonl: No such file or directory"),
    (["INPUT", "--output-file", "NOWHERE/out.jsonl"], "Cannot open the output file NOWHERE/out.jsonl"),
    (["INPUT", "--predictor", "default_imag"], "Did you mean 'default_image'?"),
    (["EMPTY"], "No images in EMPTY: INPUT folders are searched for files ending in .jpg, .jpeg"),
    (["INPUT", "--output-file", "out.csv"], "--output-file out.csv: CSV is written for image files and folders"),
])
def test_bad_arguments_exit_2_with_a_message(digits_archive, mixed_input, tmp_path, capsys, arguments, message):
    (tmp_path / "empty").mkdir()
    arguments = [a.replace("INPUT", str(mixed_input)).replace("NOWHERE", str(tmp_path / "nowhere"))
                 .replace("EMPTY", str(tmp_path / "empty")) for a in arguments]
    message = message.replace("NOWHERE", str(tmp_path / "nowhere")).replace("EMPTY", str(tmp_path / "empty"))
    assert main(["predict", str(digits_archive), *arguments]) == 2
    assert message in capsys.readouterr().err


def test_min_confidence_makes_unsure_lines_not_sure_with_the_top_two_labels(digits_archive, digit_paths, capsys):
    assert main(["predict", str(digits_archive), *digit_paths]) == 0
    answers = records(capsys.readouterr().out)
    threshold = sorted(max(answer["probabilities"].values()) for answer in answers)[2]  # the third least confident
    assert main(["predict", str(digits_archive), *digit_paths, "--min-confidence", str(threshold)]) == 0
    unsure = records(capsys.readouterr().out)
    assert [answer["not_sure"] for answer in unsure] == [max(a["probabilities"].values()) < threshold for a in answers]
    assert sum(answer["not_sure"] for answer in unsure) == 2
    for answer, before in zip(unsure, answers):
        assert answer["label"] == (None if answer["not_sure"] else before["label"])
        assert ("top_2" in answer) == answer["not_sure"]


@pytest.mark.parametrize("value", ["-0.5", "2"])
def test_a_min_confidence_outside_0_and_1_is_one_line(digits_archive, digit_paths, capsys, value):
    assert main(["predict", str(digits_archive), *digit_paths, "--min-confidence", value]) == 2
    assert capsys.readouterr().err == (f"allencv-lite: error: --min-confidence must be between 0 and 1 (e.g. 0.8), "
                                       f"got {float(value)}.\n")


def test_a_missing_archive_exits_2(tmp_path, mixed_input, capsys):
    assert main(["predict", str(tmp_path / "model.tar.gz"), str(mixed_input)]) == 2
    assert "model.tar.gz does not exist" in capsys.readouterr().err


def test_include_package_registers_a_predictor_of_your_own(digits_archive, digit_paths, tmp_path, monkeypatch,
                                                           capsys):
    (tmp_path / "my_predictors.py").write_text(textwrap.dedent('''
        from allencv_lite.predictors import ImagePredictor, Predictor

        @Predictor.register("label_only")
        class LabelOnlyPredictor(ImagePredictor):
            def predict_batch_json(self, inputs):
                return [{"label": output["label"]} for output in super().predict_batch_json(inputs)]
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"image_path": digit_paths[0]}) + "\n")
    status = main(["predict", str(digits_archive), str(source), "--predictor", "label_only",
                   "--include-package", "my_predictors"])
    assert status == 0
    assert list(records(capsys.readouterr().out)[0]) == ["label"]


def test_python_dash_m_allencv_lite_exits_1_when_a_line_fails(digits_archive, mixed_input, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["allencv-lite", "predict", str(digits_archive), str(mixed_input)])
    ctrl_c = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_status:
            runpy.run_module("allencv_lite", run_name="__main__")
    finally:
        signal.signal(signal.SIGINT, ctrl_c)  # the command line ignores a Ctrl-C once its work is done
    assert exit_status.value.code == 1
    assert len(records(capsys.readouterr().out)) == 5


@pytest.mark.parametrize("batch_size", ["1", "2"])
def test_an_image_smaller_than_a_crop_gives_an_error_record_and_the_next_lines_are_predicted(center_crop_run, tmp_path,
                                                                                             capsys, batch_size):
    data = Path(json.loads((center_crop_run / "config.json").read_text())["train_data_path"])
    source = tmp_path / "input.jsonl"
    source.write_text("".join(json.dumps({"image_path": str(data / name)}) + "\n"
                              for name in ("Cat/0.png", "Cat/small.png", "Dog/0.png")))
    status = main(["predict", str(center_crop_run / "model.tar.gz"), str(source), "--batch-size", batch_size])
    output = capsys.readouterr()
    assert status == 1
    assert [record["label"] for record in records(output.out)] == ["Cat", "Dog"]
    assert records(output.err) == [{"line": 2, "error": f"{data / 'Cat' / 'small.png'}: smaller than a crop (40x30 pixels "
                                    "(width x height) when it reaches augmentation[0] ('center_crop'), which needs at "
                                    "least 32x32; put a resize before the crop, or give the crop \"pad_if_needed\": true)"}]
def run_predict_command(*arguments: str, **popen) -> subprocess.Popen:
    """``python -m allencv_lite predict ...`` as a user runs it, in its own process."""
    return subprocess.Popen([sys.executable, "-m", "allencv_lite", "predict", *arguments], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": ""}, **popen)  # buffered, as in a terminal pipe


def test_image_files_given_as_input_give_one_record_each_naming_the_file(digits_archive, digit_paths, tmp_path):
    process = run_predict_command(str(digits_archive), digit_paths[0], digit_paths[1], str(tmp_path / "gone.png"))
    out, err = process.communicate(timeout=300)
    assert process.returncode == 1
    assert [record["path"] for record in records(out)] == digit_paths[:2]
    assert records(err) == [{"path": str(tmp_path / "gone.png"),
                             "error": f"{tmp_path / 'gone.png'}: missing file (no such file; a broken symbolic link?)"}]
    assert err.splitlines()[-1].startswith("allencv-lite predict: 3 images: ")
    assert err.splitlines()[-1].endswith("; 1 failed.")
    assert "Traceback" not in err


def test_a_binary_file_given_as_json_lines_says_what_to_write_instead(digits_archive, digit_paths, tmp_path):
    posing = tmp_path / "digit"  # an image without an image extension, read as JSON lines
    posing.write_bytes(Path(digit_paths[0]).read_bytes())
    process = run_predict_command(str(digits_archive), str(posing))
    out, err = process.communicate(timeout=300)
    assert process.returncode == 2
    assert err.splitlines() == [
        f"allencv-lite: error: {posing} is not JSON lines: line 1 is not UTF-8 text (an image or other binary file?). "
        'INPUT holds one JSON object per line, such as {"image_path": "cat.jpg"}; to predict image files, pass them '
        "(or their folder) directly: allencv-lite predict ARCHIVE cat.jpg dog.png."]


def test_several_inputs_that_are_not_all_images_exit_2(digits_archive, mixed_input, digit_paths, capsys):
    assert main(["predict", str(digits_archive), str(mixed_input), digit_paths[0]]) == 2
    assert "INPUT is one JSON-lines file (or - for stdin) or image files and folders" in capsys.readouterr().err


def test_an_output_file_on_a_full_disk_is_named_in_one_line(digits_archive, digit_paths):
    process = run_predict_command(str(digits_archive), digit_paths[0], "--output-file", "/dev/full")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 2
    assert err.splitlines() == ["allencv-lite: error: Cannot write the output file /dev/full: No space left on device."]


def test_ctrl_c_says_how_many_lines_were_predicted_and_where_they_are(digits_archive, digit_paths, tmp_path):
    output_file = tmp_path / "out.jsonl"
    process = run_predict_command(str(digits_archive), "-", "--output-file", str(output_file), stdin=subprocess.PIPE)
    for path in digit_paths[:2]:
        process.stdin.write(json.dumps({"image_path": path}) + "\n")
    process.stdin.flush()
    assert records(process.stdout.readline() + process.stdout.readline()) != []  # both predicted, input still open
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.splitlines() == [f"allencv-lite: interrupted: predict stopped after 2 input lines (0 failed); they "
                                f"are in {output_file}."]
    assert len(records(output_file.read_text())) == 2


def test_an_image_piped_to_stdin_says_what_to_write_instead_whatever_the_locale(digits_archive, digit_paths):
    process = subprocess.run([sys.executable, "-m", "allencv_lite", "predict", str(digits_archive), "-"],
                             input=Path(digit_paths[0]).read_bytes(), capture_output=True, timeout=300,
                             env={**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"})  # C locale: stdin lets binary in
    assert process.returncode == 2
    assert process.stderr.decode().splitlines()[-1].startswith(
        "allencv-lite: error: <stdin> is not JSON lines: line 1 is not UTF-8 text (an image or other binary file?).")


def test_the_command_line_and_the_demo_name_an_empty_file_alike(digits_archive, tmp_path, capsys):
    from allencv_lite.models.archival import load_archive
    from allencv_lite.predictors import Predictor
    from allencv_lite.service.server_simple import make_app

    (tmp_path / "empty.png").write_bytes(b"")
    assert main(["predict", str(digits_archive), str(tmp_path / "empty.png")]) == 1
    assert json.loads(capsys.readouterr().err.splitlines()[0])["error"] == f"{tmp_path / 'empty.png'}: empty file"
    client = make_app(Predictor.from_archive(load_archive(digits_archive), "default_image")).test_client()
    response = client.post("/predict", data={"image": (io.BytesIO(b""), "empty.png")},
                           content_type="multipart/form-data")
    assert "empty file" in response.get_json()["error"]
