"""What the trainer costs over a hand-written PyTorch loop, on the same model and batches.

    python benchmarks/trainer_overhead.py                      # the embedded digits, 32×32 pixels
    python benchmarks/trainer_overhead.py --threads 1          # steadier on a busy machine
    python benchmarks/trainer_overhead.py --data ../shared/data/cats_dogs/train --size 64 --images 512

Both sides train the same ``basic_image_classifier`` (a ``feedforward`` CNN) from the same
initial weights with Adam on the same batches (decoded and augmented once beforehand and kept
in memory) with the same number of torch threads (the trainer is given ``num_threads``), so
that only the loops differ:

- hand-written: ``zero_grad``, ``model(**batch)["loss"]``, ``backward``, ``step``, and the
  epoch's mean loss;
- trainer: ``Trainer.train()`` with no validation data, once without a serialization folder
  (the loop alone: progress bar, metrics, gradient-scaler and scheduler hooks) and once with
  one (adding a checkpoint, ``metrics.csv`` and ``best.th`` per epoch).

After one unmeasured warm-up run of each, the three are run in turn ``--repeats`` times (each
going first in turn), so drifts in the machine's load hit all alike; each round's times are
divided by that round's hand-written time and the median ratio is reported. Target: the
trainer at most 5 % slower than the hand-written loop. Other work sharing the CPU moves the
absolute numbers; read the ratios.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import torch

from allencv_lite.data.dataset import collate_samples
from allencv_lite.data.dataset_readers.dataset_reader import DatasetReader
from allencv_lite.data.digits import write_digits
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.model import Model
from allencv_lite.training.trainer import Trainer

LEARNING_RATE = 1e-3


def load_batches(data: Path, size: int, images: int, batch_size: int) -> tuple:
    """The first ``images`` images under ``data`` (one folder per label), resized to ``size``
    pixels, as in-memory batches ``image`` ``(batch, 3, size, size)``, ``label`` ``(batch,)``."""
    reader = DatasetReader.from_params({"type": "image_classification_directory", "lazy": False, "augmentation": [
        {"type": "resize", "height": size, "width": size}, {"type": "flip", "p": 0.5}]})
    dataset = reader.read(data)
    vocab = Vocabulary.from_labels(dataset.labels)
    dataset.index_with(vocab)
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(dataset), generator=generator)[:images].tolist()
    samples = [dataset[index] for index in order]
    return vocab, [collate_samples(samples[start:start + batch_size]) for start in range(0, len(samples), batch_size)]


def build_model(vocab: Vocabulary) -> Model:
    torch.manual_seed(0)
    return Model.from_params({"type": "basic_image_classifier",
                              "im2im_encoder": {"type": "feedforward", "hidden_channels": [16, 32, 64]},
                              "im2vec_encoder": {"type": "flatten", "input_channels": 64}}, vocab=vocab)


def hand_written(vocab: Vocabulary, batches: List[dict], epochs: int) -> float:
    model = build_model(vocab)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        total_loss = 0.0
        for batch in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = model(**batch)["loss"]
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
        model.get_metrics(reset=True)
        total_loss / len(batches)
    return time.perf_counter() - start


def with_trainer(vocab: Vocabulary, batches: List[dict], epochs: int, serialization_dir: Optional[Path]) -> float:
    model = build_model(vocab)
    trainer = Trainer.from_params({"optimizer": {"type": "adam", "lr": LEARNING_RATE}, "num_epochs": epochs,
                                   "cuda_device": -1, "serialization_dir": serialization_dir,
                                   "num_threads": torch.get_num_threads()},  # the hand-written loop's threads
                                  model=model, train_data_loader=batches)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder with one sub-folder of images per label (default: the embedded digits)")
    parser.add_argument("--size", type=int, default=32, help="image height and width, in pixels")
    parser.add_argument("--images", type=int, default=1024, help="images per epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: torch's); 1 is least disturbed by other work on the CPU")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as scratch:
        data = args.data
        if data is None:
            write_digits(Path(scratch) / "digits")
            data = Path(scratch) / "digits" / "train"
        vocab, batches = load_batches(data, args.size, args.images, args.batch_size)
        sides: Dict[str, Callable[[int], float]] = {
            "hand-written loop": lambda _: hand_written(vocab, batches, args.epochs),
            "Trainer, no files": lambda _: with_trainer(vocab, batches, args.epochs, None),
            "Trainer, checkpoint + csv per epoch": lambda repeat: with_trainer(
                vocab, batches, args.epochs, Path(scratch) / f"run_{repeat}"),
        }
        for run in sides.values():  # warm-up: first calls of each kernel, tqdm's monitor thread, file caches
            run(-1)
        times: Dict[str, List[float]] = {name: [] for name in sides}
        names = list(sides)
        for repeat in range(args.repeats):
            for name in names[repeat % len(names):] + names[:repeat % len(names)]:  # each goes first in turn
                times[name].append(sides[name](repeat))

    images = sum(batch["image"].shape[0] for batch in batches) * args.epochs
    baseline = times["hand-written loop"]
    print(f"{args.epochs} epochs of {images // args.epochs} images at {args.size}×{args.size} px, batch "
          f"{args.batch_size}, {torch.get_num_threads()} threads; medians of {args.repeats} runs")
    print(f"{'':38}{'seconds':>9}{'images/s':>10}{'vs hand-written (median of per-round ratios)':>46}")
    for name, values in times.items():
        median = statistics.median(values)
        ratio = statistics.median(value / reference for value, reference in zip(values, baseline))
        print(f"{name:38}{median:9.2f}{images / median:10.0f}{(ratio - 1) * 100:+45.1f}%")


if __name__ == "__main__":
    main()
