"""Shared fixtures: the embedded digits data, the real Cats-vs-Dogs photos, and the browser the page tests drive."""
import os
import signal
from pathlib import Path

import pytest

from data_scripts.make_digits_dataset import write_digits


@pytest.fixture(scope="session", autouse=True)
def interruptible_commands():
    """Commands the tests start can be stopped with SIGINT, as from a terminal. A suite started in
    the background of a non-interactive shell (``pytest &``) inherits SIGINT ignored, and so would
    every command it starts, so the Ctrl-C tests would see them finish instead: Python's own
    handler is put back here, and ``exec`` resets a handled signal to the default in each child."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    """The embedded default dataset, written once per test session."""
    root = tmp_path_factory.mktemp("digits")
    write_digits(root)
    return root


@pytest.fixture(scope="session")
def cats_dogs_dir() -> Path:
    """``$ALLENCV_DATA_DIR`` (a folder with train/ and val/ of Cat/ and Dog/ photos), or skip."""
    value = os.environ.get("ALLENCV_DATA_DIR")
    if not value:
        pytest.skip("ALLENCV_DATA_DIR is not set; point it at a folder with train/ and val/ "
                    "(CI sets ../shared/data/cats_dogs)")
    root = Path(value)
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        pytest.skip(f"ALLENCV_DATA_DIR={root} has no train/ and val/ folders")
    return root


@pytest.fixture(scope="session")
def digits_archive(digits_dir, tmp_path_factory) -> Path:
    """``model.tar.gz`` of a tiny CNN trained for one epoch on the digits at 16×16 pixels
    (about 5 s on 2 CPU cores, roughly 45 % validation accuracy, so it makes real mistakes),
    for the tests of prediction, evaluation, archives and the web demo. Its training reader
    adds a random affine transform that its validation reader does not have."""
    from allencv_lite.training.from_config import train_model

    resize = {"type": "resize", "height": 16, "width": 16}
    normalize = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}
    config = {
        "dataset_reader": {"type": "image_classification_directory",
                           "augmentation": [resize, {"type": "affine", "rotate": [-10, 10], "p": 0.5}, normalize]},
        "validation_dataset_reader": {"type": "image_classification_directory", "augmentation": [resize, normalize]},
        "train_data_path": str(digits_dir / "train"),
        "validation_data_path": str(digits_dir / "val"),
        "model": {"type": "basic_image_classifier",
                  "im2im_encoder": {"type": "feedforward", "hidden_channels": [8, 16]},
                  "im2vec_encoder": {"type": "flatten", "input_channels": 16, "input_height": 1, "input_width": 1}},
        "iterator": {"type": "basic", "batch_size": 32},
        "trainer": {"num_epochs": 1, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 1e-2}},
    }
    serialization_dir = tmp_path_factory.mktemp("digits_run")
    train_model(config, serialization_dir, force=True)
    return serialization_dir / "model.tar.gz"


@pytest.fixture(scope="session")
def digits_export(digits_archive, tmp_path_factory):
    """``digits_archive`` exported to ONNX (``model.onnx``, ``model.json``, ``standalone_classify.py``)
    and verified on its 358 validation images: the ``ExportResult`` (about 10 s on 2 busy cores)."""
    from allencv_lite.export.onnx_export import export_onnx

    return export_onnx(digits_archive, tmp_path_factory.mktemp("digits_export") / "model.onnx")


@pytest.fixture(scope="session")
def center_crop_run(tmp_path_factory) -> Path:
    """The serialization folder of a linear model trained for one epoch on 48×48 images
    center-cropped to 32×32 (no resize first), whose training folder also holds ``Cat/small.png``,
    40×30 pixels: smaller than the crop."""
    from PIL import Image

    from allencv_lite.training.from_config import train_model

    root = tmp_path_factory.mktemp("center_crop_data")
    for label, color in (("Cat", (220, 20, 20)), ("Dog", (20, 20, 220))):
        (root / label).mkdir()
        for index in range(4):
            Image.new("RGB", (48, 48), color).save(root / label / f"{index}.png")
    Image.new("RGB", (40, 30), (220, 20, 20)).save(root / "Cat" / "small.png")
    config = {
        "dataset_reader": {"type": "image_classification_directory",
                           "augmentation": [{"type": "center_crop", "height": 32, "width": 32}]},
        "train_data_path": str(root),
        "model": {"type": "basic_image_classifier",
                  "im2vec_encoder": {"type": "flatten", "input_channels": 3, "input_height": 32, "input_width": 32}},
        "iterator": {"type": "basic", "batch_size": 4},
        "trainer": {"num_epochs": 1, "cuda_device": -1, "optimizer": {"type": "sgd", "lr": 0.01}},
    }
    serialization_dir = tmp_path_factory.mktemp("center_crop_run")
    train_model(config, serialization_dir, force=True)
    return serialization_dir
@pytest.fixture
def displayed():
    """An IPython shell whose displays are recorded: yields the list of published outputs,
    each ``{"data": mime bundle, "transient": {"display_id": ...} or None, "update": bool}``."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    publisher, shell.display_pub = shell.display_pub, CapturingDisplayPublisher()
    try:
        yield shell.display_pub.outputs
    finally:
        shell.display_pub = publisher
        InteractiveShell.clear_instance()


