"""``allencv-lite evaluate ARCHIVE DATA_PATH``: a printed table and a JSON file of metrics."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    assert "Cannot write --output-file" in capsys.readouterr().err  # checked before the work, not after


def many_digits(digits_dir: Path, folder: Path, copies: int) -> Path:
    """``folder/<digit>/`` with ``copies`` symbolic links to one validation image of each digit."""
    for digit_dir in sorted((digits_dir / "val").iterdir()):
        image = sorted(digit_dir.iterdir())[0]
        (folder / digit_dir.name).mkdir(parents=True)
        for copy in range(copies):
            (folder / digit_dir.name / f"{copy}{image.suffix}").symlink_to(image)
    return folder


def has_open_file_under(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` has a file below ``folder`` open (Linux's ``/proc/<pid>/fd``)."""
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(f"/proc/{pid}/fd/{descriptor}").startswith(str(folder)):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc to see the images being read")
def test_ctrl_c_says_that_nothing_was_written_and_exits_130(digits_archive, digits_dir, tmp_path):
    data = many_digits(digits_dir, tmp_path / "data", copies=1000)
    output_file = tmp_path / "metrics.json"
    evaluation = subprocess.Popen([sys.executable, "-m", "allencv_lite", "evaluate", str(digits_archive), str(data),
                                   "--batch-size", "1", "--output-file", str(output_file)],
                                  text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
    while not has_open_file_under(evaluation.pid, digits_dir / "val"):  # reading the 10,000 images
        assert evaluation.poll() is None, f"evaluate ended before reading the images: {evaluation.stderr.read()}"
        time.sleep(0)  # each image's file is open only while its bytes are read: poll without pausing
    evaluation.send_signal(signal.SIGINT)
    _, err = evaluation.communicate(timeout=120)
    assert evaluation.returncode == 130
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (f"allencv-lite: interrupted: evaluate stopped before it had predicted every image "
                                    f"of {data}; nothing was written (the metrics are printed and written only at the "
                                    "end).")
    assert not output_file.exists()


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux's read-only /sys")
def test_an_output_file_that_cannot_be_written_is_named_in_one_line(digits_archive, digits_dir):
    evaluation = subprocess.run([sys.executable, "-m", "allencv_lite", "evaluate", str(digits_archive),
                                 str(digits_dir / "val"), "--output-file", "/sys/metrics.json"],
                                capture_output=True, text=True, env=os.environ, timeout=300)
    assert evaluation.returncode == 2
    assert "Traceback" not in evaluation.stderr
    last_line = evaluation.stderr.splitlines()[-1]
    assert last_line.startswith("allencv-lite: error: Cannot write /sys/metrics.json: ")
    assert last_line.endswith(". Free some space on its disk or choose a folder you can write to.")
