"""The thread policy: torch's threads come from the config, or from the cores less the loader's workers."""
import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.training import cpu_threads
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.trainer import Trainer
from tests.helpers.in_memory_training import LinearClassifier, batches


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(cpu_threads, "usable_cores", lambda: 4)
    for name in cpu_threads.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def torch_threads_kept():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("num_workers, num_processes, num_threads, expected", [
    (0, 1, None, 4),  # alone: every core
    (1, 1, None, 3),  # a worker process takes a core
    (6, 1, None, 1),  # more workers than cores: still one thread
    (0, 2, None, 2),  # two training processes share the cores
    (1, 1, 2, 2),  # the config's number, whatever the cores
    (0, 1, 8, 8),
])
def test_training_threads_are_the_configured_number_or_the_cores_less_the_workers(
        four_cores, num_workers, num_processes, num_threads, expected):
    assert cpu_threads.training_threads(num_workers, num_processes, num_threads) == expected


def test_the_threads_are_set_within_the_block_and_restored_after(four_cores, torch_threads_kept):
    torch.set_num_threads(4)
    with cpu_threads.training_thread_count(num_workers=3) as threads:
        assert threads == torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4


def test_omp_num_threads_is_the_users_choice_unless_the_config_sets_num_threads(four_cores, torch_threads_kept,
                                                                                monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    with cpu_threads.training_thread_count(num_workers=2) as threads:
        assert threads == torch.get_num_threads() == 3
    with cpu_threads.training_thread_count(num_workers=2, num_threads=1) as threads:
        assert threads == torch.get_num_threads() == 1


class ThreadRecorder(TrainerCallback):
    def __init__(self) -> None:
        self.threads = []

    def on_epoch_start(self, epoch) -> None:
        self.threads.append(torch.get_num_threads())


class LoaderWithWorkers(list):
    num_workers = 2


@pytest.mark.parametrize("config, expected", [({}, [2, 2]), ({"num_threads": 1}, [1, 1])])
def test_the_trainer_computes_with_the_same_threads_every_epoch_and_restores_them(
        four_cores, torch_threads_kept, config, expected):
    torch.set_num_threads(4)
    recorder = ThreadRecorder()
    Trainer.from_params({"optimizer": {"type": "sgd", "lr": 0.1}, "num_epochs": 2, "cuda_device": -1,
                         "callbacks": [recorder], **config},
                        model=LinearClassifier(), train_data_loader=LoaderWithWorkers(batches(2, 4))).train()
    assert recorder.threads == expected  # 4 cores less 2 workers, or the config's number
    assert torch.get_num_threads() == 4


def test_num_threads_below_one_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigurationError, match=r"^trainer\.num_threads: must be at least 1, got 0\.$"):
        Trainer.from_params({"cuda_device": -1, "num_threads": 0}, "trainer", model=LinearClassifier(),
                            train_data_loader=batches(1, 4))
