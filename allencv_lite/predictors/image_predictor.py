"""The image classification predictor, ``default_image``."""
import base64
import binascii
import io
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.image_loading import array_to_rgb, to_upright_rgb_array
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.models.model import Model
from allencv_lite.predictors.predictor import JsonDict, Predictor
from allencv_lite.predictors.test_time_augmentation import average_probabilities, check_tta

ImageInput = Union[np.ndarray, Image.Image]
EXPLANATION_MAX_SIDE = 512  # pixels: the longest side of the overlay sent back for "explain": true


def decode_base64(text: str) -> bytes:
    """The bytes of a base64 string, with or without a ``data:image/...;base64,`` prefix
    (what a browser's ``FileReader.readAsDataURL`` gives).

    Raises:
        ConfigurationError: ``text`` is not a string of valid base64.
    """
    if not isinstance(text, str):
        raise ConfigurationError(f"'image' must be a base64 string, got {type(text).__name__}.")
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ConfigurationError(f"'image' is not valid base64 ({error}); encode the file's bytes, e.g. "
                                 "base64.b64encode(open('cat.jpg', 'rb').read()).decode().") from None


@Predictor.register("default_image")
class ImagePredictor(Predictor):
    """Classifies images given as ``{"image_path": "cat.jpg"}`` or ``{"image": "<base64 bytes>"}``,
    or (from Python) as a PIL image or ``uint8`` array ``(height, width, 3)`` or ``(height, width)``.

    Each image is decoded by the one decoder (:func:`~allencv_lite.data.image_loading.read_image`)
    and prepared by the reader's augmentation (the archive's validation reader: resizing and
    normalization, never the random training augmentation). Output per image, JSON-serialisable::

        {"label": "Cat", "probabilities": {"Cat": 0.93, "Dog": 0.07},
         "top_k": [{"label": "Cat", "probability": 0.93}, {"label": "Dog", "probability": 0.07}]}

    ``probabilities`` lists every label in vocabulary order; ``top_k`` the ``top_k`` most
    probable, most probable first. An input with ``"explain": true`` also gets
    ``"explanation"``: the picture with the Grad-CAM heatmap of the predicted label drawn over
    it (:meth:`explain_image`), as a PNG data URL (``data:image/png;base64,...``) at most
    ``EXPLANATION_MAX_SIDE`` pixels on its longest side.

    Args:
        model: a classifier whose output has ``probs`` ``(batch, num_labels)``.
        dataset_reader: the validation reader; its augmentation prepares the image.
        top_k: how many labels to list in ``top_k`` (at most the number of labels).
        tta: test-time augmentation, e.g. ``["flip"]``: average the probabilities over the
            image and these fixed views of it (see
            :mod:`~allencv_lite.predictors.test_time_augmentation`; one forward pass per view).

    Raises:
        ConfigurationError: ``top_k`` < 1, an unknown ``tta`` view.
    """

    def __init__(self, model: Model, dataset_reader: ImageDatasetReader, top_k: int = 5,
                 tta: Optional[Sequence[str]] = None) -> None:
        super().__init__(model, dataset_reader)
        if top_k < 1:
            raise ConfigurationError(f"top_k must be at least 1, got {top_k}.")
        self.top_k = top_k
        self.tta = check_tta(tta)
        vocab = model.vocab
        self.labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE)
                       for i in range(vocab.get_vocab_size(DEFAULT_NAMESPACE))]

    def load_input(self, inputs: Union[JsonDict, ImageInput]) -> np.ndarray:
        """The ``uint8`` RGB array ``(height, width, 3)`` an input denotes.

        Raises:
            ConfigurationError: no ``image_path``/``image`` key, a value of the wrong type,
                bad base64, or an array that is not ``uint8`` ``(H, W)``/``(H, W, 3)``.
            UnreadableImageError: the file or bytes are not a readable image.
        """
        if isinstance(inputs, Image.Image):
            return to_upright_rgb_array(inputs)
        if isinstance(inputs, np.ndarray):
            return array_to_rgb(inputs)
        if not isinstance(inputs, dict):
            raise ConfigurationError(f"Expected a JSON object, a PIL image or an array; got {type(inputs).__name__}.")
        if "image_path" in inputs:
            path = inputs["image_path"]
            if not isinstance(path, str):
                raise ConfigurationError(f"'image_path' must be a string, got {path!r}.")
            return self.dataset_reader.load_image(path)
        if "image" in inputs:
            return self.decode(decode_base64(inputs["image"]))
        raise ConfigurationError(f"Input needs 'image_path' or 'image' (base64); got keys {sorted(inputs)}.")

    def decode(self, content: bytes) -> np.ndarray:
        """The one way from a file's bytes to the ``uint8`` RGB array ``(height, width, 3)`` that
        the model's tensor is made from, shared by ``{"image": base64}`` inputs, the web demo
        and the prediction panel: the reader's :meth:`~ImageDatasetReader.load_image`, so bytes
        are decoded exactly as training and ``evaluate`` decode the same file (EXIF orientation,
        JPEG draft size, crop-size check).

        Raises:
            UnreadableImageError: the bytes are not a readable image, or one smaller than a crop.
        """
        return self.dataset_reader.load_image(io.BytesIO(content))

    def predict_batch_json(self, inputs: List[Union[JsonDict, ImageInput]]) -> List[JsonDict]:
        """Classify several images in one forward pass (a batch ``(len(inputs), 3, H, W)``).

        Raises:
            ConfigurationError: an input is malformed (see :meth:`load_input`), or the
                prepared images differ in size because the reader's augmentation has no
                resize (predict them one at a time, or add one).
            UnreadableImageError: an image cannot be decoded.
        """
        pictures = [self.load_input(x) for x in inputs]
        tensors = [self.dataset_reader.image_to_tensor(picture) for picture in pictures]
        if len({tuple(t.shape) for t in tensors}) > 1:
            raise ConfigurationError(f"Images of different sizes {sorted({tuple(t.shape) for t in tensors})} cannot "
                                     "share a batch; add a resize to validation_dataset_reader.augmentation, or "
                                     "predict one image at a time (--batch-size 1).")
        device = next(self.model.parameters()).device
        probs = average_probabilities(self.model, torch.stack(tensors).to(device), self.tta).cpu()
        outputs = [self._to_json(row) for row in probs.tolist()]
        for x, picture, output in zip(inputs, pictures, outputs):
            if self._wants_explanation(x):
                from allencv_lite.interpret.grad_cam import png_data_url  # grad-cam and OpenCV load only when asked for

                overlay = self.explain_image(picture, output["label"])
                output["explanation"] = png_data_url(overlay, max_side=EXPLANATION_MAX_SIDE)
        return outputs

    @staticmethod
    def _wants_explanation(inputs: Union[JsonDict, ImageInput]) -> bool:
        if not isinstance(inputs, dict) or "explain" not in inputs:
            return False
        if not isinstance(inputs["explain"], bool):
            raise ConfigurationError(f"'explain' must be true or false, got {inputs['explain']!r}.")
        return inputs["explain"]

    def heatmap(self, image: Union[JsonDict, ImageInput], label: Optional[str] = None) -> np.ndarray:
        """The Grad-CAM heatmap (:func:`allencv_lite.interpret.grad_cam.explain`) of ``label`` (default: the
        predicted label) for an input, float32 ``(height, width)`` in [0, 1] at the size of the
        prepared image (the reader's resize).

        Raises:
            ConfigurationError: a malformed input (see :meth:`load_input`) or an unknown label.
            UnreadableImageError: the image cannot be decoded.
        """
        from allencv_lite.interpret.grad_cam import explain

        tensor = self.dataset_reader.image_to_tensor(self.load_input(image))
        if label is not None and label not in self.labels:
            raise ConfigurationError(f"label '{label}' is not one of the model's labels {self.labels}.")
        return explain(self.model, tensor, label=None if label is None else self.labels.index(label))

    def explain_image(self, image: Union[JsonDict, ImageInput], label: Optional[str] = None,
                      opacity: float = 0.5) -> np.ndarray:
        """The picture with :meth:`heatmap` drawn over it in the "jet" colours (red where the
        evidence for ``label`` is strongest), ``uint8`` ``(height, width, 3)`` at the picture's
        own size (see :func:`allencv_lite.interpret.grad_cam.overlay_heatmap`)."""
        from allencv_lite.interpret.grad_cam import overlay_heatmap

        picture = self.load_input(image)
        return overlay_heatmap(picture, self.heatmap(picture, label), opacity=opacity)

    def _to_json(self, probabilities: List[float]) -> JsonDict:
        ranked = sorted(zip(self.labels, probabilities), key=lambda pair: -pair[1])
        return {
            "label": ranked[0][0],
            "probabilities": dict(zip(self.labels, probabilities)),
            "top_k": [{"label": label, "probability": p} for label, p in ranked[: self.top_k]],
        }

    def predict_image(self, image: ImageInput) -> JsonDict:
        """Classify one PIL image or ``uint8`` array ``(height, width, 3)``.

        Already decoded at full size, it skips the reader's JPEG draft scale, so a large JPEG
        can score slightly differently from its path (``predict_json({"image_path": ...})``),
        which is decoded exactly as in training.
        """
        return self.predict_batch_json([image])[0]