@pytest.fixture(scope="session")
def lesson_archive(cats_dogs_dir, tmp_path_factory) -> Path:
    """``model.tar.gz`` of the lesson's backbone as a fixed feature extractor: EfficientNet-Lite0
    from its offline ImageNet weights, frozen (batch norms too), with a linear head trained for
    2 epochs on 40 training photos per class at 128×128 pixels (about 30 s on 2 busy CPU
    cores). It tells cats from dogs well, so its Grad-CAM heatmaps can be checked on real photos."""
    from allencv_lite.training.from_config import train_model
    from allencv_lite.lessons import LessonData, sample_lesson_data

    sample = sample_lesson_data(LessonData(cats_dogs_dir, "cats_dogs", "ALLENCV_DATA_DIR"),
                                tmp_path_factory.mktemp("lesson_sample") / "data", train_per_label=40,
                                validation_per_label=10, seed=0)
    augmentation = [{"type": "resize", "height": 128, "width": 128},
                    {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]
    reader = {"type": "image_classification_directory", "augmentation": augmentation}
    config = {
        "dataset_reader": reader,
        "validation_dataset_reader": reader,
        "train_data_path": str(sample.train_path),
        "validation_data_path": str(sample.validation_path),
        "model": {"type": "basic_image_classifier",
                  "im2im_encoder": {"type": "timm", "model_name": "tf_efficientnet_lite0", "pretrained": True,
                                    "requires_grad": False, "freeze_batch_norm": True},
                  "im2vec_encoder": {"type": "global_average", "input_channels": 1280}},
        "iterator": {"type": "basic", "batch_size": 16, "shuffle": True},
        "trainer": {"num_epochs": 2, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 3e-3}},
    }
    serialization_dir = tmp_path_factory.mktemp("lesson_run")
    train_model(config, serialization_dir, force=True)
    return serialization_dir / "model.tar.gz"


REPOSITORY = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium_launch_options() -> dict:
    """Playwright's ``chromium.launch`` arguments for Debian's headless Chromium (never a downloaded
    browser). Skips the test (outside CI) or fails it (in CI, ``CI`` set) when Chromium or
    Playwright for Python is missing."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is absent (Debian package 'chromium'; .ci/run installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if missing and os.environ.get("CI"):
        pytest.fail(f"The browser test must run in CI, but {missing}.")
    if missing:
        pytest.skip(f"Browser test skipped: {missing}.")
    return {"executable_path": str(CHROMIUM),
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"]}


@pytest.fixture
def artifacts_dir() -> Path:
    """``test-artifacts/``, where the browser tests save their screenshots for a person to look at."""
    folder = REPOSITORY / "test-artifacts"
    folder.mkdir(exist_ok=True)
    return folder
