"""One bytes -> image -> tensor path: the predictor, the prediction panel, the web demo and
``evaluate`` give the same JPEG the same probabilities."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from allencv_lite.interpret.interpretation import ClassificationInterpretation
from allencv_lite.models.archival import load_archive
from allencv_lite.predictors import Predictor

ROTATED_90_CLOCKWISE = 6  # EXIF orientation: the camera was held sideways


def sideways_phone_jpeg() -> bytes:
    """A 120×80 JPEG whose EXIF says "rotate me", as phones save them (80×120 upright)."""
    rows, columns = np.mgrid[0:80, 0:120]
    pixels = np.stack([rows * 3, columns * 2, (rows + columns) % 256], axis=-1).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = ROTATED_90_CLOCKWISE
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, exif=exif)
    return buffer.getvalue()


def test_the_same_jpeg_gets_the_same_probabilities_on_all_four_paths(digits_archive, tmp_path):
    from allencv_lite.service.server_simple import make_app
    from allencv_lite.widgets.prediction_panel import PredictionPanel

    content = sideways_phone_jpeg()
    (tmp_path / "data" / "3").mkdir(parents=True)
    (tmp_path / "data" / "3" / "phone.jpg").write_bytes(content)
    archive = load_archive(digits_archive)
    predictor = Predictor.from_archive(archive, "default_image")
    labels = predictor.labels

    from_predictor = predictor.predict_json({"image": base64.b64encode(content).decode("ascii")})["probabilities"]
    from_panel = PredictionPanel(predictor).show_prediction("phone.jpg", content)["probabilities"]
    answer = make_app(predictor).test_client().post("/predict", data={"image": (io.BytesIO(content), "phone.jpg")},
                                                    content_type="multipart/form-data")
    from_demo = answer.get_json()["probabilities"]
    from_evaluate = dict(zip(labels, ClassificationInterpretation.from_archive(
        archive, tmp_path / "data").probabilities[0].tolist()))

    expected = [from_predictor[label] for label in labels]
    for path in (from_panel, from_demo, from_evaluate):
        assert [path[label] for label in labels] == pytest.approx(expected, abs=1e-6)
    assert max(expected) < 1.0  # a real distribution, not one label at probability 1
