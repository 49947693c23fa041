"""Choosing the device (CPU or one GPU) a model runs on: one rule for training, archives,
predictors, the web demo and the commands."""
import logging
from typing import Optional

import torch

from allencv_lite.common.checks import ConfigurationError

logger = logging.getLogger(__name__)


def select_device(cuda_device: Optional[int], setting: str = "cuda_device") -> torch.device:
    """The device ``cuda_device`` names, as AllenNLP's ``cuda_device`` does.

    ``None``: GPU 0 if CUDA is available, else the CPU. ``-1`` (any negative number): the CPU.
    ``N``: GPU N; on a machine without CUDA, the CPU with a warning, so that a config written
    for a GPU still runs on a laptop.

    Args:
        setting: the config key or option that gave ``cuda_device`` (``trainer.cuda_device``,
            ``--cuda-device``), named in the warning and the error.

    Raises:
        ConfigurationError: GPU ``N`` does not exist on a machine that has CUDA; the message
            says how many GPUs there are.
    """
    if cuda_device is None:
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if cuda_device < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        logger.warning("%s=%d but CUDA is not available; using the CPU.", setting, cuda_device)
        return torch.device("cpu")
    if cuda_device >= torch.cuda.device_count():
        raise ConfigurationError(f"{setting}={cuda_device}, but this machine has {torch.cuda.device_count()} "
                                 "GPU(s), numbered from 0; use -1 for the CPU.")
    return torch.device(f"cuda:{cuda_device}")
