"""The demo's HTTP interface, through Flask's test client and a real threaded server."""
import base64
import io
import json
import logging
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.serving import make_server

from allencv_lite.service.server_simple import make_app


@pytest.fixture
def client(digits_predictor):
    return make_app(digits_predictor, title="Digits <Classifier>", classification=True,
                    max_upload_bytes=100_000).test_client()


def upload(client, data: bytes, name: str = "digit.png"):
    return client.post("/predict", data={"image": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_the_page_carries_the_escaped_title_and_the_settings(client):
    page = client.get("/").get_data(as_text=True)
    assert "<title>Digits &lt;Classifier&gt;</title>" in page
    assert "<h1>Digits &lt;Classifier&gt;</h1>" in page
    assert 'data-classification="true"' in page and 'data-max-upload-bytes="100000"' in page


def test_the_page_script_and_style_are_served(client):
    assert b"drawBars" in client.get("/static/demo.js").data
    assert client.get("/static/demo.css").status_code == 200


def test_a_multipart_upload_gets_the_predictors_json(client, digits_predictor, digit_pngs):
    response = upload(client, digit_pngs[3])
    assert response.status_code == 200
    assert response.get_json() == digits_predictor.predict_json({"image": base64.b64encode(digit_pngs[3]).decode()})


def test_a_json_base64_image_gets_the_same_answer_as_the_upload(client, digit_pngs):
    response = client.post("/predict", json={"image": base64.b64encode(digit_pngs[3]).decode()})
    assert response.status_code == 200
    assert response.get_json() == upload(client, digit_pngs[3]).get_json()


@pytest.mark.parametrize("send, message", [
    (lambda c: upload(c, b"GIF89a but not really", "fake.gif"), "That file is not an image we can read."),
    (lambda c: c.post("/predict", json={"image": "%%%"}), "'image' is not valid base64"),
    (lambda c: c.post("/predict", json={"image_path": "/etc/passwd"}), "does not read files on the server"),
    (lambda c: c.post("/predict", json=[1, 2]), "The JSON body must be an object"),
    (lambda c: c.post("/predict", data={"photo": (io.BytesIO(b"x"), "x.png")}, content_type="multipart/form-data"),
     "Send the image in the form field 'image'; got fields ['photo']"),
    (lambda c: c.post("/predict", data="hello", content_type="text/plain"), "POST an image"),
])
def test_requests_without_a_readable_image_get_400_with_a_message(client, send, message):
    response = send(client)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


@pytest.mark.parametrize("data, reason, sentence", [
    (b"", "empty file", "That is an empty file: there is no picture in it. Choose a JPEG, PNG, GIF, BMP, TIFF or "
                        "WebP picture."),
    (b"GIF89a but not really", "not an image", "That file is not an image we can read. Choose a JPEG, PNG, GIF, BMP, "
                                               "TIFF or WebP picture."),
])
def test_an_unreadable_upload_gets_a_sentence_for_people_and_the_command_lines_reason(client, data, reason, sentence):
    response = upload(client, data)
    assert response.status_code == 400
    assert response.get_json() == {"error": sentence, "reason": reason,
                                   "detail": f"<image bytes>: {reason}" + (" (Pillow recognises no image format in it)"
                                                                          if data else "")}


def test_the_log_says_why_a_request_was_refused(client, large_png, caplog):
    caplog.set_level(logging.INFO, logger="allencv_lite.service.server_simple")
    upload(client, b"GIF89a but not really")
    client.post("/predict", json={"image_path": "/etc/passwd"})
    upload(client, large_png)
    assert [record.getMessage() for record in caplog.records] == [
        "Refused POST /predict (400): <image bytes>: not an image (Pillow recognises no image format in it)",
        "Refused POST /predict (400): The demo does not read files on the server; send the image itself, as "
        '{"image": "<base64 of the file>"} or a multipart upload.',
        "Refused POST /predict (413): The upload is larger than the limit of 100000 bytes (0.1 MiB)."]


def test_the_favicon_is_served_and_linked_from_the_page(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO signature
    assert '<link rel="icon" href="/favicon.ico">' in client.get("/").get_data(as_text=True)


def test_an_upload_over_the_limit_gets_413(client, large_png):
    assert len(large_png) > 100_000
    response = upload(client, large_png)
    assert response.status_code == 413
    assert response.get_json()["error"] == "The upload is larger than the limit of 100000 bytes (0.1 MiB)."


def test_an_unknown_route_gets_a_json_404(client):
    response = client.get("/nowhere")
    assert response.status_code == 404 and "error" in response.get_json()


class RecordingPredictor:
    """Forwards to a predictor, slowly, and records how many calls overlapped."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.active = 0
        self.most_active = 0
        self._counter = threading.Lock()

    def predict_json(self, inputs):
        with self._counter:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            time.sleep(0.02)  # long enough for other request threads to arrive
            return self.predictor.predict_json(inputs)
        finally:
            with self._counter:
                self.active -= 1


def test_concurrent_requests_to_a_threaded_server_get_their_own_answers(digits_predictor, digit_pngs):
    recording = RecordingPredictor(digits_predictor)
    server = make_server("127.0.0.1", 0, make_app(recording), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/predict"

    def ask(png: bytes) -> dict:
        body = json.dumps({"image": base64.b64encode(png).decode()}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(ask, digit_pngs * 2))
    finally:
        server.shutdown()
    expected = [digits_predictor.predict_json({"image": base64.b64encode(png).decode()}) for png in digit_pngs]
    assert answers == expected * 2
    assert recording.most_active == 1  # the lock let one prediction run at a time


def test_an_image_smaller_than_the_crop_gets_400_saying_so(center_crop_run):
    from allencv_lite.models.archival import load_archive
    from allencv_lite.predictors import Predictor

    predictor = Predictor.from_archive(load_archive(center_crop_run / "model.tar.gz"), "default_image")
    client = make_app(predictor).test_client()
    data = json.loads((center_crop_run / "config.json").read_text())["train_data_path"]
    with open(f"{data}/Cat/small.png", "rb") as small:
        response = upload(client, small.read(), "small.png")
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["reason"] == "smaller than a crop"
    assert answer["error"].startswith("<image bytes>: smaller than a crop (40x30 pixels (width x height) when it reaches "
                                      "augmentation[0] ('center_crop')")


def test_explain_in_the_json_body_returns_the_grad_cam_overlay(client, digits_predictor, digit_pngs):
    image = base64.b64encode(digit_pngs[3]).decode()
    response = client.post("/predict", json={"image": image, "explain": True})
    assert response.status_code == 200
    assert response.get_json() == digits_predictor.predict_json({"image": image, "explain": True})
    assert response.get_json()["explanation"].startswith("data:image/png;base64,")


@pytest.mark.parametrize("value, explained", [("true", True), ("false", False)])
def test_the_pages_explain_field_asks_for_the_overlay(client, digit_pngs, value, explained):
    response = client.post("/predict", data={"image": (io.BytesIO(digit_pngs[3]), "3.png"), "explain": value},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert ("explanation" in response.get_json()) is explained


def test_the_page_has_the_explain_checkbox_and_a_place_for_the_overlay(client):
    page = client.get("/").get_data(as_text=True)
    assert '<input id="explain" type="checkbox">' in page and '<img id="explanation"' in page
