"""The thread policy: torch's threads, the loader's workers and other programs fit the cores while training."""
import pytest
import torch

from allencv_lite.training import cpu_threads
from allencv_lite.training.callbacks import TrainerCallback
from allencv_lite.training.trainer import Trainer
from tests.training.test_trainer import LinearClassifier, batches


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(cpu_threads, "usable_cores", lambda: 4)
    monkeypatch.setattr(cpu_threads, "busy_elsewhere", lambda own_threads: 0)
    for name in cpu_threads.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def torch_threads_kept():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("num_workers, num_processes, default_threads, busy, expected", [
    (0, 1, 4, 0, 4),  # alone: every core
    (1, 1, 4, 0, 3),  # a worker process takes a core
    (6, 1, 4, 0, 1),  # more workers than cores: still one thread
    (0, 2, 4, 0, 2),  # two training processes share the cores
    (0, 1, 2, 0, 2),  # torch's default (its physical cores) below the logical ones
    (0, 1, 4, 3, 4),  # other programs running on fewer than the spare cores: still every one
    (0, 1, 4, 4, 1),  # other programs fill the cores: one thread
    (1, 1, 4, 5, 1),
])
def test_training_threads_leave_a_core_to_each_worker_and_fall_to_one_on_a_full_machine(
        four_cores, num_workers, num_processes, default_threads, busy, expected):
    assert cpu_threads.training_threads(num_workers, num_processes, default_threads, busy) == expected


def test_busy_elsewhere_is_the_running_count_of_the_load_file_less_our_own(tmp_path, monkeypatch):
    load_file = tmp_path / "loadavg"
    load_file.write_text("6.00 6.23 4.79 4/142 19306\n")
    monkeypatch.setattr(cpu_threads, "LOAD_FILE", str(load_file))
    assert cpu_threads.busy_elsewhere(own_threads=1) == 3
    assert cpu_threads.busy_elsewhere(own_threads=6) == 0


def test_busy_elsewhere_is_zero_without_a_load_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu_threads, "LOAD_FILE", str(tmp_path / "missing"))
    assert cpu_threads.busy_elsewhere() == 0


def test_the_threads_are_set_within_the_block_and_restored_after(four_cores, torch_threads_kept):
    torch.set_num_threads(4)
    with cpu_threads.threads_fitted_to_cores(num_workers=3) as fit_threads:
        assert fit_threads() == torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4


def test_omp_num_threads_is_the_users_choice_and_left_alone(four_cores, torch_threads_kept, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    with cpu_threads.threads_fitted_to_cores(num_workers=2) as fit_threads:
        assert fit_threads() == torch.get_num_threads() == 3


class ThreadRecorder(TrainerCallback):
    def __init__(self) -> None:
        self.threads = []

    def on_epoch_start(self, epoch) -> None:
        self.threads.append(torch.get_num_threads())


class LoaderWithWorkers(list):
    num_workers = 2


def test_the_trainer_refits_the_threads_each_epoch_and_restores_them(four_cores, torch_threads_kept, monkeypatch):
    busy_at_each_epoch = iter([0, 2])
    monkeypatch.setattr(cpu_threads, "busy_elsewhere", lambda own_threads: next(busy_at_each_epoch))
    torch.set_num_threads(4)
    recorder = ThreadRecorder()
    Trainer.from_params({"optimizer": {"type": "sgd", "lr": 0.1}, "num_epochs": 2, "cuda_device": -1,
                         "callbacks": [recorder]},
                        model=LinearClassifier(), train_data_loader=LoaderWithWorkers(batches(2, 4))).train()
    assert recorder.threads == [2, 1]  # 4 cores less 2 workers; then 2 other busy threads fill those 2
    assert torch.get_num_threads() == 4
