"""The README's notebook instructions, followed literally: a relative ``ALLENCV_DATA_DIR`` exported at the
repository root still finds the photos from a kernel that runs inside ``notebooks/``."""
import json
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]


def test_notebook_04_opens_on_the_photos_with_a_relative_variable_from_the_repository_root(cats_dogs_dir,
                                                                                           monkeypatch):
    relative = os.path.relpath(cats_dogs_dir.resolve(), REPO)  # e.g. ../shared/data/cats_dogs, as in CI
    assert not (REPO / "notebooks" / relative).exists()  # so only the repository root can resolve it
    notebook = nbformat.reads(json.dumps(json.loads((REPO / "notebooks/04_training.ipynb").read_text())), 4)
    first_code_cell = next(cell for cell in notebook.cells if cell.cell_type == "code")
    notebook.cells = [first_code_cell]
    monkeypatch.setenv("ALLENCV_DATA_DIR", relative)  # the kernel inherits this process's environment
    NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(REPO / "notebooks")}}).execute()
    printed = "".join(output.get("text", "") for output in first_code_cell.outputs)
    assert "images per label of 'cats_dogs' from $ALLENCV_DATA_DIR" in printed, printed
