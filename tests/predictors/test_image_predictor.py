"""The ``default_image`` predictor: inputs it accepts, what it returns, how it prepares images."""
import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.data.image_loading import UnreadableImageError, read_image
from allencv_lite.models.archival import Archive, archive_model, load_archive
from allencv_lite.predictors import ImagePredictor, Predictor

DIGITS = [str(digit) for digit in range(10)]


@pytest.fixture(scope="module")
def archive(digits_archive) -> Archive:
    return load_archive(digits_archive)


@pytest.fixture(scope="module")
def predictor(archive) -> ImagePredictor:
    return Predictor.from_archive(archive, "default_image")


@pytest.fixture
def three_file(digits_dir) -> Path:
    return sorted((digits_dir / "val" / "3").iterdir())[0]


def test_from_archive_builds_the_registered_predictor(predictor):
    assert type(predictor) is ImagePredictor
    assert predictor.labels == DIGITS


def test_prediction_has_the_label_a_probability_per_label_and_top_k(predictor, three_file):
    output = predictor.predict_json({"image_path": str(three_file)})
    assert list(output) == ["label", "probabilities", "top_k"]
    assert list(output["probabilities"]) == DIGITS
    assert sum(output["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert output["label"] == max(output["probabilities"], key=output["probabilities"].get)
    top = [entry["probability"] for entry in output["top_k"]]
    assert len(top) == 5 and top == sorted(top, reverse=True)
    assert output["top_k"][0] == {"label": output["label"], "probability": output["probabilities"][output["label"]]}


def test_prediction_survives_a_json_round_trip(predictor, three_file):
    output = predictor.predict_json({"image_path": str(three_file)})
    assert json.loads(json.dumps(output)) == output


def test_path_base64_data_url_pil_and_array_inputs_give_the_same_prediction(predictor, three_file):
    encoded = base64.b64encode(three_file.read_bytes()).decode()
    outputs = [
        predictor.predict_json({"image_path": str(three_file)}),
        predictor.predict_json({"image": encoded}),
        predictor.predict_json({"image": "data:image/png;base64," + encoded}),
        predictor.predict_image(Image.open(three_file)),
        predictor.predict_image(read_image(three_file)),
        predictor.predict_image(np.asarray(Image.open(three_file))),  # (8, 8) grey levels
    ]
    for output in outputs[1:]:
        assert output == outputs[0]


def test_batch_is_one_forward_pass_with_the_same_results_as_one_at_a_time(predictor, digits_dir):
    paths = [str(sorted((digits_dir / "val" / digit).iterdir())[0]) for digit in DIGITS[:5]]
    calls = []
    hook = predictor.model.register_forward_hook(lambda module, args, kwargs: calls.append(1))
    try:
        batched = predictor.predict_batch_json([{"image_path": path} for path in paths])
    finally:
        hook.remove()
    assert len(calls) == 1
    for path, output in zip(paths, batched):
        single = predictor.predict_json({"image_path": path})
        assert output["label"] == single["label"]
        assert output["probabilities"] == pytest.approx(single["probabilities"], abs=1e-6)


def test_top_k_is_an_argument_of_the_predictor(archive, three_file):
    predictor = Predictor.from_archive(archive, "default_image", top_k=2)
    assert len(predictor.predict_json({"image_path": str(three_file)})["top_k"]) == 2
    with pytest.raises(ConfigurationError, match="top_k must be at least 1"):
        Predictor.from_archive(archive, "default_image", top_k=0)


def _model_output(archive: Archive, tensor: torch.Tensor) -> list:
    with torch.inference_mode():
        return archive.model(image=tensor[None])["probs"][0].tolist()


def test_the_validation_reader_prepares_images_never_the_training_augmentation(archive, three_file, tmp_path):
    """An archive whose training reader flips every image upside down: predictions must not flip."""
    config = json.loads(json.dumps(archive.config))
    flip_always = {"type": "vertical_flip", "p": 1.0}
    config["dataset_reader"]["augmentation"].insert(1, flip_always)
    flipping_archive = archive_model(tmp_path / "model.tar.gz", config, archive.model.state_dict(), archive.vocab)
    predictor = Predictor.from_archive(load_archive(flipping_archive), "default_image")
    image = read_image(three_file)
    validation_reader = ImageClassificationDirectoryReader.from_params(config["validation_dataset_reader"])
    training_reader = ImageClassificationDirectoryReader.from_params(config["dataset_reader"])
    as_validated = _model_output(archive, validation_reader.image_to_tensor(image))
    as_trained = _model_output(archive, training_reader.image_to_tensor(image))
    assert as_trained != pytest.approx(as_validated, abs=1e-4)  # the flip does change the output
    predicted = list(predictor.predict_image(image)["probabilities"].values())
    assert predicted == pytest.approx(as_validated, abs=1e-6)


def test_below_min_confidence_the_answer_is_not_sure_with_the_top_two_labels(archive, predictor, three_file):
    answer = predictor.predict_json({"image_path": str(three_file)})
    (first, p_first), (second, p_second) = sorted(answer["probabilities"].items(), key=lambda pair: -pair[1])[:2]
    unsure = ImagePredictor(archive.model, archive.dataset_reader, min_confidence=p_first + 1e-3)
    assert unsure.predict_json({"image_path": str(three_file)}) == {
        **answer, "label": None, "not_sure": True,
        "top_2": [{"label": first, "probability": p_first}, {"label": second, "probability": p_second}]}
    sure = ImagePredictor(archive.model, archive.dataset_reader, min_confidence=p_first - 1e-3)
    assert sure.predict_json({"image_path": str(three_file)}) == {**answer, "not_sure": False}


@pytest.mark.parametrize("min_confidence", [-0.1, 1.5])
def test_a_min_confidence_outside_0_and_1_is_refused(archive, min_confidence):
    with pytest.raises(ConfigurationError, match=r"min_confidence must be between 0 and 1 \(e.g. 0.8\), got "):
        ImagePredictor(archive.model, archive.dataset_reader, min_confidence=min_confidence)


def test_missing_input_key_names_the_keys_it_needs(predictor):
    with pytest.raises(ConfigurationError, match=r"needs 'image_path' or 'image' \(base64\); got keys \['path'\]"):
        predictor.predict_json({"path": "cat.jpg"})


def test_image_path_must_be_a_string(predictor):
    with pytest.raises(ConfigurationError, match="'image_path' must be a string, got 5"):
        predictor.predict_json({"image_path": 5})


def test_bad_base64_is_a_configuration_error(predictor):
    with pytest.raises(ConfigurationError, match="'image' is not valid base64"):
        predictor.predict_json({"image": "not base64!"})


def test_bytes_that_are_not_an_image_are_unreadable(predictor):
    with pytest.raises(UnreadableImageError, match="not an image"):
        predictor.predict_json({"image": base64.b64encode(b"hello, world").decode()})


def test_missing_file_is_unreadable_and_named(predictor, tmp_path):
    with pytest.raises(UnreadableImageError, match="missing.png"):
        predictor.predict_json({"image_path": str(tmp_path / "missing.png")})


@pytest.mark.parametrize("array, message", [
    (np.zeros((8, 8, 3), dtype=np.float32), "must be uint8"),
    (np.zeros((8, 8, 4), dtype=np.uint8), r"shape \(height, width, 3\) RGB or \(height, width\), got \(8, 8, 4\)"),
])
def test_arrays_must_be_uint8_rgb_or_grey(predictor, array, message):
    with pytest.raises(ConfigurationError, match=message):
        predictor.predict_image(array)


def test_images_of_different_sizes_cannot_share_a_batch_without_a_resize(archive):
    predictor = ImagePredictor(archive.model, ImageClassificationDirectoryReader(augmentation=[]))
    small, large = np.zeros((16, 16, 3), dtype=np.uint8), np.zeros((24, 20, 3), dtype=np.uint8)
    with pytest.raises(ConfigurationError, match="Images of different sizes"):
        predictor.predict_batch_json([small, large])
    assert predictor.predict_image(large)["label"] in DIGITS


def test_a_pil_image_with_exif_orientation_is_predicted_upright_like_its_file(predictor, three_file, tmp_path):
    stored = Image.open(three_file).convert("RGB").resize((32, 32)).rotate(90)  # what the camera stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "shown rotated 90 degrees clockwise", which undoes the rotate(90)
    stored.save(tmp_path / "phone.png", exif=exif)
    from_file = predictor.predict_json({"image_path": str(tmp_path / "phone.png")})["probabilities"]
    opened = Image.open(tmp_path / "phone.png")
    from_pil = predictor.predict_image(opened)["probabilities"]
    sideways = predictor.predict_image(np.asarray(stored))["probabilities"]
    assert from_pil == pytest.approx(from_file, abs=1e-6)
    assert from_pil != pytest.approx(sideways, abs=1e-3)
    assert opened.getexif()[0x0112] == 6  # the caller's image is left as it was


def decode_data_url(url: str) -> np.ndarray:
    assert url.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def test_explain_true_adds_the_grad_cam_overlay_of_the_predicted_label_as_a_png_data_url(predictor, three_file):
    output = predictor.predict_json({"image_path": str(three_file), "explain": True})
    plain = predictor.predict_json({"image_path": str(three_file)})
    assert {key: value for key, value in output.items() if key != "explanation"} == plain
    overlay = decode_data_url(output["explanation"])
    np.testing.assert_array_equal(overlay, predictor.explain_image(read_image(three_file)))
    assert overlay.shape == read_image(three_file).shape  # the picture's own size (8x8 digits: no shrinking)


def test_explain_false_or_absent_adds_nothing(predictor, three_file):
    assert "explanation" not in predictor.predict_json({"image_path": str(three_file), "explain": False})


def test_explain_must_be_a_boolean(predictor, three_file):
    with pytest.raises(ConfigurationError, match="'explain' must be true or false, got 'yes'"):
        predictor.predict_json({"image_path": str(three_file), "explain": "yes"})


def test_heatmap_is_at_the_prepared_size_and_explains_the_label_asked_for(predictor, three_file):
    heatmap = predictor.heatmap({"image_path": str(three_file)}, label="8")
    assert heatmap.shape == (16, 16) and 0.0 <= heatmap.min() and heatmap.max() <= 1.0
    with pytest.raises(ConfigurationError, match="label 'cat' is not one of the model's labels"):
        predictor.heatmap({"image_path": str(three_file)}, label="cat")
