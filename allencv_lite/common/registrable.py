"""One registry mechanism for every configurable base class (AllenNLP's ``Registrable``).

A base class such as ``Im2ImEncoder`` keeps a table of named implementations::

    @Im2ImEncoder.register("flatten")
    class FlattenEncoder(Im2VecEncoder): ...

and a config selects one with ``{"type": "flatten", ...}``.
"""
import difflib
from collections import defaultdict
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type, TypeVar

from allencv_lite.common.checks import ConfigurationError

T = TypeVar("T")

# An unknown name gets the whole list when it is this short, else the closest few names
# and the call that lists them all (Augmentation alone registers over a hundred).
CHOICES_LISTED_IN_FULL = 12
CLOSE_NAMES_SHOWN = 4


class Registrable:
    """Mixin that gives a base class a registry of named subclasses (or factories).

    Class attribute ``default_implementation`` names the entry used when a config block
    has no ``"type"`` key.
    """

    _registry: ClassVar[Dict[type, Dict[str, Callable]]] = defaultdict(dict)
    default_implementation: ClassVar[Optional[str]] = None

    @classmethod
    def register(cls, name: str, exist_ok: bool = False) -> Callable[[T], T]:
        """Decorator that registers a subclass (or any callable returning one) under ``name``.

        Raises:
            ConfigurationError: ``name`` is already taken for this base class and
                ``exist_ok`` is false.
        """
        registry = Registrable._registry[cls]

        def add_to_registry(subclass: T) -> T:
            if name in registry and not exist_ok and registry[name] is not subclass:
                raise ConfigurationError(
                    f"Cannot register {subclass!r} as {cls.__name__} '{name}': "
                    f"the name is already used by {registry[name]!r}."
                )
            registry[name] = subclass
            return subclass

        return add_to_registry

    @classmethod
    def by_name(cls: Type[T], name: str) -> Callable[..., T]:
        """The implementation registered as ``name``.

        Raises:
            ConfigurationError: nothing is registered under ``name``; the message lists the
                registered choices, or for a long registry the closest names and the
                :meth:`list_available` call that gives them all.
        """
        registry = Registrable._registry[cls]
        if name not in registry:
            close = difflib.get_close_matches(str(name), list(registry), n=CLOSE_NAMES_SHOWN)
            suggestion = f" Did you mean '{close[0]}'?" if close else ""
            if len(registry) <= CHOICES_LISTED_IN_FULL:
                choices = f" Registered choices: {', '.join(sorted(registry)) or '(none registered)'}."
            else:
                others = f" Other close names: {', '.join(close[1:])}." if len(close) > 1 else ""
                choices = (f"{others} All {len(registry)} names: "
                           f"{cls.__module__}.{cls.__name__}.list_available().")
            raise ConfigurationError(
                f"'{name}' is not a registered {cls.__name__}.{suggestion}{choices} "
                "If it lives in your own package, pass --include-package to import it."
            )
        return registry[name]

    @classmethod
    def resolve(cls, params: Dict[str, Any], path: str) -> Tuple[Callable[..., Any], Dict[str, Any]]:
        """Split a config block into the implementation its ``"type"`` names and its other keys.

        A block without ``"type"`` uses ``default_implementation``.

        Raises:
            ConfigurationError: no ``"type"`` and no default, or an unregistered name; the
                message names ``<path>.type`` and the registered choices.
        """
        params = dict(params)
        name = params.pop("type", cls.default_implementation)
        type_path = f"{path}.type" if path else "type"
        if name is None:
            raise ConfigurationError(f"{type_path}: missing; choose one of {cls.list_available()}.")
        try:
            return cls.by_name(name), params
        except ConfigurationError as error:
            raise ConfigurationError(f"{type_path}: {error}") from None

    @classmethod
    def list_available(cls) -> List[str]:
        """The registered names for this base class, sorted."""
        return sorted(Registrable._registry[cls])
