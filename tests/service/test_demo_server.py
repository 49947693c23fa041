"""DemoServer: the web demo as a child process that a notebook starts, queries and stops."""
import base64
import io
import json
import socket
import urllib.request

import numpy as np
import pytest
from PIL import Image

from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.common.network import free_loopback_port
from allencv_lite.service.demo_server import DemoServer
from allencv_lite.models import Model, archive_model

CONFIG = {
    "dataset_reader": {"type": "image_classification_directory",
                       "augmentation": [{"type": "resize", "height": 16, "width": 16}]},
    "model": {"type": "basic_image_classifier", "im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
              "im2vec_encoder": {"type": "flatten", "input_channels": 4}},
}


@pytest.fixture
def tiny_archive(tmp_path):
    vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
    model = Model.from_params(CONFIG["model"], "model", vocab=vocab)
    return archive_model(tmp_path / "model.tar.gz", CONFIG, model.state_dict(), vocab)


def png_base64():
    buffer = io.BytesIO()
    Image.fromarray(np.full((20, 20, 3), 128, dtype=np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_free_loopback_port_can_be_bound():
    port = free_loopback_port()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))


def test_started_demo_answers_predictions_and_stops_with_sigterm(tiny_archive, tmp_path):
    server = DemoServer.start(tiny_archive, tmp_path / "demo.log", ["--title", "Tiny demo", "--classification"])
    try:
        assert server.url.startswith("http://127.0.0.1:")
        page = urllib.request.urlopen(server.url, timeout=10).read().decode("utf-8")
        assert "Tiny demo" in page
        request = urllib.request.Request(server.url + "predict", data=json.dumps({"image": png_base64()}).encode(),
                                         headers={"Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=30))
        assert answer["label"] in ("Cat", "Dog")
        assert sorted(answer["probabilities"]) == ["Cat", "Dog"]
    finally:
        status = server.stop()
    assert status == -15
    assert not server.running


def test_a_server_that_cannot_start_raises_with_its_log(tmp_path):
    with pytest.raises(RuntimeError, match=r"did not start \(exit status 2\)(.|\n)*does not exist"):
        DemoServer.start(tmp_path / "missing.tar.gz", tmp_path / "demo.log")
