"""The calibration benchmark measures each validation image with a temperature fitted without it."""
import sys
from pathlib import Path

import torch

from allencv_lite.interpret.calibration import fit_temperature

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import calibration  # noqa: E402  (benchmarks/ is not a package)


def test_each_half_is_scaled_with_the_temperature_fitted_on_the_other_half():
    generator = torch.Generator().manual_seed(0)
    logits = 3 * torch.randn(400, 4, generator=generator)
    targets = torch.multinomial(torch.softmax(logits / 3, dim=-1), 1, generator=generator).squeeze(1)
    temperatures, fitted = calibration.out_of_sample_temperatures(logits, targets, seed=0)
    order = torch.randperm(400, generator=torch.Generator().manual_seed(0))
    first, second = order[:200], order[200:]
    assert fitted == [fit_temperature(logits[second], targets[second]), fit_temperature(logits[first], targets[first])]
    assert torch.all(temperatures[first] == fitted[0]) and torch.all(temperatures[second] == fitted[1])
    assert all(abs(t - 3) < 0.6 for t in fitted)  # the logits are 3 × calibrated ones
