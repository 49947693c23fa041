"""One device rule for training, archives, predictors and the demo."""
import logging

import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.devices import select_device


def test_minus_one_is_the_cpu():
    assert select_device(-1) == torch.device("cpu")


def test_nothing_asked_is_the_first_gpu_where_there_is_one():
    assert select_device(None) == torch.device("cuda:0" if torch.cuda.is_available() else "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_asked_for_without_cuda_is_the_cpu_with_a_warning_naming_the_setting(caplog):
    with caplog.at_level(logging.WARNING):
        assert select_device(1, "trainer.cuda_device") == torch.device("cpu")
    assert "trainer.cuda_device=1 but CUDA is not available; using the CPU." in caplog.text


def test_a_gpu_index_this_machine_lacks_is_named_with_the_count(monkeypatch):
    if not torch.cuda.is_available():  # a machine with one GPU, as torch would report it
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    count = torch.cuda.device_count()
    with pytest.raises(ConfigurationError) as error:
        select_device(count, "--cuda-device")
    assert str(error.value) == (f"--cuda-device={count}, but this machine has {count} GPU(s), numbered from 0; "
                                "use -1 for the CPU.")


def test_training_and_archives_use_the_same_rule(monkeypatch):
    from allencv_lite.training.distributed import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigurationError, match=r"^trainer.cuda_device=2, but this machine has 1 GPU\(s\)"):
        resolve_device(2)
