"""Optimizers by name: every ``torch.optim`` optimizer, configured from a block such as
``{"type": "adam", "lr": 1e-3}``."""
import inspect
from typing import Any, Dict, List, Optional, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams, construct_from_signature
from allencv_lite.common.registrable import Registrable

NamedParameters = List[Tuple[str, torch.nn.Parameter]]


class Optimizer(Registrable, FromParams):
    """Registry of ``torch.optim`` optimizers under their lower-case names (``adam``,
    ``adamw``, ``sgd``, ``rmsprop``, …); ``from_params`` returns a ``torch.optim.Optimizer``."""

    default_implementation = "adam"

    @classmethod
    def from_params(cls, params: Dict[str, Any], path: str = "", model_parameters: Optional[NamedParameters] = None,
                    **extras: Any) -> torch.optim.Optimizer:
        """Build the optimizer over the trainable parameters in ``model_parameters``.

        Args:
            params: the ``optimizer`` block; keys other than ``type`` are the torch
                optimizer's arguments (``lr``, ``weight_decay``, ``betas``, ``momentum``…).
            path: key path of the block, for error messages.
            model_parameters: ``model.named_parameters()`` as a list.

        Raises:
            ConfigurationError: unknown type, unknown argument, wrong value type,
                ``parameter_groups`` (not supported yet).
        """
        params = dict(params)
        name = params.pop("type", cls.default_implementation)
        try:
            optimizer_class = cls.by_name(name)
        except ConfigurationError as error:
            raise ConfigurationError(f"{path}.type: {error}") from None
        if "parameter_groups" in params:
            raise ConfigurationError(f"{path}.parameter_groups: parameter groups are not supported yet; "
                                     "remove the key to train all parameters with one learning rate.")
        trainable = [parameter for _, parameter in model_parameters or [] if parameter.requires_grad]
        if not trainable:
            raise ConfigurationError(f"{path}: the model has no trainable parameters (all have requires_grad=false).")
        return construct_from_signature(optimizer_class, params, path, {"params": trainable})


def _register_torch_optimizers() -> None:
    for class_name, optimizer_class in vars(torch.optim).items():
        if inspect.isclass(optimizer_class) and issubclass(optimizer_class, torch.optim.Optimizer) \
                and optimizer_class is not torch.optim.Optimizer:
            Optimizer.register(class_name.lower(), exist_ok=True)(optimizer_class)


_register_torch_optimizers()
