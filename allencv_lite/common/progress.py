"""Progress bars (tqdm) that leave no frames behind, in a terminal, a log file or a notebook.

* In a terminal, a bar redraws one line and clears it when done; a log record written while a
  bar is on screen goes through ``tqdm.write`` (``tqdm.contrib.logging``), so it gets a line of
  its own instead of being glued onto the bar.
* When standard error is not a terminal (``allencv-lite train ... 2> train.log``, a pipe), no bar
  is drawn at all: a file would keep every frame. The trainer's log lines give the progress.
* In a Jupyter kernel, a bar is an ipywidgets bar shown under a display id whose text part is
  empty; when it closes, the display is replaced by an empty text, so the live bar disappears and
  a saved notebook stores no ``0%`` frame.
"""
from typing import Any, Iterable, Optional

from IPython.display import DisplayHandle, display
from tqdm.contrib.logging import logging_redirect_tqdm
from tqdm.notebook import tqdm as tqdm_notebook
from tqdm.std import tqdm as tqdm_terminal

# What replaces a finished notebook bar: an output with nothing to show.
EMPTY_OUTPUT = {"text/plain": ""}


def running_in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (where widgets can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class TerminalProgressBar(tqdm_terminal):
    """A terminal bar that clears itself (``leave=False``) and, while it is open, sends the
    root logger's console records through ``tqdm.write``. Drawn only when its stream (standard
    error) is a terminal (tqdm's ``disable=None``); ``disable=True`` turns it off everywhere."""

    def __init__(self, iterable: Optional[Iterable] = None, disable: Optional[bool] = None, **options: Any) -> None:
        self._logging_redirect = logging_redirect_tqdm(tqdm_class=tqdm_terminal)
        super().__init__(iterable, disable=None if not disable else True, leave=False, **options)
        if not self.disable:
            self._logging_redirect.__enter__()

    def close(self) -> None:
        if not self.disable:
            self._logging_redirect.__exit__(None, None, None)
        super().close()


class NotebookProgressBar(tqdm_notebook):
    """An ipywidgets bar shown under its own display id, with an empty text part, and replaced
    by an empty output when it closes (``leave=False``), finished or not."""

    def __init__(self, iterable: Optional[Iterable] = None, disable: Optional[bool] = None, **options: Any) -> None:
        super().__init__(iterable, disable=bool(disable), leave=False, display=False, **options)
        self._slot: Optional[DisplayHandle] = None
        if not self.disable:
            view = self.container._repr_mimebundle_()
            self._slot = display({**view, **EMPTY_OUTPUT}, raw=True, display_id=True)

    def close(self) -> None:
        super().close()
        if getattr(self, "_slot", None) is not None:  # None: disabled, already closed, or never shown
            self._slot.update(EMPTY_OUTPUT, raw=True)
            self._slot = None


def progress_bar(iterable: Iterable, description: str, disable: bool = False, **options: Any) -> tqdm_terminal:
    """A tqdm bar over ``iterable`` labelled ``description``: :class:`NotebookProgressBar` in a
    Jupyter kernel, else :class:`TerminalProgressBar` on standard error (drawn only on a
    terminal). Both clear themselves when done. ``options`` go to tqdm (``unit``, ...)."""
    kind = NotebookProgressBar if running_in_notebook() else TerminalProgressBar
    return kind(iterable, desc=description, disable=disable, **options)
