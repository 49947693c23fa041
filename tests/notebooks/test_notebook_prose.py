"""Numbers the notebooks' prose quotes agree with what the code does and with the measurements recorded."""
import json
import re
from pathlib import Path
from typing import List

import nbformat
import pytest

import torch

from allencv_lite.common.params import load_config
from allencv_lite.training import LearningRateScheduler
from allencv_lite.training.optimizers import REGEXES_KEY
from allencv_lite.training.trainer import describe_trainable_groups

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
QUOTED_OUTPUT = re.compile(r"<output>(.*?)</output>")  # HTML's element for "the result of a calculation"


def misquoted_outputs(notebook: nbformat.NotebookNode) -> List[str]:
    """Each value that a markdown cell marks as quoted from an output (``<output>0.037</output>``)
    but that no stored text output of the notebook contains, as ``"cell 15: '0.037'"``."""
    stored = "\n".join(output.get("text", "") + output.get("data", {}).get("text/plain", "")
                       for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", []))
    return [f"cell {index}: {quoted!r}" for index, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"
            for quoted in QUOTED_OUTPUT.findall(cell.source) if quoted not in stored]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_value_the_prose_quotes_from_an_output_is_in_the_stored_outputs(path):
    assert misquoted_outputs(nbformat.read(path, as_version=4)) == []


def test_the_lessons_mark_the_values_their_prose_quotes_from_outputs():
    quoted = [value for path in NOTEBOOKS for cell in nbformat.read(path, as_version=4).cells
              if cell.cell_type == "markdown" for value in QUOTED_OUTPUT.findall(cell.source)]
    assert quoted, "no <output>...</output> marks: the prose check above would check nothing"


def test_a_quoted_value_missing_from_the_outputs_is_named_with_its_cell():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print(0.99)", outputs=[nbformat.v4.new_output("stream", text="0.99\n")]),
        nbformat.v4.new_markdown_cell("Accuracy <output>0.99</output>, loss <output>0.037</output>.")])
    assert misquoted_outputs(notebook) == ["cell 1: '0.037'"]


def markdown_of(notebook: str) -> str:
    cells = json.loads((REPO / "notebooks" / notebook).read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def test_notebook_03_and_the_readme_quote_the_recorded_from_scratch_accuracy():
    results = (REPO / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    measured = re.search(r"^\| `cats_dogs_cpu\.jsonnet` \|.*best validation accuracy ([\d.]+) %", results,
                         re.MULTILINE).group(1)
    quoted = re.findall(r"Training from scratch on 2000 photos reached ([\d.]+) % validation accuracy",
                        markdown_of("03_encoders_and_classifier.ipynb"))
    assert quoted == [measured]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"^\| \[`cats_dogs_cpu\.jsonnet`\].*\| ([\d.]+) % best validation accuracy", readme,
                      re.MULTILINE) == [measured]


def test_notebook_04s_schedule_prose_is_what_the_lesson_config_does_and_logs():
    prose = " ".join(markdown_of("04_training.ipynb").split())
    config = load_config(REPO / "training_config/cats_dogs_lesson.jsonnet",
                         ext_vars={"TRAIN_PATH": "unused", "VALIDATION_PATH": "unused"})
    block = config["trainer"]["learning_rate_scheduler"]
    num_groups = len(config["trainer"]["optimizer"]["parameter_groups"])
    optimizer = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], REGEXES_KEY: regexes}
                                 for (regexes, *_) in config["trainer"]["optimizer"]["parameter_groups"]], lr=1e-3)
    scheduler = LearningRateScheduler.from_params(block, optimizer=optimizer, num_epochs=3, num_steps_per_epoch=10)
    top_group = num_groups - 1  # what the trainer logs when it freezes as the scheduler requests
    assert describe_trainable_groups(0, scheduler.trainable_groups(0)) == \
        f"Gradual unfreezing: epoch 1 trains groups [{top_group}]."
    assert f"epoch 1 trains only the top group (the classifier; the log says `Gradual unfreezing: epoch 1 trains " \
           f"groups [{top_group}]`)" in prose
    assert f"each group's rate is {block['decay_factor']} × the rate of the group above" in prose
    assert f"for the first {round(100 * scheduler.cut_frac)} % of steps" in prose
    assert f"linearly to 1/{scheduler.ratio} of the peak" in prose
