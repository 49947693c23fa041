"""The three notebook widgets, seen in a real JupyterLab in headless Chromium (the panel also
with its Grad-CAM heatmap toggle down).

JupyterLab (the ``jupyterlab`` fixture of conftest.py) serves a scratch notebook under
test-artifacts/ (git-ignored) that holds one cell per widget; Playwright drives the Debian
Chromium at /usr/bin/chromium (never a downloaded browser). Screenshots go to
test-artifacts/jupyterlab/.
"""
import base64
import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def screenshot(locator, path: Path, attempts: int = 10) -> None:
    """``locator.screenshot(path=path)``, again when the element is replaced meanwhile: a
    widget's output redraws its live view when the widget sends its new saved picture (Playwright
    then finds the old node detached, or, mid-redraw on a busy machine, not visible)."""
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            locator.screenshot(path=path, timeout=5_000)
            return
        except Error as error:
            if not any(redrawn in str(error) for redrawn in ("not attached", "not visible")) or attempt == attempts - 1:
                raise


def test_the_three_widgets_render_and_the_panel_classifies_dropped_and_chosen_images(
        chromium_launch_options, artifacts_dir, jupyterlab, write_scratch_notebook):
    from playwright.sync_api import expect, sync_playwright

    base_url, token = jupyterlab
    artifacts = artifacts_dir / "jupyterlab"
    notebook = write_scratch_notebook(artifacts)
    relative = notebook.relative_to(REPOSITORY).as_posix()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base_url}/lab/tree/{relative}?token={token}", timeout=60_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                   "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
            page.evaluate("""async () => {
                const panel = window.jupyterapp.shell.currentWidget;
                await panel.sessionContext.ready;
                await window.jupyterapp.commands.execute('notebook:run-all-cells');
            }""")

            explorer = page.locator(".allencv-augmentation-explorer")
            expect(explorer).to_be_visible(timeout=90_000)
            expect(explorer.locator("img")).to_have_count(5)
            expect(explorer.locator(".allencv-augmentation-config")).to_contain_text('"type": "flip"')
            # A tick in the browser sends the explorer's new picture to its output, which
            # redraws the live view: still one explorer, with the new config and its images.
            explorer.locator(".widget-checkbox", has_text="rotate").locator("input").click()
            expect(explorer.locator(".allencv-augmentation-config")).to_contain_text('"type": "rotate"')
            expect(page.locator(".allencv-augmentation-explorer")).to_have_count(1)
            expect(explorer.locator("img")).to_have_count(5)
            screenshot(explorer, artifacts / "augmentation_explorer.png")

            curves = page.locator(".allencv-live-training-curves")
            expect(curves).to_contain_text("epoch 3/3: training loss", timeout=90_000)
            assert curves.locator("img").evaluate("image => image.naturalWidth") == 960
            expect(page.locator(".allencv-live-training-curves")).to_have_count(1)
            screenshot(curves, artifacts / "live_training_curves.png")

            panel = page.locator(".allencv-prediction-panel")
            expect(panel).to_be_visible(timeout=60_000)
            dropped = page.evaluate_handle("""base64 => {
                const bytes = Uint8Array.from(atob(base64), character => character.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
                return transfer;
            }""", base64.b64encode((artifacts / "picture.png").read_bytes()).decode("ascii"))
            drop_zone = panel.locator(".allencv-drop-zone")
            drop_zone.dispatch_event("dragover", {"dataTransfer": dropped})
            drop_zone.dispatch_event("drop", {"dataTransfer": dropped})
            expect(panel).to_contain_text("dropped.png: Dog (99.3%)", timeout=30_000)
            expect(panel.locator(".widget-hprogress")).to_have_count(2)

            with page.expect_file_chooser() as chooser:
                panel.locator("button.allencv-choose-image").click()
            chooser.value.set_files(str(artifacts / "picture.png"))
            expect(panel).to_contain_text("picture.png: Dog (99.3%)", timeout=30_000)
            expect(panel.locator(".allencv-predicted-label")).to_have_text("Dog")
            screenshot(panel, artifacts / "prediction_panel.png")

            picture = panel.locator(".widget-image")
            plain = picture.get_attribute("src")
            toggle = panel.locator("button.widget-toggle-button", has_text="Grad-CAM heatmap")
            toggle.click()
            expect(toggle).to_have_class(re.compile("mod-active"))
            expect(picture).not_to_have_attribute("src", plain, timeout=30_000)  # the overlay replaced the picture
            assert picture.evaluate("image => image.complete && image.naturalWidth") == 160
            screenshot(panel, artifacts / "prediction_panel_heatmap.png")

            outputs = page.locator(".jp-OutputArea-output")
            expect(outputs.filter(has_text="Loading widget")).to_have_count(0)
            expect(outputs.filter(has_text="Error displaying widget")).to_have_count(0)
            page.screenshot(path=artifacts / "notebook.png", full_page=True)
        finally:
            browser.close()
