"""Build objects from config blocks by reading their constructors' signatures.

This is AllenNLP's ``FromParams`` idea: a constructor's type-annotated signature *is* the
config schema. For ``BasicImageClassifier(vocab, im2vec_encoder: Im2VecEncoder, ...)`` the
block ``{"type": "basic_image_classifier", "im2vec_encoder": {"type": "flatten", ...}}`` is
turned into objects recursively; every error names the key path at fault.

A constructor names only its own argument when it refuses a value (``batch_size: must be at
least 1, got 0``); :func:`construct_from_signature` puts the block's path in front, so the user
reads ``data_loader.batch_size: must be at least 1, got 0`` whatever the block is called.
"""
import collections.abc
import inspect
import re
import types
import typing
from typing import Any, Collection, Dict, Mapping, Type, TypeVar, Union

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.text import close_names
from allencv_lite.common.lazy import Lazy
from allencv_lite.common.registrable import Registrable

T = TypeVar("T", bound="FromParams")

_BOOLEAN_STRINGS = {"true": True, "false": False}


def _key(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


# A message that starts with a key (``batch_size: ...``, ``augmentation[0]: ...``) rather than a sentence.
_STARTS_WITH_KEY = re.compile(r"^[A-Za-z_]\w*[.\[:]")


def with_key_path(path: str, message: str) -> str:
    """``message`` as seen from the block at ``path``: ``("data_loader", "batch_size: must be
    at least 1")`` -> ``"data_loader.batch_size: must be at least 1"``; a message that names no
    key gets ``"data_loader: "`` in front; one that already starts with ``path`` is kept."""
    if not path or message.startswith((f"{path}.", f"{path}[", f"{path}:")):
        return message
    return f"{path}.{message}" if _STARTS_WITH_KEY.match(message) else f"{path}: {message}"


def check_known_keys(given: Collection[str], accepted: Collection[str], path: str, owner: str) -> None:
    """The one unknown-key check: raise unless every key of ``given`` is in ``accepted``.

    Raises:
        ConfigurationError: ``<path>: unexpected key(s) ['limt'] for <owner>. Did you mean
            'limit'? Accepted keys: [...]`` (the suggestion from :func:`~allencv_lite.common.text.close_names`, when one is close).
    """
    unexpected = sorted(set(given) - set(accepted))
    if unexpected:
        close = close_names(unexpected[0], accepted, n=1)
        suggestion = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigurationError(f"{path or 'config'}: unexpected key(s) {unexpected} for {owner}.{suggestion} "
                                 f"Accepted keys: {list(accepted)}.")


def config_parameters(constructor: Any, extras: Collection[str] = ()) -> Dict[str, inspect.Parameter]:
    """The parameters of ``constructor`` a config block may set: its named arguments, less
    ``self`` and the ``extras`` (objects the code passes, such as ``vocab``), in order."""
    signature = inspect.signature(constructor)
    return {name: parameter for name, parameter in signature.parameters.items()
            if name != "self" and name not in extras
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)}


def defaults_of(function: Any) -> Dict[str, Any]:
    """``{argument: default}`` for the arguments of ``function`` that have one, so that a
    second signature (a ``from_partial_objects``) can reuse the defaults instead of repeating them."""
    return {name: parameter.default for name, parameter in inspect.signature(function).parameters.items()
            if parameter.default is not parameter.empty}


def construct_arg(annotation: Any, value: Any, path: str, extras: Mapping[str, Any]) -> Any:
    """Turn the config ``value`` found at key ``path`` into an object of type ``annotation``.

    Handles ``FromParams`` classes (recursively), ``Lazy[X]`` (the block's ``type`` is checked
    now, the object built at ``construct``), ``Optional``/``Union``, ``List``, ``Tuple``,
    ``Dict`` and the JSON scalars (an ``int`` is accepted for a ``float``, and the
    strings ``"true"``/``"false"`` for a ``bool``, as AllenNLP does).

    Raises:
        ConfigurationError: the value does not fit the annotation; the message names ``path``.
    """
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)

    if origin in (Union, types.UnionType):  # Optional[X], Union[X, Y], X | Y
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (arg for arg in args if arg is not type(None)):
            if _never_in_a_config(option) and not isinstance(value, option):
                continue  # e.g. torch's lr: Union[float, Tensor]; only Python code passes a Tensor
            try:
                return construct_arg(option, value, path, extras)
            except ConfigurationError as error:
                errors.append(str(error))
        raise ConfigurationError(errors[0] if len(errors) == 1 else
                                 f"{path}: {value!r} fits none of {_type_name(annotation)}")

    if origin is Lazy:
        lazy_type = args[0]
        if isinstance(value, Lazy):
            return value
        if isinstance(value, lazy_type):
            return Lazy.of(value)
        if isinstance(value, str) and issubclass(lazy_type, Registrable):
            value = {"type": value}
        if not isinstance(value, dict):
            raise ConfigurationError(f"{path}: expected a config block for {lazy_type.__name__}, got {value!r}")
        if issubclass(lazy_type, Registrable):
            lazy_type.resolve(value, path)  # an unknown type is a config error now, not when it is built
        return Lazy(lazy_type, value, path, **extras)

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


def _never_in_a_config(annotation: Any) -> bool:
    """Whether ``annotation`` is a class that no JSON value is turned into (not a JSON type, not
    ``FromParams``), such as ``torch.Tensor``: only objects passed from Python can be one."""
    return (inspect.isclass(annotation) and annotation not in (bool, int, float, str, list, dict, tuple)
            and not issubclass(annotation, FromParams) and typing.get_origin(annotation) is None)


def construct_from_signature(constructor: Any, params: Dict[str, Any], path: str,
                             extras: Mapping[str, Any]) -> Any:
    """Call ``constructor`` with the keys of ``params`` matched to its signature.

    ``extras`` are objects that cannot come from a config (the vocabulary, the model's
    parameters); each is passed to any constructor that names it as an argument, and is not
    a key a config may set. A ``ConfigurationError`` or ``ValueError`` the constructor raises
    about its own argument gets ``path`` in front (:func:`with_key_path`).

    Raises:
        ConfigurationError: a required key is missing, a key is not an argument of the
            constructor, a value has the wrong type, or the constructor refused a value.
    """
    params = dict(params)
    target = constructor.__init__ if inspect.isclass(constructor) else constructor
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # annotations that cannot be resolved are used as written
        hints = {}
    name_of = getattr(constructor, "__qualname__", str(constructor))
    accepted = config_parameters(constructor, extras)
    accepts_var_kwargs = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(constructor).parameters.values())
    if not accepts_var_kwargs:
        check_known_keys(params, accepted, path, name_of)
    kwargs: Dict[str, Any] = {}
    for name, parameter in inspect.signature(constructor).parameters.items():
        if name in extras:
            kwargs[name] = extras[name]
        elif name in params:
            annotation = hints.get(name, parameter.annotation)
            kwargs[name] = construct_arg(annotation, params.pop(name), _key(path, name), extras)
        elif name in accepted and parameter.default is parameter.empty:
            raise ConfigurationError(f"{_key(path, name)}: missing required key for {name_of}.")
    kwargs.update(params)  # only left over when the constructor takes **kwargs
    try:
        return constructor(**kwargs)
    except (ConfigurationError, ValueError) as error:
        raise ConfigurationError(with_key_path(path, str(error))) from None


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
        else:
            params.pop("type", None)  # a concrete class named directly needs no type
        return construct_from_signature(constructor, params, path, extras)
