"""See what an augmentation config does to an image before training with it."""
import html
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union

import albumentations
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.augmentation import Augmentation
from allencv_lite.widgets.image_encoding import ImageSource, as_rgb_array, figure_bytes, png_bytes, thumbnail
from allencv_lite.widgets.saved_picture import SavedPicture

Number = Union[int, float]


@dataclass(frozen=True)
class Slider:
    """A slider for one argument of a transform.

    ``default`` a number gives a single-value slider; a ``(low, high)`` pair gives a range
    slider, whose value goes into the config as a two-element list. Integers throughout
    (``minimum``, ``maximum``, ``step``, ``default``) give an integer slider.
    """

    minimum: Number
    maximum: Number
    step: Number
    default: Union[Number, Tuple[Number, Number]]

    @property
    def is_integer(self) -> bool:
        values = (self.minimum, self.maximum, self.step) + tuple(np.atleast_1d(self.default).tolist())
        return all(isinstance(value, int) for value in values)

    def make_widget(self, description: str) -> widgets.ValueWidget:
        """The ipywidgets slider (``IntSlider``, ``FloatSlider``, ``IntRangeSlider`` or ``FloatRangeSlider``)."""
        is_range = isinstance(self.default, tuple)
        kind = {(True, True): widgets.IntRangeSlider, (True, False): widgets.IntSlider,
                (False, True): widgets.FloatRangeSlider, (False, False): widgets.FloatSlider}[self.is_integer, is_range]
        return kind(value=self.default, min=self.minimum, max=self.maximum, step=self.step, description=description,
                    continuous_update=False, style={"description_width": "initial"},
                    layout=widgets.Layout(width="340px"))


# The transforms offered, with sliders for the arguments worth exploring (albumentations' own
# argument names and meanings; a single number ``x`` for a ``*_limit`` means the range (-x, x)).
EXPLORABLE_TRANSFORMS: Dict[str, Dict[str, Slider]] = {
    "flip": {},
    "vertical_flip": {},
    "rotate": {"limit": Slider(0, 180, 1, 30)},
    "affine": {"rotate": Slider(-45.0, 45.0, 1.0, (-10.0, 10.0)), "scale": Slider(0.5, 1.5, 0.05, (0.9, 1.1)),
               "translate_percent": Slider(-0.3, 0.3, 0.01, (0.0, 0.0))},
    "random_brightness_contrast": {"brightness_limit": Slider(0.0, 0.6, 0.05, 0.2),
                                   "contrast_limit": Slider(0.0, 0.6, 0.05, 0.2)},
    "hue_saturation_value": {"hue_shift_limit": Slider(0, 90, 1, 20), "sat_shift_limit": Slider(0, 100, 1, 30),
                             "val_shift_limit": Slider(0, 100, 1, 20)},
    "to_gray": {},
    "channel_shuffle": {},
    "blur": {"blur_limit": Slider(3, 15, 2, 7)},
    "coarse_dropout": {"num_holes_range": Slider(1, 16, 1, (1, 4)),
                       "hole_height_range": Slider(0.05, 0.5, 0.05, (0.1, 0.2)),
                       "hole_width_range": Slider(0.05, 0.5, 0.05, (0.1, 0.2))},
}
PROBABILITY = Slider(0.0, 1.0, 0.05, 0.5)


def _config_value(value: Any) -> Any:
    """Slider values as JSON config values: range tuples become lists, floats are rounded
    to 4 decimals so that ``0.30000000000000004`` reads ``0.3``."""
    if isinstance(value, tuple):
        return [_config_value(v) for v in value]
    return round(value, 4) if isinstance(value, float) else value


