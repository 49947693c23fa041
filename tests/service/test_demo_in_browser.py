"""The demo page in a real browser: Debian's headless Chromium driven by Playwright for Python.

The server runs as ``python -m allencv_lite.service.server_simple`` on a free loopback port;
the test uploads a photo through the page's file picker and checks what the page shows. A
screenshot is saved under ``test-artifacts/``. Without ``/usr/bin/chromium`` the test is
skipped, except in CI (``CI`` set), where it fails.
"""
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from allencv_lite.common.network import free_loopback_port

REPO = Path(__file__).resolve().parents[2]


def a_photo(tmp_path: Path) -> Path:
    """The first photo of ``$ALLENCV_DATA_DIR/val``, else a generated 160x120 JPEG."""
    data_dir = os.environ.get("ALLENCV_DATA_DIR")
    if data_dir and (Path(data_dir) / "val").is_dir():
        photos = sorted(p for p in (Path(data_dir) / "val").glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if photos:
            return photos[0]
    image = Image.fromarray(np.random.default_rng(0).integers(90, 160, (120, 160, 3), dtype=np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 20, 120, 100), fill=(240, 240, 240))
    draw.text((70, 55), "7", fill=(0, 0, 0))
    path = tmp_path / "generated.jpg"
    image.save(path, quality=90)
    return path


@contextmanager
def running_demo(archive: Path, title: str):
    """``python -m allencv_lite.service.server_simple`` for ``archive`` on a free loopback port; yields its URL."""
    port = free_loopback_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "allencv_lite.service.server_simple", "--archive-path", str(archive),
         "--predictor", "default_image", "--title", title, "--classification", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if server.poll() is not None:
                pytest.fail(f"The demo server exited with {server.returncode}:\n{server.stdout.read()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("The demo server did not answer within 90 s.")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def demo_url(digits_archive):
    """The digits demo, until the test ends."""
    with running_demo(digits_archive, "Digits Classifier") as url:
        yield url


def test_uploading_a_photo_shows_the_predicted_label_and_a_bar_per_label(demo_url, digits_predictor, tmp_path,
        chromium_launch_options, artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    photo = a_photo(tmp_path)
    expected = digits_predictor.predict_json({"image_path": str(photo)})
    ranked = sorted(expected["probabilities"].items(), key=lambda pair: -pair[1])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options)
        try:
            page = browser.new_page(viewport={"width": 960, "height": 720})
            page.goto(demo_url)
            expect(page).to_have_title("Digits Classifier")
            page.set_input_files("#file-input", str(photo))

            expect(page.locator("#prediction")).to_be_visible(timeout=30_000)
            expect(page.locator("#predicted-label")).to_have_text(expected["label"])
            expect(page.locator("#predicted-probability")).to_have_text(f"{100 * ranked[0][1]:.1f}%")
            rows = page.locator(".bar-row")
            expect(rows).to_have_count(len(ranked))
            assert [rows.nth(i).get_attribute("data-label") for i in range(len(ranked))] == [l for l, _ in ranked]
            assert page.locator(".bar-value").all_inner_texts() == [f"{100 * p:.1f}%" for _, p in ranked]
            fractions = page.eval_on_selector_all(
                ".bar", "bars => bars.map(b => b.getBoundingClientRect().width / b.parentElement.getBoundingClientRect().width)")
            assert fractions == pytest.approx([p for _, p in ranked], abs=0.01)
            assert page.eval_on_selector("#preview", "img => img.complete && img.naturalWidth > 0")

            screenshot = artifacts_dir / "demo_in_browser.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    print(f"screenshot: {screenshot}")
    assert screenshot.stat().st_size > 0


@pytest.mark.parametrize("name, data, sentence", [
    ("notes.jpg", b"These are my notes, not a photo.",
     "That file is not an image we can read. Choose a JPEG, PNG, GIF, BMP, TIFF or WebP picture."),
    ("empty.png", b"", "That is an empty file: there is no picture in it. Choose a JPEG, PNG, GIF, BMP, TIFF or WebP "
                       "picture."),
])
def test_a_bad_upload_shows_a_sentence_and_no_broken_image(demo_url, tmp_path, name, data, sentence,
        chromium_launch_options, artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    bad_file = tmp_path / name
    bad_file.write_bytes(data)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options)
        try:
            page = browser.new_page(viewport={"width": 960, "height": 720})
            missing = []
            page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
            page.goto(demo_url)
            page.set_input_files("#file-input", str(bad_file))

            expect(page.locator("#status")).to_have_text(sentence, timeout=30_000)
            expect(page.locator("#preview-panel")).to_be_hidden()  # no broken-image icon
            expect(page.locator("#prediction")).to_be_hidden()
            page.screenshot(path=str(artifacts_dir / f"demo_bad_upload_{Path(name).stem}.png"), full_page=True)
            assert urllib.request.urlopen(demo_url + "favicon.ico", timeout=10).status == 200
            assert missing == []  # the favicon included
        finally:
            browser.close()


def test_with_the_explain_box_ticked_the_page_shows_the_grad_cam_overlay_of_a_cat(lesson_archive, cats_dogs_dir,
        chromium_launch_options, artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    from allencv_lite.models.archival import load_archive
    from allencv_lite.predictors import Predictor

    predictor = Predictor.from_archive(load_archive(lesson_archive), "default_image")
    cats = sorted((cats_dogs_dir / "val" / "Cat").iterdir())[:5]
    photo = max(cats, key=lambda cat: predictor.predict_json({"image_path": str(cat)})["probabilities"]["Cat"])
    expected = predictor.predict_json({"image_path": str(photo), "explain": True})
    with running_demo(lesson_archive, "Cats and Dogs Classifier") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options)
        try:
            page = browser.new_page(viewport={"width": 960, "height": 720})
            page.goto(url)
            expect(page.locator("#explanation-panel")).to_be_hidden()
            page.check("#explain")
            page.set_input_files("#file-input", str(photo))

            expect(page.locator("#explanation-panel")).to_be_visible(timeout=60_000)
            expect(page.locator("#predicted-label")).to_have_text(expected["label"])
            assert page.eval_on_selector("#explanation", "img => img.src") == expected["explanation"]
            page.wait_for_function("document.getElementById('explanation').naturalWidth > 0")
            natural = page.eval_on_selector("#explanation", "img => [img.naturalWidth, img.naturalHeight]")
            width, height = Image.open(photo).size  # the overlay is the photo as decoded (JPEG draft mode may halve it)
            assert natural[0] / natural[1] == pytest.approx(width / height, rel=0.02)

            screenshot = artifacts_dir / "demo_grad_cam_in_browser.png"
            page.screenshot(path=str(screenshot), full_page=True)

            page.uncheck("#explain")  # asks again, without the overlay
            expect(page.locator("#explanation-panel")).to_be_hidden(timeout=60_000)
            expect(page.locator("#prediction")).to_be_visible(timeout=60_000)
        finally:
            browser.close()
    print(f"screenshot: {screenshot}")
