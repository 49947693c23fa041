"""The thread policy: torch's threads and the loader's workers fit the cores while training."""
import pytest
import torch

from allencv_lite.training import cpu_threads
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.trainer import Trainer
from tests.training.test_trainer import LinearClassifier, batches


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


@pytest.mark.parametrize("num_workers, num_processes, default_threads, expected", [
    (0, 1, 4, 4),  # alone: every core
    (1, 1, 4, 3),  # a worker process takes a core
    (6, 1, 4, 1),  # more workers than cores: still one thread
    (0, 2, 4, 2),  # two training processes share the cores
    (0, 1, 2, 2),  # torch's default (its physical cores) below the logical ones
])
def test_training_threads_leave_a_core_to_each_worker_and_process(four_cores, num_workers, num_processes,
                                                                  default_threads, expected):
    assert cpu_threads.training_threads(num_workers, num_processes, default_threads) == expected


def test_the_threads_are_set_within_the_block_and_restored_after(four_cores, torch_threads_kept):
    torch.set_num_threads(4)
    with cpu_threads.threads_fitted_to_cores(num_workers=3) as threads:
        assert threads == torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4


def test_omp_num_threads_is_the_users_choice_and_left_alone(four_cores, torch_threads_kept, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    with cpu_threads.threads_fitted_to_cores(num_workers=2) as threads:
        assert threads == torch.get_num_threads() == 3


class ThreadRecorder(TrainerCallback):
    def __init__(self) -> None:
        self.threads = []

    def on_epoch_start(self, trainer, epoch) -> None:
        self.threads.append(torch.get_num_threads())


class LoaderWithWorkers(list):
    num_workers = 2


def test_the_trainer_trains_with_the_fitted_threads_and_restores_them(four_cores, torch_threads_kept):
    torch.set_num_threads(4)
    recorder = ThreadRecorder()
    Trainer.from_params({"optimizer": {"type": "sgd", "lr": 0.1}, "num_epochs": 2, "cuda_device": -1},
                        model=LinearClassifier(), train_data_loader=LoaderWithWorkers(batches(2, 4)),
                        callbacks=[recorder]).train()
    assert recorder.threads == [2, 2]  # 4 cores less 2 workers
    assert torch.get_num_threads() == 4
