"""Devices and data-parallel training over several processes (PyTorch DistributedDataParallel).

One process trains per device. Each process builds the same model from the same config and
seeds, reads its own shard of every training batch (``DistributedSampler``), and DDP averages
the gradients after each backward pass, so the processes stay identical: training on W
processes with W × b images each equals training one process on batches of W × b images
(up to batch-norm statistics, which each process computes on its own images).

Processes are started either by ``torch.multiprocessing`` (``cuda_device`` is a list: one
process per entry, on this machine) or by ``torchrun`` (one or many machines), which sets the
environment variables ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` read here. Process 0 (the *main* process) validates and writes every file.
"""
import logging
import os
from typing import Any, Callable, Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torchmetrics
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.common.devices import select_device
from allencv_lite.common.network import free_loopback_port

logger = logging.getLogger(__name__)

CudaDevice = Optional[Union[int, List[int]]]


def launched_as_worker() -> bool:
    """Whether this process is one of several started by ``torchrun`` or :func:`spawn`."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def is_distributed() -> bool:
    """Whether a process group with more than one process is running."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's index among all processes (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    """The number of processes training together (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """Process 0: the one that validates, logs progress and writes files."""
    return rank() == 0


def resolve_device(cuda_device: CudaDevice) -> torch.device:
    """The device this process trains on.

    ``None``: the GPU of this process (``LOCAL_RANK``, 0 alone) if CUDA is available, else the
    CPU. ``-1``: the CPU. ``N``: GPU N, or under ``torchrun`` the GPU ``LOCAL_RANK`` (one GPU
    per process). A list: entry ``LOCAL_RANK`` of it (-1 entries are CPU processes). The
    chosen number then follows :func:`~allencv_lite.common.devices.select_device`: a GPU asked
    for on a machine without CUDA falls back to the CPU with a warning, so a config written
    for a GPU still runs on a laptop.

    Raises:
        ConfigurationError: the list has no entry for ``LOCAL_RANK``; the GPU does not exist.
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if isinstance(cuda_device, list):
        if local_rank >= len(cuda_device):
            raise ConfigurationError(f"trainer.cuda_device: {cuda_device} has no entry for local process {local_rank}; "
                                     "start as many processes per machine as the list has devices.")
        cuda_device = cuda_device[local_rank]
    elif cuda_device is not None and cuda_device >= 0 and launched_as_worker():
        cuda_device = local_rank
    elif cuda_device is None and torch.cuda.is_available():
        cuda_device = local_rank
    return select_device(cuda_device, "trainer.cuda_device")


def init_process_group(device: torch.device) -> None:
    """Join the process group described by the environment (``nccl`` on GPUs, ``gloo`` on CPUs)."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", init_method="env://")
    devices = [None] * dist.get_world_size()
    dist.all_gather_object(devices, str(device))
    log_on_main_process_only()
    logger.info("Training on %d processes (%s): %s.", dist.get_world_size(), dist.get_backend(),
                ", ".join(f"process {index} on {name}" for index, name in enumerate(devices)))


def log_on_main_process_only() -> None:
    """Keep only errors from allencv-lite's loggers in processes other than process 0, which
    would otherwise print every line (progress, skipped files, epoch summaries) once each."""
    if not is_main_process():
        logging.getLogger("allencv_lite").setLevel(logging.ERROR)


def destroy_process_group() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _run_worker(local_rank: int, world: int, port: int, worker: Callable[..., Any], args: tuple) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(local_rank),
                       "LOCAL_RANK": str(local_rank), "WORLD_SIZE": str(world)})
    if "OMP_NUM_THREADS" not in os.environ:  # share the cores instead of each process using all of them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    worker(*args)


def spawn(worker: Callable[..., Any], num_processes: int, args: tuple = ()) -> None:
    """Run ``worker(*args)`` in ``num_processes`` new processes on this machine, each with the
    environment ``torchrun`` would give it and its share of the CPU cores (as torch threads),
    and wait for all of them.

    Raises:
        torch.multiprocessing.ProcessRaisedException: a worker failed (its traceback is shown).
    """
    torch.multiprocessing.spawn(_run_worker, args=(num_processes, free_loopback_port(), worker, args),
                                nprocs=num_processes, join=True)


