"""Notebook 07 as a learner first sees it: rendered to HTML by ``jupyter nbconvert`` and opened in
headless Chromium, its top-losses grid shows the Grad-CAM heatmaps. The screenshot is saved to
``test-artifacts/notebook07_top_losses_heatmaps.png``."""
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "07_why_is_my_model_wrong.ipynb"


def test_the_saved_top_losses_grid_shows_its_heatmaps_in_a_browser(tmp_path, chromium_launch_options, artifacts_dir):
    from playwright.sync_api import sync_playwright

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (index,) = [i for i, cell in enumerate(notebook.cells)
                if cell.cell_type == "code" and "plot_top_losses(" in cell.source and "heatmap=True" in cell.source]
    page_file = tmp_path / "07.html"
    page_file.write_text(HTMLExporter().from_notebook_node(notebook)[0], encoding="utf-8")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(page_file.as_uri())
            grid = page.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output img")
            assert grid.count() == 1
            width = grid.evaluate("image => image.complete ? image.naturalWidth : 0")
            assert width > 400  # the figure decoded: a grid of photos, not a broken-image icon
            grid.screenshot(path=str(artifacts_dir / "notebook07_top_losses_heatmaps.png"))
        finally:
            browser.close()
