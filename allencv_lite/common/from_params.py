"""Build objects from config blocks by reading their constructors' signatures.

This is AllenNLP's ``FromParams`` idea: a constructor's type-annotated signature *is* the
config schema. For ``BasicImageClassifier(vocab, im2vec_encoder: Im2VecEncoder, ...)`` the
block ``{"type": "basic_image_classifier", "im2vec_encoder": {"type": "flatten", ...}}`` is
turned into objects recursively; every error names the key path at fault.
"""
import collections.abc
import difflib
import inspect
import typing
from typing import Any, Dict, Mapping, Type, TypeVar, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.registrable import Registrable

T = TypeVar("T", bound="FromParams")

_BOOLEAN_STRINGS = {"true": True, "false": False}


def _key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def construct_arg(annotation: Any, value: Any, path: str, extras: Mapping[str, Any]) -> Any:
    """Turn the config ``value`` found at key ``path`` into an object of type ``annotation``.

    Handles ``FromParams`` classes (recursively), ``Optional``/``Union``, ``List``,
    ``Tuple``, ``Dict`` and the JSON scalars (an ``int`` is accepted for a ``float``, and the
    strings ``"true"``/``"false"`` for a ``bool``, as AllenNLP does).

    Raises:
        ConfigurationError: the value does not fit the annotation; the message names ``path``.
    """
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)

    if origin is Union:
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (arg for arg in args if arg is not type(None)):
            try:
                return construct_arg(option, value, path, extras)
            except ConfigurationError as error:
                errors.append(str(error))
        raise ConfigurationError(errors[0] if len(errors) == 1 else
                                 f"{path}: {value!r} fits none of {_type_name(annotation)}")

    if inspect.isclass(annotation) and issubclass(annotation, FromParams):
        if isinstance(value, annotation):
            return value
        if isinstance(value, str) and issubclass(annotation, Registrable):
            value = {"type": value}
        if not isinstance(value, dict):
            raise ConfigurationError(
                f"{path}: expected a config block for {annotation.__name__}, got {value!r}"
            )
        return annotation.from_params(value, path, **extras)

    if origin in (list, collections.abc.Sequence, collections.abc.Iterable, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigurationError(f"{path}: expected a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigurationError(f"{path}: expected {len(args)} items, got {value!r}")
            return tuple(construct_arg(a, v, f"{path}[{i}]", extras)
                         for i, (a, v) in enumerate(zip(args, value)))
        item_type = args[0] if args else Any
        items = [construct_arg(item_type, v, f"{path}[{i}]", extras) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items

    if origin in (dict, collections.abc.Mapping):
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path}: expected an object, got {value!r}")
        value_type = args[1] if args else Any
        return {k: construct_arg(value_type, v, _key(path, k), extras) for k, v in value.items()}

    if annotation is bool:
        if isinstance(value, str) and value.lower() in _BOOLEAN_STRINGS:
            return _BOOLEAN_STRINGS[value.lower()]
        if not isinstance(value, bool):
            raise ConfigurationError(f"{path}: expected true or false, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"{path}: expected an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigurationError(f"{path}: expected a string, got {value!r}")
        return value
    return value


def construct_from_signature(constructor: Any, params: Dict[str, Any], path: str,
                             extras: Mapping[str, Any]) -> Any:
    """Call ``constructor`` with the keys of ``params`` matched to its signature.

    ``extras`` are objects that cannot come from a config (the vocabulary, the model's
    parameters); each is passed to any constructor that names it as an argument.

    Raises:
        ConfigurationError: a required key is missing, a key is not an argument of the
            constructor, or a value has the wrong type.
    """
    params = dict(params)
    target = constructor.__init__ if inspect.isclass(constructor) else constructor
    signature = inspect.signature(target)
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # annotations that cannot be resolved are used as written
        hints = {}
    name_of = getattr(constructor, "__name__", str(constructor))
    accepted = [n for n, p in signature.parameters.items()
                if n != "self" and n not in extras and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    accepts_var_kwargs = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
    unexpected = sorted(set(params) - set(accepted))
    if unexpected and not accepts_var_kwargs:
        close = difflib.get_close_matches(unexpected[0], accepted, n=1)
        suggestion = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigurationError(f"{path or 'config'}: unexpected key(s) {unexpected} for {name_of}.{suggestion} "
                                 f"Accepted keys: {accepted}.")
    kwargs: Dict[str, Any] = {}
    for name, parameter in signature.parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in extras and name not in params:
            kwargs[name] = extras[name]
        elif name in params:
            annotation = hints.get(name, parameter.annotation)
            kwargs[name] = construct_arg(annotation, params.pop(name), _key(path, name), extras)
        elif parameter.default is parameter.empty:
            raise ConfigurationError(f"{_key(path, name)}: missing required key for {name_of}.")
    kwargs.update(params)  # only left over when the constructor takes **kwargs
    return constructor(**kwargs)


class FromParams:
    """Mixin: ``cls.from_params(config_block)`` builds an instance from a config block."""

    @classmethod
    def from_params(cls: Type[T], params: Dict[str, Any], path: str = "", **extras: Any) -> T:
        """Build an instance of ``cls`` (or of the registered subclass named by ``"type"``).

        Args:
            params: the config block, a plain dict as loaded from JSON/Jsonnet.
            path: the key path of this block in the whole config, used in error messages.
            **extras: objects passed to constructors that ask for them by name.

        Raises:
            ConfigurationError: unknown ``type``, missing or unexpected key, wrong value type.
        """
        params = dict(params)
        constructor: Any = cls
        if issubclass(cls, Registrable) and cls.list_available():
            constructor, params = cls.resolve(params, path)
            own_from_params = getattr(constructor, "from_params", None)
            if own_from_params is not None and own_from_params.__func__ is not FromParams.from_params.__func__:
                return own_from_params(params, path, **extras)
        else:
            params.pop("type", None)  # a concrete class named directly needs no type
        return construct_from_signature(constructor, params, path, extras)
