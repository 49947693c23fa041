"""Which parameters train: those ``no_grad`` freezes for the whole run, and the parameter groups
a learning-rate schedule unfreezes epoch by epoch (ULMFiT's gradual unfreezing, see
:class:`~allencv_lite.training.learning_rate_schedulers.SlantedTriangular`). Freezing and
scheduling stay separate ideas (fastai's ``fine_tune``): the scheduler says which groups train,
the trainer applies it with :func:`set_trainable_groups`.
"""
import re
from typing import List, Sequence

import torch

from allencv_lite.common.checks import ConfigurationError


def freeze_parameters(model: torch.nn.Module, regexes: List[str], path: str = "no_grad") -> None:
    """Set ``requires_grad`` false on every parameter of ``model`` whose name one of ``regexes``
    ``re.search``-es.

    Raises:
        ConfigurationError: ``regexes`` is not a list of valid regexes, or one matches no parameter.
    """
    if not isinstance(regexes, list) or not all(isinstance(regex, str) for regex in regexes):
        raise ConfigurationError(f"{path}: expected a list of regexes over parameter names, got {regexes!r}.")
    names = [name for name, _ in model.named_parameters()]
    for index, regex in enumerate(regexes):
        try:
            matched = [name for name in names if re.search(regex, name)]
        except re.error as error:
            raise ConfigurationError(f"{path}[{index}]: '{regex}' is not a valid regular expression ({error}).") from None
        if not matched:
            raise ConfigurationError(f"{path}[{index}]: '{regex}' matches no parameter; names look like '{names[0]}'.")
    for name, parameter in model.named_parameters():
        if any(re.search(regex, name) for regex in regexes):
            parameter.requires_grad_(False)


def set_trainable_groups(optimizer: torch.optim.Optimizer, trainable: Sequence[bool]) -> None:
    """Set ``requires_grad`` of every parameter in ``optimizer.param_groups[i]`` to
    ``trainable[i]``: the freezing a scheduler's ``trainable_groups`` requests. Parameters in
    no group (those ``no_grad`` froze) stay frozen."""
    for group, group_trains in zip(optimizer.param_groups, trainable):
        for parameter in group["params"]:
            parameter.requires_grad_(group_trains)


def describe_trainable_groups(epoch: int, trainable: Sequence[bool]) -> str:
    """``Gradual unfreezing: epoch 2 trains groups [0, 1].`` for 0-based ``epoch`` 1 (people
    count epochs from 1)."""
    return (f"Gradual unfreezing: epoch {epoch + 1} trains groups "
            f"{[index for index, group_trains in enumerate(trainable) if group_trains]}.")
