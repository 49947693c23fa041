"""Mixed precision: bfloat16 where the GPU has it, float16 with loss scaling where not, off on the CPU.

No GPU is needed: the capability query is replaced by what each kind of GPU answers."""
import logging

import pytest
import torch

from allencv_lite.training.mixed_precision import autocast_dtype, needs_loss_scaling

CUDA = torch.device("cuda:0")


def test_a_gpu_with_bfloat16_computes_in_bfloat16_without_loss_scaling(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)  # Ampere, Hopper
    dtype = autocast_dtype(CUDA, use_amp=True)
    assert dtype == torch.bfloat16
    assert not needs_loss_scaling(dtype)


def test_a_gpu_without_bfloat16_computes_in_float16_with_loss_scaling(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)  # Volta, Turing
    dtype = autocast_dtype(CUDA, use_amp=True)
    assert dtype == torch.float16
    assert needs_loss_scaling(dtype)


def test_without_use_amp_a_gpu_computes_in_float32(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert autocast_dtype(CUDA, use_amp=False) is None
    assert not needs_loss_scaling(None)


def test_the_cpu_computes_in_float32_and_says_so(caplog):
    with caplog.at_level(logging.WARNING):
        assert autocast_dtype(torch.device("cpu"), use_amp=True) is None
    assert "use_amp needs a CUDA device; training on cpu in float32." in caplog.text


@pytest.mark.parametrize("dtype", [None, torch.bfloat16])
def test_the_trainers_autocast_runs_on_the_cpu_with_either_choice(dtype):
    """The trainer's line, ``torch.autocast(device.type, dtype=..., enabled=dtype is not None)``,
    also runs on the CPU: off it leaves float32, on it computes a linear layer in bfloat16."""
    layer = torch.nn.Linear(4, 2)
    with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
        output = layer(torch.ones(3, 4))
    assert output.dtype == (dtype or torch.float32)
