"""Numbers the notebooks' prose quotes agree with what the code does and with the measurements recorded."""
import json
import re
from pathlib import Path

import torch

from allencv_lite.common.params import load_config
from allencv_lite.training import LearningRateScheduler
from allencv_lite.training.optimizers import REGEXES_KEY
from allencv_lite.training.trainer import describe_trainable_groups

REPO = Path(__file__).resolve().parents[2]


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
