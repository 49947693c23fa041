"""A widget's picture of itself, stored in the notebook next to the live view.

A notebook saves a widget's output as a mime bundle; the live view
(``application/vnd.jupyter.widget-view+json``) needs a running kernel, so a saved notebook
opened in JupyterLab, on GitHub, in nbviewer or converted by ``jupyter nbconvert`` shows the
next format it can render. Ours is a picture (``image/png`` or ``image/jpeg``) of what the panel
shows. The widget is displayed under a display id (IPython's ``update_display``, as
``DisplayHandle.update`` uses), and the picture is sent again whenever the widget settles on a
new state (a prediction shown, an epoch finished, a config changed), so the stored output is the
last state, not the first. The frontends that run the kernel keep preferring the live view.

The text part of the bundle names the widget without its state: nbval compares it with the
stored one, and the stored one is the last update's while a fresh run compares the first.
"""
import base64
import uuid
from typing import Any, Dict, Tuple

from IPython.display import display, update_display


class SavedPicture:
    """Mixin for an ipywidgets widget: its display carries a picture of its current state.

    A subclass implements :meth:`picture` and calls :meth:`refresh_saved_picture` after each
    change worth saving.
    """

    def picture(self) -> Tuple[str, bytes]:
        """``(mime type, bytes)`` of what the widget shows now, e.g. ``("image/png", b"...")``."""
        raise NotImplementedError

    def saved_text(self) -> str:
        """The plain-text part of the bundle: what the widget is, independent of its state."""
        return f"{type(self).__name__} (a live panel when the notebook runs; saved as a picture)"

    def _repr_mimebundle_(self, **kwargs: Any) -> Dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]  # the widget view
        mime_type, data = self.picture()
        bundle.update({"text/plain": self.saved_text(), mime_type: base64.b64encode(data).decode("ascii")})
        return bundle

    def _ipython_display_(self) -> None:
        """Show the live view and the picture under this widget's display id (IPython calls
        this for ``display(widget)`` and for a widget left as a cell's last expression)."""
        if getattr(self, "_display_id", None) is None:
            self._display_id = uuid.uuid4().hex
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)

    def refresh_saved_picture(self) -> None:
        """Send the current picture to every output showing this widget (nothing if none)."""
        if getattr(self, "_display_id", None) is not None:
            update_display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
