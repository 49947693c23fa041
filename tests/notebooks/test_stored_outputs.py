"""The notebooks are committed executed top to bottom, so nbval has outputs to compare
(nbval silently skips the comparison for a cell that was never run)."""
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_the_eight_lessons_are_there():
    assert [path.name[:3] for path in NOTEBOOKS] == ["01_", "02_", "03_", "04_", "05_", "06_", "07_", "08_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_code_cell_was_run_in_order(path):
    notebook = nbformat.read(path, as_version=4)
    counts = [cell.execution_count for cell in notebook.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_the_first_cell_states_the_learning_goal(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and "**Goal:**" in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_code_cell_follows_a_sentence_saying_why(path):
    cells = nbformat.read(path, as_version=4).cells
    for previous, cell in zip(cells, cells[1:]):
        if cell.cell_type == "code" and cells.index(cell) > 1:
            assert previous.cell_type == "markdown", f"code cell {cell.id} has no explanation before it"


def test_every_notebook_names_the_same_kernel():
    """JupyterLab marks a notebook modified as it opens when its kernelspec differs from the kernel's."""
    kernelspecs = {path.name: nbformat.read(path, as_version=4).metadata.kernelspec for path in NOTEBOOKS}
    assert all(spec == {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
               for spec in kernelspecs.values()), kernelspecs
