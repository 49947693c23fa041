"""The calibration benchmark measures what training decides on: each validation image scaled with
a temperature fitted without it."""
import sys
from pathlib import Path

import pytest

from allencv_lite.interpret.calibration import choose_temperature
from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.models.archival import load_archive

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import calibration  # noqa: E402  (benchmarks/ is not a package)


def test_the_benchmarks_calibrated_nll_is_the_out_of_sample_nll_training_decides_on(digits_archive, digits_dir):
    row = calibration.measure(digits_archive, str(digits_dir / "val"), test_path=None, seed=0)
    validation = ClassificationInterpretation.from_archive(load_archive(digits_archive), digits_dir / "val",
                                                           progress=False)
    choice = choose_temperature(validation.logits, validation.targets, seed=0)
    assert row["uncalibrated"]["nll"] == pytest.approx(choice.out_of_sample_nll_before, rel=1e-6)
    assert row["calibrated"]["nll"] == pytest.approx(choice.out_of_sample_nll_after, rel=1e-6)