class _TransformRow(widgets.HBox):
    """A checkbox to use one transform; once ticked, its ``p`` and argument sliders show."""

    def __init__(self, name: str, sliders: Dict[str, Slider]) -> None:
        self.name = name
        self.enabled = widgets.Checkbox(value=False, description=name, indent=False,
                                        layout=widgets.Layout(width="210px"))
        self.probability = PROBABILITY.make_widget("p")
        self.arguments = {argument: slider.make_widget(argument) for argument, slider in sliders.items()}
        self.sliders = widgets.HBox([self.probability, *self.arguments.values()],
                                    layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__([self.enabled, self.sliders], layout=widgets.Layout(align_items="flex-start"))
        self.enabled.observe(self._show_sliders, "value")
        self._show_sliders()

    def _show_sliders(self, change: Optional[Dict[str, Any]] = None) -> None:
        self.sliders.layout.display = None if self.enabled.value else "none"

    def config(self) -> Dict[str, Any]:
        """This transform's config block, e.g. ``{"type": "rotate", "limit": 30, "p": 0.5}``."""
        block = {"type": self.name}
        block.update({argument: _config_value(slider.value) for argument, slider in self.arguments.items()})
        block["p"] = _config_value(self.probability.value)
        return block


class AugmentationExplorer(SavedPicture, widgets.VBox):
    """Pick transforms, move their sliders, and see the original image beside ``num_samples``
    augmented copies; the matching ``"augmentation"`` config is shown as JSON to paste into
    an experiment config (its order is the order of the rows).

    One line in a notebook: ``AugmentationExplorer("cat.jpg")``. The transforms are built
    by name through :class:`allencv_lite.data.augmentation.Augmentation`, exactly as a
    config's ``dataset_reader.augmentation`` list is, so what you see is what training does.
    A saved notebook shows a picture of the last images and config (see :class:`SavedPicture`).

    Args:
        image: a file path, PIL image or ``uint8`` array ``(height, width, 3)``.
        num_samples: augmented copies shown.
        seed: seed of the random draws; the "New samples" button moves to the next seed.
        thumbnail_size: longest side of each shown image, in pixels (the transforms run on
            the full-size image; only the display is shrunk).

    Attributes:
        rows: ``{transform name: row}``; each row has ``enabled`` (checkbox), ``probability``
            (the ``p`` slider) and ``arguments`` (``{argument: slider}``), shown once ticked.
        original, samples: the ``ipywidgets.Image`` of the original and of each augmented copy.
        config_text: the JSON of :attr:`config`, shown under the images.
        message: why the images could not be drawn (an argument albumentations rejects), or empty.

    Raises:
        UnreadableImageError: ``image`` is a path to something that is not an image.
    """

    def __init__(self, image: ImageSource, num_samples: int = 4, seed: int = 0, thumbnail_size: int = 160) -> None:
        self.image = as_rgb_array(image)
        self.seed = seed
        self.thumbnail_size = thumbnail_size
        self.rows = {name: _TransformRow(name, sliders) for name, sliders in EXPLORABLE_TRANSFORMS.items()}
        image_layout = widgets.Layout(width=f"{thumbnail_size}px", height="auto")
        self.original = widgets.Image(value=png_bytes(self.image, thumbnail_size), format="png", layout=image_layout)
        self.samples = [widgets.Image(format="png", layout=image_layout) for _ in range(num_samples)]
        self.new_samples = widgets.Button(description="New samples", icon="refresh")
        self.config_text = widgets.HTML()
        self.message = widgets.HTML()
        captioned = [widgets.VBox([widgets.HTML("<b>original</b>"), self.original])]
        captioned += [widgets.VBox([widgets.HTML(f"augmented {i + 1}"), sample]) for i, sample in enumerate(self.samples)]
        super().__init__([
            widgets.HTML("<b>Transforms</b> (applied top to bottom; <code>p</code> is the probability of applying each)"),
            *self.rows.values(),
            self.new_samples,
            widgets.HBox(captioned, layout=widgets.Layout(flex_flow="row wrap")),
            self.message,
            widgets.HTML("<b>Config</b> for <code>dataset_reader.augmentation</code>:"),
            self.config_text,
        ])
        self.add_class("allencv-augmentation-explorer")
        for row in self.rows.values():
            for control in (row.enabled, row.probability, *row.arguments.values()):
                control.observe(self._redraw, "value")
        self.new_samples.on_click(self._next_seed)
        self._shown_samples: List[np.ndarray] = []  # thumbnails of the copies on screen
        self._problem = ""  # why there are none
        self._redraw()

    @property
    def config(self) -> List[Dict[str, Any]]:
        """The ``"augmentation"`` config of the ticked transforms, e.g.
        ``[{"type": "flip", "p": 0.5}, {"type": "rotate", "limit": 30, "p": 0.5}]``."""
        return [row.config() for row in self.rows.values() if row.enabled.value]

    @property
    def config_json(self) -> str:
        """:attr:`config` as indented JSON."""
        return json.dumps(self.config, indent=2)

    def augmented_images(self) -> List[np.ndarray]:
        """``num_samples`` augmented copies of the image (``uint8`` ``(height, width, 3)``),
        drawn from the current config with the current seed.

        Raises:
            ConfigurationError: a slider value the transform rejects.
        """
        transforms = [Augmentation.from_params(block, f"augmentation[{index}]")
                      for index, block in enumerate(self.config)]
        pipeline = albumentations.Compose(transforms, seed=self.seed)
        return [pipeline(image=self.image)["image"] for _ in self.samples]

    def _next_seed(self, button: Optional[widgets.Button] = None) -> None:
        self.seed += 1
        self._redraw()

    def _redraw(self, change: Optional[Dict[str, Any]] = None) -> None:
        self.config_text.value = f"<pre class='allencv-augmentation-config'>{html.escape(self.config_json, quote=False)}</pre>"
        try:
            images = self.augmented_images()
        except ConfigurationError as error:
            self._problem = str(error)
            self.message.value = f"<span style='color: #b00020'>{html.escape(self._problem, quote=False)}</span>"
            self._shown_samples = []
            self.refresh_saved_picture()
            return
        self._problem = self.message.value = ""
        for sample, image in zip(self.samples, images):
            sample.value = png_bytes(image, self.thumbnail_size)
        self._shown_samples = [thumbnail(image, self.thumbnail_size) for image in images]
        self.refresh_saved_picture()

    def picture(self) -> Tuple[str, bytes]:
        """The original, the augmented copies (or why they could not be drawn) and the config,
        as one JPEG; each image at most ``thumbnail_size`` pixels."""
        lines = [json.dumps(block) for block in self.config] or ["[]  (no transform ticked)"]
        if self._problem:
            lines.append(f"no samples: {self._problem}")
        columns = len(self.samples) + 1
        side = self.thumbnail_size / 80  # inches at 80 dpi
        text_height = 0.22 * (len(lines) + 1)
        figure = Figure(figsize=(side * columns, side + 0.3 + text_height), dpi=80)
        images = [thumbnail(self.image, self.thumbnail_size)] + self._shown_samples
        titles = ["original"] + [f"augmented {i + 1}" for i in range(len(self._shown_samples))]
        image_bottom = text_height / (side + 0.3 + text_height)
        for column, (image, title) in enumerate(zip(images, titles)):
            axes = figure.add_axes((column / columns, image_bottom, 1 / columns, 1 - image_bottom - 0.08))
            axes.imshow(image)
            axes.set_title(title, fontsize=10)
            axes.set_axis_off()
        figure.text(0.01, image_bottom - 0.02, "dataset_reader.augmentation:\n" + "\n".join(lines), va="top",
                    family="monospace", fontsize=9, wrap=True)
        return "image/jpeg", figure_bytes(figure, "jpeg")

    def __repr__(self) -> str:
        return f"AugmentationExplorer(config={self.config})"
