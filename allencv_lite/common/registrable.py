"""One registry mechanism for every configurable base class (AllenNLP's ``Registrable``).

A base class such as ``Im2VecEncoder`` keeps a table of named implementations::

    @Im2VecEncoder.register("flatten")
    class FlattenEncoder(Im2VecEncoder): ...

and a config selects one with ``{"type": "flatten", ...}``.

Built-in implementations are found lazily: the base class names the module of each one
(``Im2ImEncoder.register_lazily("timm", "allencv_lite.modules.im2im_encoders.timm_encoder")``),
and that module is imported, running its ``@register``, the first time a config asks for the
name. So a CNN config never imports timm, and every name is still listed, with "did you
mean", when a config misspells one.
"""
import importlib
from collections import defaultdict
from typing import Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type, TypeVar

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.text import close_names

T = TypeVar("T")

# An unknown name gets the whole list when it is this short, else the closest few names
# and the call that lists them all (Augmentation alone registers over a hundred).
CHOICES_LISTED_IN_FULL = 12
CLOSE_NAMES_SHOWN = 4


class Registrable:
    """Mixin that gives a base class a registry of named subclasses (or factories: any callable
    whose typed signature is the block's schema, such as ``Trainer.from_partial_objects``).

    Class attribute ``default_implementation`` names the entry used when a config block
    has no ``"type"`` key.
    """

    _registry: ClassVar[Dict[type, Dict[str, Callable]]] = defaultdict(dict)
    _lazy_modules: ClassVar[Dict[type, Dict[str, str]]] = defaultdict(dict)  # name -> module that registers it
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
    def register_lazily(cls, name: str, module: str) -> None:
        """Declare that importing ``module`` registers ``name`` for this base class; the module
        is imported on the first :meth:`by_name` of ``name``, and ``name`` is listed by
        :meth:`list_available` before that."""
        Registrable._lazy_modules[cls][name] = module

    @classmethod
    def by_name(cls: Type[T], name: str) -> Callable[..., T]:
        """The implementation registered as ``name``, importing its module first if it was
        declared with :meth:`register_lazily`.

        Raises:
            ConfigurationError: nothing is registered or declared under ``name``; the message
                lists the registered choices, or for a long registry the closest names and the
                :meth:`list_available` call that gives them all.
            RuntimeError: the module declared for ``name`` did not register it (a bug).
        """
        registry = Registrable._registry[cls]
        module = Registrable._lazy_modules[cls].get(name) if isinstance(name, str) else None
        if name not in registry and module is not None:
            importlib.import_module(module)
            if name not in registry:
                raise RuntimeError(f"{module} was declared to register {cls.__name__} '{name}' but did not.")
        if name not in registry:
            available = cls.list_available()
            close = close_names(str(name), available, n=CLOSE_NAMES_SHOWN)
            suggestion = f" Did you mean '{close[0]}'?" if close else ""
            if len(available) <= CHOICES_LISTED_IN_FULL:
                choices = f" Registered choices: {', '.join(available) or '(none registered)'}."
            else:
                others = f" Other close names: {', '.join(close[1:])}." if len(close) > 1 else ""
                choices = (f"{others} All {len(available)} names: "
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
        """The registered names for this base class (imported or not yet), sorted."""
        return sorted(set(Registrable._registry[cls]) | set(Registrable._lazy_modules[cls]))
