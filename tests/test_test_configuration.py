"""The suite's own configuration: a skipped test says why in the summary."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_summary_gives_each_skipped_tests_reason(tmp_path):
    (tmp_path / "test_skipping.py").write_text(
        "import pytest\n\n\ndef test_needs_photos():\n    pytest.skip('ALLENCV_DATA_DIR is not set')\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-c", str(REPO / "setup.cfg"), "--rootdir", str(tmp_path),
                             "-p", "no:cacheprovider", str(tmp_path / "test_skipping.py")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert "SKIPPED [1] test_skipping.py:5: ALLENCV_DATA_DIR is not set" in result.stdout, result.stdout
