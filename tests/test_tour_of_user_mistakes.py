"""The scripted tour of user mistakes (``tests/tour_of_user_mistakes.py``): every step exits as
expected, and nothing it prints is a traceback."""
import os
import subprocess
import sys
from pathlib import Path

TOUR = Path(__file__).resolve().parent / "tour_of_user_mistakes.py"


def test_no_user_mistake_in_the_tour_prints_a_traceback(tmp_path):
    tour = subprocess.run([sys.executable, str(TOUR), str(tmp_path)], capture_output=True, text=True,
                          env=os.environ, timeout=1800)
    log = (tmp_path / "tour.log").read_text(encoding="utf-8")
    assert tour.returncode == 0, tour.stderr[-3000:]
    assert log.count("$ allencv-lite ") == 24
    assert "Traceback" not in log + tour.stdout + tour.stderr
