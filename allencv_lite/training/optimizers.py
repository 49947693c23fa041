"""Optimizers by name: every ``torch.optim`` optimizer, configured from a block such as
``{"type": "adam", "lr": 1e-3}``, with AllenNLP's ``parameter_groups``.

``parameter_groups`` gives parts of the model their own options (learning rate, weight
decay…)::

    "parameter_groups": [
        [["^_im2im_encoder\\\\.model\\\\.(0|1)"], {"initial_lr": 1e-5}],   // group 0: the stem
        [["^_classification_layer"]]                                   // group 1: the head
    ]

Each entry is ``[[regex, ...], {options}]`` (the options may be left out). A parameter
joins the group one of whose regexes ``re.search``-es its name (``model.named_parameters()``,
e.g. ``_im2im_encoder.model.4.0.conv1.weight``). Parameters that match no group form one
more, last, *default* group with the optimizer's own options. The order of the groups is the
order of the list: learning-rate schedulers that treat groups as layers
(``slanted_triangular``) take the first group as the bottom of the network and the last as
the top.
"""
import inspect
import logging
import re
import typing
from collections import defaultdict
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams, check_known_keys, construct_arg
from allencv_lite.common.registrable import Registrable
from allencv_lite.common.text import format_learning_rate, plural

logger = logging.getLogger(__name__)

NamedParameters = List[Tuple[str, torch.nn.Parameter]]

# Keys this package adds to each ``optimizer.param_groups[i]`` (torch keeps extra keys).
REGEXES_KEY = "regexes"  # the group's regexes; [] for the default group
NAMES_KEY = "parameter_names"  # names of the group's parameters, in model order
# Options a group may set besides the optimizer's own arguments: the base learning rate of a
# learning-rate scheduler (torch's ``LRScheduler`` and AllenNLP read ``initial_lr``).
EXTRA_GROUP_OPTIONS: Dict[str, Any] = {"initial_lr": float}


def is_default_group(group: Dict[str, Any]) -> bool:
    """Whether ``group`` (an entry of ``optimizer.param_groups``) holds the parameters that
    matched no regex of ``parameter_groups``."""
    return not group.get(REGEXES_KEY)


def unmatched_parameters_by_module(names: Sequence[str]) -> str:
    """``["a.b.weight", "a.b.bias", "c.weight"]`` -> ``"a.b (weight, bias); c (weight)"``:
    parameter names grouped by the module that owns them, for error messages."""
    by_module: Dict[str, List[str]] = defaultdict(list)
    for name in names:
        module, _, attribute = name.rpartition(".")
        by_module[module or "(model)"].append(attribute)
    return "; ".join(f"{module} ({', '.join(attributes)})" for module, attributes in by_module.items())


def _parse_group_spec(spec: Any, path: str) -> Tuple[List[str], Dict[str, Any]]:
    if (not isinstance(spec, (list, tuple)) or not 1 <= len(spec) <= 2 or not isinstance(spec[0], (list, tuple))
            or not spec[0] or not all(isinstance(regex, str) for regex in spec[0])
            or (len(spec) == 2 and not isinstance(spec[1], dict))):
        raise ConfigurationError(f"{path}: expected [[\"regex\", ...], {{options}}] or [[\"regex\", ...]], "
                                 f"got {spec!r}.")
    for index, regex in enumerate(spec[0]):
        try:
            re.compile(regex)
        except re.error as error:
            raise ConfigurationError(f"{path}[0][{index}]: '{regex}' is not a valid regular expression ({error}); "
                                     "in Jsonnet a literal dot is written \"\\\\.\".") from None
    return list(spec[0]), dict(spec[1]) if len(spec) == 2 else {}


def make_parameter_groups(model_parameters: NamedParameters, parameter_groups: Optional[Sequence[Any]],
                          accepted_options: Mapping[str, Any], path: str = "parameter_groups"
                          ) -> List[Dict[str, Any]]:
    """Split the trainable parameters into torch ``param_groups`` as AllenNLP does.

    Args:
        model_parameters: ``list(model.named_parameters())``; frozen ones (``requires_grad``
            false) are left out of every group.
        parameter_groups: the config's ``[[regex, ...], {options}]`` entries, or ``None`` for
            one group of everything.
        accepted_options: the options a group may set (the optimizer's arguments), each name
            with its type annotation, which the group's value must fit.
        path: key path of ``parameter_groups`` within its block, for error messages (the
            block's own path is put in front when the optimizer is built from a config).

    Returns:
        One dict per config entry, in order (``params``, its options, ``regexes``,
        ``parameter_names``), then the default group of unmatched parameters if any.

    Raises:
        ConfigurationError: a malformed entry or regex; an option the optimizer does not take,
            or of the wrong type;
            a regex that matches no trainable parameter (the message names it); a parameter
            matched by two groups (the message names both).
    """
    trainable = [(name, parameter) for name, parameter in model_parameters if parameter.requires_grad]
    if not parameter_groups:
        return [{"params": [p for _, p in trainable], REGEXES_KEY: [], NAMES_KEY: [n for n, _ in trainable]}]
    specs = [_parse_group_spec(spec, f"{path}[{index}]") for index, spec in enumerate(parameter_groups)]
    annotations = {**accepted_options, **EXTRA_GROUP_OPTIONS}
    for index, (_, options) in enumerate(specs):
        options_path = f"{path}[{index}][1]"
        check_known_keys(options, annotations, options_path, "a parameter group")
        options.update({name: construct_arg(annotations[name], value, f"{options_path}.{name}", {})
                        for name, value in options.items()})
    group_of: Dict[str, int] = {}
    matched_regexes = set()
    for name, _ in trainable:
        for index, (regexes, _) in enumerate(specs):
            for regex in regexes:
                if re.search(regex, name):
                    matched_regexes.add(regex)
                    if name in group_of and group_of[name] != index:
                        raise ConfigurationError(
                            f"{path}: parameter '{name}' matches group {group_of[name]} {specs[group_of[name]][0]} "
                            f"and group {index} {regexes}; make the regexes exclusive (e.g. anchor them with ^ "
                            "and end them with \\\\.).")
                    group_of[name] = index
    for index, (regexes, _) in enumerate(specs):
        for regex in regexes:
            if regex not in matched_regexes:
                frozen = [name for name, parameter in model_parameters
                          if not parameter.requires_grad and re.search(regex, name)]
                hint = (f" It matches {len(frozen)} frozen parameter(s) (requires_grad false), e.g. '{frozen[0]}'."
                        if frozen else f" Trainable parameter names look like '{trainable[0][0]}'." if trainable else "")
                raise ConfigurationError(f"{path}[{index}]: regex '{regex}' matches no trainable parameter.{hint}")
    groups = [{**options, "params": [], REGEXES_KEY: regexes, NAMES_KEY: []} for regexes, options in specs]
    default_group: Dict[str, Any] = {"params": [], REGEXES_KEY: [], NAMES_KEY: []}
    for name, parameter in trainable:
        group = groups[group_of[name]] if name in group_of else default_group
        group["params"].append(parameter)
        group[NAMES_KEY].append(name)
    return groups + ([default_group] if default_group["params"] else [])


