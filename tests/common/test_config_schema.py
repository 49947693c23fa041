"""The config's schema is the constructors' signatures: every "accepted keys" list is exactly the
keys a config may hold, and every misconfiguration is reported once, with its whole key path."""
import ast
import inspect
import re
from pathlib import Path

import pytest
import torch

import allencv_lite
from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.from_params import FromParams
from allencv_lite.common.registrable import Registrable
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.optimizers import Optimizer
from allencv_lite.training.trainer import Trainer
from tests.helpers.package_modules import import_every_module

# The arguments the code passes to each base's constructors, which therefore are not config keys
# (training/from_config.py, models/archival.py, Trainer.from_partial_objects).
TRAINER_OBJECTS = ("model", "train_data_loader", "validation_data_loader", "serialization_dir")
CODE_PASSED = {"Model": ("vocab",), "Optimizer": ("model_parameters",),
               "LearningRateScheduler": ("optimizer", "training_length"),
               "TrainerCallback": TRAINER_OBJECTS, "Trainer": TRAINER_OBJECTS}


def every_registered_type():
    import_every_module()
    return [(base, name) for base in list(Registrable._registry) if issubclass(base, FromParams)
            for name in base.list_available()]


def accepted_keys(base, name):
    """The "Accepted keys" list of the error for a key no constructor takes."""
    extras = {argument: None for argument in CODE_PASSED.get(base.__name__, ())}
    with pytest.raises(ConfigurationError) as error:
        base.from_params({"type": name, "no_such_key": 1}, "block", **extras)
    message = str(error.value)
    assert message.startswith("block: unexpected key(s) ['no_such_key'] for ")
    return ast.literal_eval(message[message.index("Accepted keys: ") + len("Accepted keys: "):-1])


def config_parameters(base, name):
    """The constructor's named arguments, less those the code passes."""
    constructor = base.by_name(name)
    return [argument for argument, parameter in inspect.signature(constructor).parameters.items()
            if argument not in CODE_PASSED.get(base.__name__, ())
            and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)]


def test_every_registered_type_lists_exactly_its_constructors_config_parameters():
    registered = every_registered_type()
    assert {base.__name__ for base, _ in registered} >= {"Augmentation", "DatasetReader", "DataLoaderFactory",
                                                         "Im2ImEncoder", "Im2VecEncoder", "Model", "Optimizer",
                                                         "LearningRateScheduler", "Trainer"}
    wrong = {f"{base.__name__} '{name}'": (accepted_keys(base, name), config_parameters(base, name))
             for base, name in registered if accepted_keys(base, name) != config_parameters(base, name)}
    assert wrong == {}


def test_the_trainer_block_accepts_the_optimizer_scheduler_callbacks_and_no_grad_and_nothing_the_code_passes():
    assert accepted_keys(Trainer, "gradient_descent") == [
        "optimizer", "learning_rate_scheduler", "callbacks", "no_grad", "num_epochs", "patience", "validation_metric",
        "cuda_device", "should_log_learning_rate", "grad_norm", "grad_clipping", "num_gradient_accumulation_steps",
        "num_serialized_models_to_keep", "use_amp", "num_threads", "calibrate", "linear_probe_first"]


def test_an_optimizer_block_accepts_parameter_groups_then_torchs_own_arguments():
    assert accepted_keys(Optimizer, "sgd")[:3] == ["parameter_groups", "lr", "momentum"]


class Linear(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 2)


def build_trainer(block, serialization_dir=None):
    """Build the ``trainer`` block as the train command does."""
    batches = [{"image": torch.zeros(2, 2), "label": torch.zeros(2, dtype=torch.long)}] * 4
    return Trainer.from_params(block, "trainer", model=Linear(), train_data_loader=batches,
                               validation_data_loader=None, serialization_dir=serialization_dir)


@TrainerCallback.register("counting_epochs")
class CountingEpochs(TrainerCallback):
    """A registered callback, so that a misspelt name has a name to be close to."""

    def __init__(self, serialization_dir=None, every: int = 1) -> None:
        self.serialization_dir = serialization_dir
        self.every = every


