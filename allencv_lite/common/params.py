"""The one config loader: JSON or Jsonnet files, environment variables, overrides."""
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from allencv_lite.common.checks import ConfigurationError


def evaluate_jsonnet(source: str, filename: str, ext_vars: Mapping[str, str]) -> Dict[str, Any]:
    """Evaluate Jsonnet (a superset of JSON) with the `jsonnet` package.

    Raises:
        ConfigurationError: syntax error (with file and line), undefined ``std.extVar``.
    """
    import _jsonnet

    try:
        text = _jsonnet.evaluate_snippet(filename, source, ext_vars=dict(ext_vars))
    except RuntimeError as error:
        message = str(error).strip()
        hint = ""
        match = re.search(r"undefined external variable:\s*(\w+)", message, re.IGNORECASE)
        if match:
            variable = match.group(1)
            hint = (f"\nSet it in the environment, e.g. `{variable}=/path/to/data "
                    f"allencv-lite train {filename} -s DIR`.")
        raise ConfigurationError(f"Could not evaluate config {filename}:\n{message}{hint}") from None
    return json.loads(text)


def merge_overrides(config: Dict[str, Any], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    """Deep-merge ``overrides`` into ``config``: nested objects merge, anything else replaces.

    Dotted keys are expanded first, so ``{"trainer.num_epochs": 1}`` and
    ``{"trainer": {"num_epochs": 1}}`` mean the same (as AllenNLP's ``-o``).
    """
    merged = dict(config)
    for key, value in overrides.items():
        head, _, rest = key.partition(".")
        if rest:
            value = {rest: value}
        if isinstance(value, dict) and isinstance(merged.get(head), dict):
            merged[head] = merge_overrides(merged[head], value)
        else:
            merged[head] = value
    return merged


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
    path = Path(config_file)
    if not path.is_file():
        raise ConfigurationError(f"Config file {path} does not exist.")
    variables = {**os.environ, **(ext_vars or {})}
    config = evaluate_jsonnet(path.read_text(encoding="utf-8"), str(path), variables)
    if not isinstance(config, dict):
        raise ConfigurationError(f"Config {path} must evaluate to a JSON object, got {type(config).__name__}.")
    if overrides:
        if isinstance(overrides, str):
            overrides = evaluate_jsonnet(overrides, "<overrides>", variables)
        config = merge_overrides(config, overrides)
    return config
