"""A place to drop image files in a notebook (ipywidgets' ``FileUpload`` only opens a chooser)."""
import anywidget
import traitlets

# Runs in the browser (an ES module, as anywidget loads it): reads the dropped file and sends its
# bytes to Python in the same shape as ipywidgets 8's FileUpload value.
_DROP_ZONE_ESM = """
function render({ model, el }) {
  el.classList.add("allencv-drop-zone");
  const message = document.createElement("span");
  el.appendChild(message);
  const showMessage = () => { message.textContent = model.get("message"); };
  model.on("change:message", showMessage);
  showMessage();
  el.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.stopPropagation();
    el.classList.add("allencv-drop-zone-over");
  });
  el.addEventListener("dragleave", () => el.classList.remove("allencv-drop-zone-over"));
  el.addEventListener("drop", async (event) => {
    event.preventDefault();
    event.stopPropagation();
    el.classList.remove("allencv-drop-zone-over");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    const content = new DataView(await file.arrayBuffer());
    model.set("value", [{name: file.name, type: file.type, size: file.size,
                         last_modified: file.lastModified, content}]);
    model.save_changes();
  });
}
export default { render };
"""

_DROP_ZONE_CSS = """
.allencv-drop-zone {
  display: flex; align-items: center; justify-content: center;
  min-width: 240px; min-height: 2.4em; padding: 0 1em; box-sizing: border-box;
  border: 2px dashed var(--jp-border-color1, #999); border-radius: 6px;
  color: var(--jp-ui-font-color2, #555); font-size: var(--jp-ui-font-size1, 13px);
}
.allencv-drop-zone-over { border-color: var(--jp-brand-color1, #1976d2); background: rgba(25, 118, 210, 0.08); }
"""


class ImageDropZone(anywidget.AnyWidget):
    """A dashed box that takes a file dragged onto it from the desktop or a file manager.

    ``value`` has the shape of ipywidgets 8's ``FileUpload.value``: a list with one dict per
    dropped file (the first file of a drop), with ``name``, ``type`` (MIME type), ``size``
    (bytes), ``last_modified`` (milliseconds since 1970, as the browser reports it) and
    ``content`` (a ``memoryview`` of the bytes). ``message`` is the text shown in the box.
    The browser side is a few lines of JavaScript run by anywidget.
    """

    _esm = _DROP_ZONE_ESM
    _css = _DROP_ZONE_CSS
    value = traitlets.List(traitlets.Dict()).tag(sync=True)
    message = traitlets.Unicode("or drop an image here").tag(sync=True)

    def __repr__(self) -> str:
        return f"ImageDropZone(message={self.message!r})"