@pytest.mark.parametrize("block, message", [
    ({"optimizr": {"lr": 0.1}}, "trainer: unexpected key(s) ['optimizr'] for Trainer.from_partial_objects. "
                                "Did you mean 'optimizer'?"),
    ({"validation_data_loader": {}}, "trainer: unexpected key(s) ['validation_data_loader']"),
    ({"callbacks": [{"type": "counting_epoch"}]},
     "trainer.callbacks[0].type: 'counting_epoch' is not a registered TrainerCallback. Did you mean 'counting_epochs'?"),
    ({"callbacks": [{"type": "counting_epochs", "evry": 2}]},
     "trainer.callbacks[0]: unexpected key(s) ['evry'] for CountingEpochs. Did you mean 'every'?"),
    ({"patience": 0}, "trainer.patience: must be a positive number of epochs, got 0."),
    ({"num_gradient_accumulation_steps": 0}, "trainer.num_gradient_accumulation_steps: must be at least 1, got 0."),
    ({"validation_metric": "accuracy"}, "trainer.validation_metric: 'accuracy' must start with +"),
    ({"no_grad": ["^encoder"]}, "trainer.no_grad[0]: '^encoder' matches no parameter; names look like 'layer.weight'."),
    ({"optimizer": {"type": "sgd", "lr": 0.1, "parameter_groups": [[["^head"]]]}},
     "trainer.optimizer.parameter_groups[0]: regex '^head' matches no trainable parameter."),
    ({"optimizer": {"type": "sgd", "lr": -1.0}}, "trainer.optimizer: Invalid learning rate: -1.0"),
    ({"learning_rate_scheduler": {"type": "slanted_triangular", "cut_frac": 1.5}},
     "trainer.learning_rate_scheduler.cut_frac: must be in (0, 1), got 1.5."),
    ({"learning_rate_scheduler": {"type": "linear_with_warmup", "warmup_steps": 10}, "num_epochs": 2},
     "trainer.learning_rate_scheduler.warmup_steps: must be in [0, 8) (the run's optimizer steps), got 10."),
    ({"learning_rate_scheduler": {"type": "step", "step_size": "one"}},
     "trainer.learning_rate_scheduler.step_size: expected an integer, got 'one'"),
])
def test_each_trainer_misconfiguration_names_its_whole_key_path(block, message):
    with pytest.raises(ConfigurationError) as error:
        build_trainer({"cuda_device": -1, **block})
    assert str(error.value).startswith(message)


def test_a_checkpointing_error_names_the_trainer_key(tmp_path):
    with pytest.raises(ConfigurationError, match=re.escape("trainer.num_serialized_models_to_keep: must be at least 1")):
        build_trainer({"cuda_device": -1, "num_serialized_models_to_keep": 0}, tmp_path)


def test_a_registered_callback_is_built_from_the_config_with_the_serialization_dir(tmp_path):
    batches = [{"image": torch.zeros(2, 2), "label": torch.zeros(2, dtype=torch.long)}]
    trainer = Trainer.from_params({"cuda_device": -1, "callbacks": [{"type": "counting_epochs", "every": 2}]},
                                  "trainer", model=Linear(), train_data_loader=batches, serialization_dir=tmp_path)
    [callback] = trainer.callbacks
    assert isinstance(callback, CountingEpochs) and callback.every == 2 and callback.serialization_dir == tmp_path


@pytest.mark.parametrize("loader_key", ["data_loader", "iterator"])
def test_a_data_loader_error_names_the_key_the_config_uses(loader_key):
    with pytest.raises(ConfigurationError, match=re.escape(f"{loader_key}.batch_size: must be at least 1, got 0.")):
        DataLoaderFactory.from_params({"batch_size": 0}, loader_key)


def test_a_reader_error_names_the_reader_block_it_is_in():
    with pytest.raises(ConfigurationError, match=re.escape(
            "validation_dataset_reader.bbox_format: 'yolo' is not one of ['pascal_voc', 'coco'].")):
        DatasetReader.from_params({"type": "image_classification_directory", "bbox_format": "yolo"},
                                  "validation_dataset_reader")


def test_an_augmentation_step_error_names_the_step_in_the_reader_block():
    with pytest.raises(ConfigurationError, match=re.escape(
            "validation_dataset_reader.augmentation[0]: unexpected key(s) ['limt'] for Rotate. Did you mean 'limit'?")):
        DatasetReader.from_params({"type": "image_classification_directory",
                                   "augmentation": [{"type": "rotate", "limt": 15}]}, "validation_dataset_reader")


def test_no_class_writes_its_own_from_params():
    package = Path(allencv_lite.__file__).parent
    writers = [str(path.relative_to(package)) for path in sorted(package.rglob("*.py"))
               if "def from_params(" in path.read_text(encoding="utf-8")]
    assert writers == ["common/from_params.py"]
