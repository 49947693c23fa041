"""Fixtures for the notebook tests: a scratch notebook with one cell per widget, and a JupyterLab to open it in."""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable

import nbformat
import pytest
from PIL import Image, ImageDraw

from allencv_lite.common.network import free_loopback_port

REPOSITORY = Path(__file__).resolve().parents[2]

# One cell per widget. The predictor's classifier always gives logits (0, 5) for (Cat, Dog),
# so any photo is "Dog" with probability e^5 / (1 + e^5) = 99.3 %.
CELLS = [
    """\
import torch
from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.basic_image_classifier import BasicImageClassifier
from allencv_lite.modules.im2im_encoders.feedforward_encoder import FeedforwardEncoder
from allencv_lite.modules.im2vec_encoders.flatten_encoder import FlattenEncoder
from allencv_lite.predictors.image_predictor import ImagePredictor
from allencv_lite.training.trainer import Trainer
from allencv_lite.widgets import AugmentationExplorer, LiveTrainingCurves, PredictionPanel

torch.manual_seed(0)
vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
model = BasicImageClassifier(vocab, FlattenEncoder(input_channels=4), FeedforwardEncoder(hidden_channels=[4]))""",
    """\
explorer = AugmentationExplorer("picture.png")
explorer.rows["flip"].enabled.value = True
explorer""",
    """\
optimizer = torch.optim.Adam([{"params": model._im2im_encoder.parameters(), "lr": 1e-3},
                              {"params": model._classification_layer.parameters(), "lr": 1e-2}])
data = [{"image": torch.randn(4, 3, 8, 8), "label": torch.randint(0, 2, (4,))} for _ in range(5)]
Trainer(model, optimizer, data, validation_data_loader=data[:2], num_epochs=3, cuda_device=-1,
        callbacks=[LiveTrainingCurves(redraw_interval=0.0)]).train();""",
    """\
with torch.no_grad():
    model._classification_layer.weight.zero_()
    model._classification_layer.bias.copy_(torch.tensor([0.0, 5.0]))
PredictionPanel(ImagePredictor(model.eval(), ImageClassificationDirectoryReader(augmentation=[])))""",
]


@pytest.fixture(scope="session")
def write_scratch_notebook() -> Callable[[Path], Path]:
    """``write_scratch_notebook(folder)``: the notebook with the widget cells, and the picture they
    use, written in ``folder``; returns the notebook's path."""
    return _write_scratch_notebook


def _write_scratch_notebook(folder: Path) -> Path:
    """The notebook with the widget cells, and the picture they use, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    picture = Image.new("RGB", (160, 120), (90, 140, 200))
    drawing = ImageDraw.Draw(picture)
    drawing.ellipse((20, 20, 100, 100), fill=(240, 200, 40))  # a sun on the left, so a flip shows
    drawing.rectangle((0, 95, 160, 120), fill=(60, 150, 60))
    picture.save(folder / "picture.png")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    path = folder / "widgets.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server rooted at the repository, on a free loopback port with a token and its
    own settings folders (no news, no update checks); yields ``(base_url, token)``. Raises
    ``RuntimeError`` with the server's log when it is not answering within 60 s."""
    port, token = free_loopback_port(), secrets.token_hex(16)
    settings = tmp_path / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    environment = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
                       JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                       JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "lab-settings"),
                       JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={REPOSITORY}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--allow-root"],
        env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not start:\n" + (tmp_path / "jupyterlab.log").read_text())
                time.sleep(0.5)
        yield base_url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
