"""The image collector as people use it: in a real JupyterLab in headless Chromium, with Chromium's
fake camera (``--use-fake-device-for-media-stream``, which shows a moving test pattern, and
``--use-fake-ui-for-media-stream``, which grants the permission prompt). A webcam frame and a
dropped file both end up as JPEGs in the right class folder, removing a thumbnail removes its
file, and the directory reader reads the saved dataset back. Screenshots go to
test-artifacts/jupyterlab/.
"""
import base64
import io
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image

from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader

REPOSITORY = Path(__file__).resolve().parents[2]
FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def png_bytes(color) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="PNG")
    return buffer.getvalue()


def is_jpeg(path) -> bool:
    with Image.open(path) as image:
        return image.format == "JPEG"


def is_a_frame_of_the_test_pattern(path) -> bool:
    """Chromium's fake camera shows a green pattern; a frame taken before the video has one is black."""
    with Image.open(path) as image:
        return image.size == (640, 480) and np.asarray(image)[..., 1].mean() > 60


def test_webcam_frames_and_dropped_files_become_jpegs_in_their_class_folder(chromium_launch_options, artifacts_dir,
                                                                           jupyterlab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base_url, token = jupyterlab
    folder = tmp_path / "collected"
    artifacts = artifacts_dir / "jupyterlab"
    artifacts.mkdir(exist_ok=True)
    notebook = artifacts / "image_collector.ipynb"
    nbformat.write(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(f"from allencv_lite.widgets import ImageCollector\n\n"
                                         f"collector = ImageCollector({str(folder)!r}, labels=['Cat', 'Dog'])\n"
                                         "collector")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}}),
        notebook)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**dict(chromium_launch_options,
                                                    args=chromium_launch_options["args"] + FAKE_CAMERA), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base_url}/lab/tree/{notebook.relative_to(REPOSITORY).as_posix()}?token={token}",
                      timeout=60_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                   "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
            page.evaluate("""async () => {
                await window.jupyterapp.shell.currentWidget.sessionContext.ready;
                await window.jupyterapp.commands.execute('notebook:run-all-cells');
            }""")
            collector = page.locator(".allencv-image-collector")
            expect(collector).to_be_visible(timeout=90_000)
            cat, dog = (collector.locator(f".allencv-collector-class[data-label='{label}']") for label in ("Cat", "Dog"))

            collector.locator("button.allencv-collector-webcam-toggle").click()
            page.wait_for_function("[...document.querySelectorAll('.allencv-collector-webcam')]"
                                   ".some(video => video.videoWidth > 0)", timeout=30_000)
            for expected in ("1 image", "2 images"):
                dog.locator("button.allencv-collector-capture").click()
                expect(dog.locator(".allencv-collector-count")).to_have_text(expected, timeout=30_000)
            assert sorted(path.name for path in (folder / "Dog").iterdir()) == ["webcam.jpg", "webcam_2.jpg"]
            assert all(is_jpeg(path) and is_a_frame_of_the_test_pattern(path) for path in (folder / "Dog").iterdir())

            dropped = page.evaluate_handle("""base64 => {
                const bytes = Uint8Array.from(atob(base64), character => character.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
                return transfer;
            }""", base64.b64encode(png_bytes((200, 120, 40))).decode("ascii"))
            cat.dispatch_event("dragover", {"dataTransfer": dropped})
            cat.dispatch_event("drop", {"dataTransfer": dropped})
            expect(cat.locator(".allencv-collector-count")).to_have_text("1 image", timeout=30_000)
            assert [path.name for path in (folder / "Cat").iterdir()] == ["dropped.jpg"]
            assert is_jpeg(folder / "Cat" / "dropped.jpg")
            expect(cat.locator(".allencv-collector-thumbnail img")).to_have_count(1)
            # each new image redraws the view (the saved picture changes): the camera stays on
            expect(collector.locator("button.allencv-collector-webcam-toggle")).to_have_text("Stop webcam")
            page.screenshot(path=artifacts / "image_collector.png")

            dog.locator(".allencv-collector-thumbnail[title='webcam_2.jpg'] button.allencv-collector-remove").click()
            expect(dog.locator(".allencv-collector-count")).to_have_text("1 image", timeout=30_000)
            assert [path.name for path in (folder / "Dog").iterdir()] == ["webcam.jpg"]
            expect(collector.locator(".allencv-collector-message")).to_have_text(
                "Removed Dog/webcam_2.jpg (file deleted).")

            outputs = page.locator(".jp-OutputArea-output")
            expect(outputs.filter(has_text="Error displaying widget")).to_have_count(0)
        finally:
            browser.close()
    dataset = ImageClassificationDirectoryReader().read(folder)
    assert sorted((label, Path(path).name) for path, label in dataset.samples) == [("Cat", "dropped.jpg"),
                                                                                    ("Dog", "webcam.jpg")]
