"""Fixtures for the widget tests: a small photo-like image and a predictor with known outputs."""
import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.modules.im2im_encoders.feedforward_encoder import FeedforwardEncoder
from allencv_lite.modules.im2vec_encoders.flatten_encoder import FlattenEncoder
from allencv_lite.predictors.image_predictor import ImagePredictor
from allencv_lite.training.trainer import Trainer


@pytest.fixture
def gradient_image() -> np.ndarray:
    """A 60x90 RGB image whose left and right halves differ, so a flip is visible."""
    image = np.zeros((60, 90, 3), dtype=np.uint8)
    image[:, :, 0] = np.linspace(0, 255, 90, dtype=np.uint8)[None, :]
    image[:30, :, 1] = 200
    return image


def _decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


@pytest.fixture
def decode_png():
    """``decode_png(bytes)``: the RGB array an ``ipywidgets.Image`` shows."""
    return _decode_png


@pytest.fixture
def dog_predictor() -> ImagePredictor:
    """A Cat/Dog classifier whose logits are always (0, 5): P(Dog) = e^5 / (1 + e^5) = 0.99331."""
    vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
    model = BasicImageClassifier(vocab, FlattenEncoder(input_channels=4), FeedforwardEncoder(hidden_channels=[4]))
    with torch.no_grad():
        model._classification_layer.weight.zero_()
        model._classification_layer.bias.copy_(torch.tensor([0.0, 5.0]))
    reader = ImageClassificationDirectoryReader(augmentation=[])
    return ImagePredictor(model, reader)


@pytest.fixture
def gradient_png(gradient_image: np.ndarray) -> bytes:
    """``gradient_image`` as the bytes of a PNG file."""
    buffer = io.BytesIO()
    Image.fromarray(gradient_image).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def small_trainer():
    """``small_trainer(callback, num_epochs=2, batches=3)``: a two-group Adam trainer over random 8x8
    images, ``batches`` batches of 4 per epoch, with ``callback``."""
    def build(callback, num_epochs=2, batches=3):
        torch.manual_seed(0)
        vocab = Vocabulary({"labels": {"a": 1, "b": 1}})
        model = BasicImageClassifier(vocab, FlattenEncoder(input_channels=4), FeedforwardEncoder(hidden_channels=[4]))
        optimizer = torch.optim.Adam([{"params": model._im2im_encoder.parameters(), "lr": 1e-4},
                                      {"params": model._classification_layer.parameters(), "lr": 1e-2}])
        data = [{"image": torch.randn(4, 3, 8, 8), "label": torch.randint(0, 2, (4,))} for _ in range(batches)]
        return Trainer(model, optimizer, data, validation_data_loader=data[:1], num_epochs=num_epochs,
                       cuda_device=-1, callbacks=[callback])
    return build


@pytest.fixture
def picture_of():
    """``picture_of(bundle)``: ``(mime type, RGB array)`` of the one picture in a mime bundle."""
    def of(bundle):
        (mime_type,) = [key for key in bundle if key.startswith("image/")]
        return mime_type, np.asarray(Image.open(io.BytesIO(base64.b64decode(bundle[mime_type]))).convert("RGB"))
    return of
