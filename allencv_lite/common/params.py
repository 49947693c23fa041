"""The one config loader: JSON or Jsonnet files, environment variables, overrides."""
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from allencv_lite.common.checks import ConfigurationError


def evaluate_jsonnet(source: str, filename: str, ext_vars: Mapping[str, str]) -> Tuple[Any, Dict[str, str]]:
    """Evaluate Jsonnet (a superset of JSON) with the `jsonnet` package; returns the value and
    the external variables it read (name → value, in the order evaluation first read them), e.g. to
    repeat the command in another shell.

    Jsonnet has no hook that reports ``std.extVar`` calls, so the variables are offered on
    demand: evaluation starts with none and, each time it stops on an undefined one that
    ``ext_vars`` has, starts again with it added. That finds exactly the variables the
    evaluation needs, those read in imported files and those whose name is computed included
    (Jsonnet is lazy: a variable in a branch not taken is not read).

    Raises:
        ConfigurationError: syntax error (with file and line), a ``std.extVar`` that
            ``ext_vars`` lacks.
    """
    import _jsonnet

    used: Dict[str, str] = {}
    while True:
        try:
            text = _jsonnet.evaluate_snippet(filename, source, ext_vars=used)
            return json.loads(text), used
        except RuntimeError as error:
            message = str(error).strip()
            match = re.search(r"undefined external variable: ([^\n]+)", message, re.IGNORECASE)
            variable = match.group(1) if match else None
            if variable is not None and variable in ext_vars and variable not in used:
                used[variable] = ext_vars[variable]
                continue
            hint = ""
            if variable is not None:
                hint = (f"\nSet it in the environment, e.g. `{variable}=/path/to/data "
                        f"allencv-lite train {filename} -s DIR`.")
            raise ConfigurationError(f"Could not evaluate config {filename}:\n{message}{hint}") from None


def merge_overrides(config: Any, overrides: Mapping[str, Any], path: str = "") -> Any:
    """Deep-merge ``overrides`` into ``config``: nested objects merge, anything else replaces.

    Dotted keys are expanded first, so ``{"trainer.num_epochs": 1}`` and
    ``{"trainer": {"num_epochs": 1}}`` mean the same, and a number indexes a list, so
    ``{"dataset_reader.augmentation.0.height": 48}`` changes the first transform's height and
    keeps the list a list (as AllenNLP's ``-o``).

    Raises:
        ConfigurationError: a number that is not an index of the list it addresses, or a
            key that addresses inside a value that is neither an object nor a list; the
            message names the key path.
    """
    if isinstance(config, list):
        merged_list = list(config)
        for key, value in overrides.items():
            head, _, rest = key.partition(".")
            where = f"{path}.{head}" if path else head
            if not head.lstrip("-").isdigit() or not -len(config) <= int(head) < len(config):
                raise ConfigurationError(f"Override {where}: '{head}' is not an index of the list at "
                                         f"{path or 'the top level'}, which has {len(config)} entries "
                                         f"(0 to {len(config) - 1}).")
            index = int(head)
            merged_list[index] = _merge_value(merged_list[index], {rest: value} if rest else value, where)
        return merged_list
    merged = dict(config)
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        where = f"{path}.{head}" if path else head
        merged[head] = _merge_value(merged.get(head), {rest: value} if rest else value, where)
    return merged


def _merge_value(current: Any, value: Any, path: str) -> Any:
    """``value`` merged into ``current`` (an object or list merges, anything else is replaced)."""
    if isinstance(value, dict) and isinstance(current, (dict, list)):
        return merge_overrides(current, value, path)
    return value


def load_config_and_external_variables(config_file: Union[str, os.PathLike],
                                       overrides: Optional[Union[str, Mapping[str, Any]]] = None,
                                       ext_vars: Optional[Mapping[str, str]] = None
                                       ) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """:func:`load_config`, and the external variables the config and the overrides read
    (name → value, as :func:`evaluate_jsonnet` finds them): what another shell must set to
    load the same config, e.g. ``{"TRAIN_PATH": "data/train"}``."""
    path = Path(config_file)
    if not path.is_file():
        raise ConfigurationError(f"Config file {path} does not exist.")
    variables = {**os.environ, **(ext_vars or {})}
    config, used = evaluate_jsonnet(path.read_text(encoding="utf-8"), str(path), variables)
    if not isinstance(config, dict):
        raise ConfigurationError(f"Config {path} must evaluate to a JSON object, got {type(config).__name__}.")
    if overrides:
        if isinstance(overrides, str):
            overrides, used_by_overrides = evaluate_jsonnet(overrides, "<overrides>", variables)
            used = {**used, **used_by_overrides}
        config = merge_overrides(config, overrides)
    return config, used


def load_config(config_file: Union[str, os.PathLike],
                overrides: Optional[Union[str, Mapping[str, Any]]] = None,
                ext_vars: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Read a ``.json`` or ``.jsonnet`` experiment config into a plain dict.

    Every environment variable is visible to ``std.extVar`` (as in AllenNLP), so
    ``TRAIN_PATH=data/train allencv-lite train config.jsonnet`` works; ``ext_vars`` adds to
    or replaces them.

    Args:
        config_file: path of the config.
        overrides: a JSON/Jsonnet object (string or dict) deep-merged into the config.
        ext_vars: extra external variables.

    Raises:
        ConfigurationError: missing file, syntax error, undefined variable, or a config
            that is not a JSON object.
    """
    return load_config_and_external_variables(config_file, overrides, ext_vars)[0]
