"""``Lazy[T]``: a config block whose object is built later (AllenNLP's ``common/lazy.py``).

Some objects cannot be built when their config block is read, because an argument they need
exists only later: an optimizer needs the model's parameters, a learning-rate scheduler needs
the optimizer, a callback the serialization folder. A constructor asks for such a block as
``Lazy[Optimizer]``; the config block is checked for its ``type`` then, and
``lazy.construct(model_parameters=...)`` builds it once the missing arguments exist::

    @classmethod
    def from_partial_objects(cls, model: Model, optimizer: Lazy[Optimizer] = Lazy(Optimizer)) -> "Trainer":
        return cls(model, optimizer.construct(model_parameters=list(model.named_parameters())))

Errors raised while building name the block's key path (``trainer.optimizer.lr: ...``), as if it
had been built at once.

"Lazy" in this package means this one thing, done at first need and not before: a ``Lazy[T]``
block is built once its missing arguments exist; a package's names
(:func:`~allencv_lite.common.lazy_exports.lazy_exports`) and a registered implementation
(:meth:`~allencv_lite.common.registrable.Registrable.register_lazily`) are imported when first named.
"""
import copy
import inspect
from typing import Any, Callable, Dict, Generic, Optional, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A recipe for a ``T``: a constructor and the config block (or objects) it will get.

    Args:
        constructor: a ``FromParams`` class, built with ``constructor.from_params(params, path,
            **arguments)``; or any callable, called with the arguments alone.
        params: the config block (a plain dict, copied at each :meth:`construct`); ``None`` for
            an empty block.
        path: the block's key path in the whole config, for error messages.
        arguments: objects known already, given to :meth:`construct`'s constructor by name
            (the vocabulary, ...); those given to :meth:`construct` itself win.
    """

    def __init__(self, constructor: Callable[..., T], params: Optional[Dict[str, Any]] = None, path: str = "",
                 **arguments: Any) -> None:
        self._constructor = constructor
        self._params = params
        self._path = path
        self._arguments = arguments

    @classmethod
    def of(cls, built: T) -> "Lazy[T]":
        """A ``Lazy`` that gives back an object built already (a notebook's callback, say),
        whatever :meth:`construct` is told."""
        return cls(lambda **_: built)

    def construct(self, **arguments: Any) -> T:
        """Build the object, giving the constructor ``arguments`` (only those it names, for a
        ``FromParams`` class).

        Raises:
            ConfigurationError: the block does not fit the constructor; the message names the key path.
        """
        arguments = {**self._arguments, **arguments}
        if inspect.isclass(self._constructor) and hasattr(self._constructor, "from_params"):
            return self._constructor.from_params(copy.deepcopy(self._params or {}), self._path, **arguments)
        return self._constructor(**arguments)

    def __repr__(self) -> str:
        name = getattr(self._constructor, "__name__", repr(self._constructor))
        return f"Lazy({name}, {self._params!r}, path={self._path!r})"
