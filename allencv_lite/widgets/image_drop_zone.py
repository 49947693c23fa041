"""A "Choose an image" button in a box that also takes a dropped file (ipywidgets' ``FileUpload``
takes no drops, and its label counts the files it holds: "Choose an image (0)" beside a prediction
fed from code)."""
import anywidget
import traitlets

# Runs in the browser (an ES module, as anywidget loads it): reads the chosen or dropped file and
# sends its bytes to Python in the same shape as ipywidgets 8's FileUpload value.
_DROP_ZONE_ESM = """
function render({ model, el }) {
  el.classList.add("allencv-drop-zone");
  const chooser = document.createElement("input");
  chooser.type = "file";
  chooser.accept = "image/*";
  chooser.style.display = "none";
  const button = document.createElement("button");
  button.className = "jupyter-widgets jupyter-button widget-button allencv-choose-image";
  button.textContent = model.get("button_text");
  const message = document.createElement("span");
  el.append(button, message, chooser);
  const showMessage = () => { message.textContent = model.get("message"); };
  model.on("change:message", showMessage);
  showMessage();
  const send = async (file) => {
    if (!file) return;
    const content = new DataView(await file.arrayBuffer());
    model.set("value", [{name: file.name, type: file.type, size: file.size,
                         last_modified: file.lastModified, content}]);
    model.save_changes();
  };
  button.addEventListener("click", () => { chooser.value = ""; chooser.click(); });
  chooser.addEventListener("change", () => send(chooser.files[0]));
  el.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.stopPropagation();
    el.classList.add("allencv-drop-zone-over");
  });
  el.addEventListener("dragleave", () => el.classList.remove("allencv-drop-zone-over"));
  el.addEventListener("drop", (event) => {
    event.preventDefault();
    event.stopPropagation();
    el.classList.remove("allencv-drop-zone-over");
    send(event.dataTransfer && event.dataTransfer.files[0]);
  });
}
export default { render };
"""

_DROP_ZONE_CSS = """
.allencv-drop-zone {
  display: flex; align-items: center; gap: 1em;
  min-width: 360px; min-height: 2.6em; padding: 0.2em 1em 0.2em 0.2em; box-sizing: border-box;
  border: 2px dashed var(--jp-border-color1, #999); border-radius: 6px;
  color: var(--jp-ui-font-color2, #555); font-size: var(--jp-ui-font-size1, 13px);
}
.allencv-drop-zone-over { border-color: var(--jp-brand-color1, #1976d2); background: rgba(25, 118, 210, 0.08); }
"""


class ImageDropZone(anywidget.AnyWidget):
    """A dashed box with a "Choose an image" button (the browser's file chooser) that also takes a
    file dragged onto it from the desktop or a file manager.

    ``value`` has the shape of ipywidgets 8's ``FileUpload.value``: a list with one dict for
    the chosen file or the first file of a drop, with ``name``, ``type`` (MIME type), ``size``
    (bytes), ``last_modified`` (milliseconds since 1970, as the browser reports it) and
    ``content`` (a ``memoryview`` of the bytes). ``button_text`` is the button's label and
    ``message`` the text beside it. The browser side is a few lines of JavaScript run by anywidget.
    """

    _esm = _DROP_ZONE_ESM
    _css = _DROP_ZONE_CSS
    value = traitlets.List(traitlets.Dict()).tag(sync=True)
    button_text = traitlets.Unicode("Choose an image").tag(sync=True)
    message = traitlets.Unicode("or drop one here").tag(sync=True)

    def __repr__(self) -> str:
        return f"ImageDropZone(message={self.message!r})"