def shard_data_loader(loader: DataLoader) -> DataLoader:
    """The same loader (same class and settings), giving this process its share of each batch.

    ``loader.batch_size`` is the global batch: each of W processes loads ``batch_size / W``
    images per step, so a config means the same training on any number of devices. The
    order is shuffled (if ``loader`` shuffles) from a seed shared by all processes
    (``torch.initial_seed()``) and the epoch (``sampler.set_epoch``). When the images do not
    split evenly, PyTorch's ``DistributedSampler`` repeats the first few of each epoch's order
    so that every process gets as many (5 images on 2 processes: 3 each, 6 per epoch); a
    warning says so (logged by process 0 only, see :func:`log_on_main_process_only`).

    Raises:
        ConfigurationError: ``loader`` is not a ``DataLoader``, or its batch size is not a
            multiple of the number of processes.
    """
    if not is_distributed() or isinstance(getattr(loader, "sampler", None), DistributedSampler):
        return loader
    if not isinstance(loader, DataLoader) or loader.batch_size is None:
        raise ConfigurationError(f"Distributed training needs a torch DataLoader with a batch_size, got {loader!r}.")
    processes = world_size()
    if loader.batch_size % processes:
        raise ConfigurationError(f"The training data loader's batch_size, {loader.batch_size} images per step, cannot be "
                                 f"split evenly over {processes} processes; use a multiple of {processes}.")
    sampler = DistributedSampler(loader.dataset, num_replicas=processes, rank=rank(), drop_last=loader.drop_last,
                                 shuffle=isinstance(loader.sampler, RandomSampler), seed=torch.initial_seed() % 2**31)
    padding = sampler.total_size - len(loader.dataset)
    if padding > 0:
        logger.warning("%d training images do not split evenly over %d processes: each epoch the sampler repeats %d "
                       "of them (the first of its order) so that every process gets %d, and an epoch trains on %d "
                       "images. Use a multiple of %d images to train on each exactly once.", len(loader.dataset),
                       processes, padding, sampler.num_samples, sampler.total_size, processes)
    return type(loader)(loader.dataset, batch_size=loader.batch_size // processes, sampler=sampler,
                        num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                        drop_last=loader.drop_last, worker_init_fn=loader.worker_init_fn,
                        multiprocessing_context=loader.multiprocessing_context,
                        persistent_workers=loader.persistent_workers)


def wrap_model(model: torch.nn.Module, device: torch.device) -> torch.nn.parallel.DistributedDataParallel:
    """``model`` in DDP, over the parameters that currently have ``requires_grad``.

    DDP fixes that set when it is built, so call this again after (un)freezing parameters;
    building it also copies process 0's weights to every process.
    """
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def _not_distributed() -> bool:
    return False


def keep_metrics_local(model: torch.nn.Module) -> None:
    """Make the model's ``torchmetrics`` compute over this process's batches only.

    torchmetrics otherwise gathers its state from every process on ``compute()``, a
    collective call that blocks when only process 0 validates; the trainer averages the
    training metrics itself (:func:`average_over_processes`).
    """
    for module in model.modules():
        if isinstance(module, torchmetrics.Metric):
            module.distributed_available_fn = _not_distributed


def average_over_processes(metrics: Dict[str, float], weight: float, device: torch.device) -> Dict[str, float]:
    """Each metric averaged over all processes, weighted by ``weight`` (e.g. images seen);
    unchanged when not distributed. Every process must pass the same keys."""
    if not is_distributed():
        return metrics
    names = list(metrics)
    values = torch.tensor([metrics[name] * weight for name in names] + [weight], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return {name: (values[i] / values[-1]).item() for i, name in enumerate(names)}


def sum_over_processes(value: float, device: torch.device) -> float:
    """``value`` summed over all processes (unchanged when not distributed)."""
    if not is_distributed():
        return value
    total = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total.item()


def broadcast_from_main(obj: Any) -> Any:
    """Process 0's ``obj``, in every process (``obj`` itself when not distributed)."""
    if not is_distributed():
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def barrier() -> None:
    """Wait until every process gets here (no-op when not distributed)."""
    if is_distributed():
        dist.barrier()


def start_epoch(data_loader: Any, epoch: int) -> None:
    """Give the loader's sampler its epoch (a ``DistributedSampler`` shuffles by it) and its dataset
    an augmentation seed from torch's generator (a checkpoint restores it), different in each process."""
    if hasattr(getattr(data_loader, "sampler", None), "set_epoch"):
        data_loader.sampler.set_epoch(epoch)
    dataset = getattr(data_loader, "dataset", None)
    if hasattr(dataset, "reseed"):
        dataset.reseed(int(torch.randint(2**31 - 1, ())) + rank())
