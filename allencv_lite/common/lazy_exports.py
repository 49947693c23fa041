"""Package names imported on first use, so that importing a package costs nothing until used.

A package's ``__init__`` lists what it exports and the module each name lives in::

    __getattr__, __dir__ = lazy_exports(__name__, {"Vocabulary": "allencv_lite.data.vocabulary"})

``from allencv_lite.data import Vocabulary`` then imports ``allencv_lite.data.vocabulary`` (and
only it) at that moment (module ``__getattr__``, PEP 562). This keeps ``allencv-lite --help``
free of torch, timm, albumentations, torchmetrics and Flask.
"""
import importlib
from typing import Any, Callable, List, Mapping, Tuple


def lazy_exports(package: str, exports: Mapping[str, str]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, resolving each name of ``exports``
    (name -> the module that defines it) by importing that module on first access.

    Raises (from the returned ``__getattr__``):
        AttributeError: a name that is neither exported nor a sub-module of ``package``.
    """
    def __getattr__(name: str) -> Any:
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{package}.{name}":
                raise
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> List[str]:
        return sorted(exports)

    return __getattr__, __dir__
