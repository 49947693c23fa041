"""The image classification predictor, ``default_image``."""
import base64
import binascii
import io
from typing import Any, List, Union

import numpy as np
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader
from allencv_lite.data.image_loading import read_image, to_rgb
from allencv_lite.data.vocabulary import DEFAULT_NAMESPACE
from allencv_lite.models.model import Model
from allencv_lite.predictors.predictor import JsonDict, Predictor

ImageInput = Union[np.ndarray, Image.Image]


@Predictor.register("default_image")
class ImagePredictor(Predictor):
    """Classifies images given as ``{"image_path": "cat.jpg"}`` or ``{"image": "<base64 bytes>"}``,
    or (from Python) as a PIL image or ``uint8`` array ``(height, width, 3)``.

    Output per image::

        {"label": "Cat", "probabilities": {"Cat": 0.93, "Dog": 0.07},
         "top_k": [{"label": "Cat", "probability": 0.93}, ...]}

    Args:
        model: a classifier whose output has ``probs`` ``(batch, num_labels)``.
        dataset_reader: the validation reader; its augmentation prepares the image.
        top_k: how many labels to list in ``top_k``.
    """

    def __init__(self, model: Model, dataset_reader: ImageDatasetReader, top_k: int = 5) -> None:
        super().__init__(model, dataset_reader)
        self.top_k = top_k

    def load_input(self, inputs: Union[JsonDict, ImageInput]) -> np.ndarray:
        """The ``uint8`` RGB array ``(height, width, 3)`` an input denotes.

        Raises:
            ConfigurationError: no ``image_path``/``image`` key, or bad base64.
            UnreadableImageError: the file or bytes are not a readable image.
        """
        if isinstance(inputs, Image.Image):
            return np.asarray(to_rgb(inputs))
        if isinstance(inputs, np.ndarray):
            return inputs
        if "image_path" in inputs:
            return self.dataset_reader.load_image(inputs["image_path"])
        if "image" in inputs:
            try:
                data = base64.b64decode(inputs["image"], validate=True)
            except (binascii.Error, ValueError, TypeError) as error:
                raise ConfigurationError(f"'image' is not valid base64: {error}") from None
            return read_image(io.BytesIO(data))
        raise ConfigurationError(f"Input needs 'image_path' or 'image' (base64); got keys {sorted(inputs)}.")

    def predict_batch_json(self, inputs: List[Union[JsonDict, ImageInput]]) -> List[JsonDict]:
        """Classify several images in one forward pass."""
        images = torch.stack([self.dataset_reader.image_to_tensor(self.load_input(x)) for x in inputs])
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            probs = self.model(image=images.to(device))["probs"].cpu()
        vocab = self.model.vocab
        labels = [vocab.get_token_from_index(i, DEFAULT_NAMESPACE) for i in range(probs.shape[1])]
        results = []
        for row in probs.tolist():
            ranked = sorted(zip(labels, row), key=lambda pair: -pair[1])
            results.append({
                "label": ranked[0][0],
                "probabilities": dict(zip(labels, row)),
                "top_k": [{"label": label, "probability": p} for label, p in ranked[: self.top_k]],
            })
        return results

    def predict_image(self, image: ImageInput) -> JsonDict:
        """Classify one PIL image or ``uint8`` array ``(height, width, 3)``."""
        return self.predict_batch_json([image])[0]