def describe_parameter_groups(optimizer: torch.optim.Optimizer) -> List[str]:
    """One line per group: index, regexes, number of parameter tensors and of weights, and
    the learning rate the group has now, in scientific notation (``lr 3.12e-07``). Once a
    learning-rate scheduler is built over the optimizer, that is the rate of the first step
    (a group's ``initial_lr`` is only the scheduler's peak, which discriminative fine-tuning
    lowers further for lower groups)."""
    lines = []
    for index, group in enumerate(optimizer.param_groups):
        regexes = group.get(REGEXES_KEY) or "(default group: parameters matching no regex)"
        weights = sum(parameter.numel() for parameter in group["params"])
        lines.append(f"group {index} {regexes}: {plural(len(group['params']), 'parameter tensor')}, {weights:,} "
                     f"weights, lr {format_learning_rate(group['lr'])}")
    return lines


class Optimizer(Registrable, FromParams):
    """Registry of ``torch.optim`` optimizers under their lower-case names (``adam``,
    ``adamw``, ``sgd``, ``rmsprop``, …); ``from_params`` returns a ``torch.optim.Optimizer``.

    Each name is a factory (:func:`optimizer_factory`) whose signature is the torch optimizer's,
    with ``params`` replaced by ``model_parameters`` (``list(model.named_parameters())``, passed
    by the code, not a config key) and ``parameter_groups`` added::

        Optimizer.from_params({"type": "sgd", "lr": 0.1}, "trainer.optimizer",
                              model_parameters=list(model.named_parameters()))
    """

    default_implementation = "adam"


def optimizer_factory(optimizer_class: type) -> Callable[..., torch.optim.Optimizer]:
    """A factory building ``optimizer_class`` over the trainable parameters of
    ``model_parameters``, split by ``parameter_groups`` (see :func:`make_parameter_groups`);
    its other arguments, with their annotations and defaults, are the torch optimizer's
    (``lr``, ``weight_decay``, ``betas``…).

    Raises (from the factory):
        ConfigurationError: no trainable parameter, or a bad ``parameter_groups``.
    """
    hints = typing.get_type_hints(optimizer_class.__init__)
    own = [parameter.replace(annotation=hints.get(name, parameter.annotation))
           for name, parameter in inspect.signature(optimizer_class).parameters.items() if name != "params"]

    def build(model_parameters: NamedParameters, parameter_groups: Optional[List[Any]] = None,
              **options: Any) -> torch.optim.Optimizer:
        if not any(parameter.requires_grad for _, parameter in model_parameters):
            raise ConfigurationError("the model has no trainable parameters (all have requires_grad=false).")
        groups = make_parameter_groups(list(model_parameters), parameter_groups,
                                       {parameter.name: parameter.annotation for parameter in own})
        return optimizer_class(groups, **options)

    extra = list(inspect.signature(build).parameters.values())[:2]
    build.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        extra + own)
    build.__name__ = build.__qualname__ = optimizer_class.__name__
    build.__doc__ = optimizer_class.__doc__
    return build


def _register_torch_optimizers() -> None:
    for class_name, optimizer_class in vars(torch.optim).items():
        if inspect.isclass(optimizer_class) and issubclass(optimizer_class, torch.optim.Optimizer) \
                and optimizer_class is not torch.optim.Optimizer:
            Optimizer.register(class_name.lower(), exist_ok=True)(optimizer_factory(optimizer_class))


_register_torch_optimizers()


def named_learning_rates(learning_rates: Sequence[float]) -> Dict[str, float]:
    """``[1e-4, 1e-3]`` -> ``{"lr_group_0": 1e-4, "lr_group_1": 1e-3}`` (one rate per parameter group)."""
    return {f"lr_group_{index}": rate for index, rate in enumerate(learning_rates)}
