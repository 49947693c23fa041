"""Lazy and eager datasets, data-loader workers (fork and spawn), and reproducible augmentation."""
import logging
import sys
import types
import warnings

import albumentations
import numpy as np
import pytest
import torch
from PIL import Image

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.data_loader import DataLoaderFactory
from allencv_lite.data.dataset_readers import ImageClassificationDirectoryReader
from allencv_lite.data.vocabulary import Vocabulary
from tests.helpers.image_files import BLUE, RED, write_image, write_truncated_jpeg

FLIP_ONLY = [{"type": "flip", "p": 0.5}]


def read_indexed(root, lazy, augmentation=None, transforms=None):
    reader = (ImageClassificationDirectoryReader(augmentation=transforms, lazy=lazy) if transforms is not None else
              ImageClassificationDirectoryReader.from_params({"augmentation": augmentation or [], "lazy": lazy}))
    dataset = reader.read(root)
    dataset.index_with(Vocabulary.from_labels(dataset.labels))
    return dataset


def count_decodes(dataset, monkeypatch):
    calls = []
    original = dataset.decode
    monkeypatch.setattr(dataset, "decode", lambda path: calls.append(path) or original(path))
    return calls


def images_seen(loader):
    return sum(batch["image"].shape[0] for batch in loader if batch is not None)


def test_eager_dataset_decodes_each_image_once_and_keeps_it(image_folder, monkeypatch):
    dataset = read_indexed(image_folder({"Cat/1.jpg": RED, "Dog/2.jpg": BLUE}), lazy=False)
    calls = count_decodes(dataset, monkeypatch)
    loader = DataLoaderFactory(batch_size=2).build(dataset)
    assert [images_seen(loader) for _ in range(2)] == [2, 2]
    assert calls == []
    assert all(image.shape == (8, 12, 3) for image in dataset._images)


def test_lazy_dataset_reads_from_disk_on_every_access_and_keeps_nothing(image_folder, monkeypatch):
    dataset = read_indexed(image_folder({"Cat/1.jpg": RED, "Dog/2.jpg": BLUE}), lazy=True)
    calls = count_decodes(dataset, monkeypatch)
    loader = DataLoaderFactory(batch_size=2).build(dataset)
    assert [images_seen(loader) for _ in range(2)] == [2, 2]
    assert len(calls) == 4
    assert dataset._images is None


def test_file_found_broken_in_a_worker_is_skipped_counted_and_warned_about_once(image_folder, caplog):
    root = image_folder({f"Cat/{i}.jpg": RED for i in range(5)})
    cut = write_truncated_jpeg(root / "Cat" / "9.jpg")
    dataset = read_indexed(root, lazy=True)
    loader = DataLoaderFactory(batch_size=2, num_workers=2, start_method="fork").build(dataset)
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    assert [images_seen(loader) for _ in range(2)] == [5, 5]
    assert dataset.skipped == {"truncated": 1}
    skipping = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipping")]
    assert len(skipping) == 1 and skipping[0].startswith(f"Skipping {cut}: truncated")
    assert f"1 unreadable image(s) found during this pass over {root} were skipped" in caplog.text


def test_batch_of_only_broken_files_is_none(tmp_path):
    write_truncated_jpeg(tmp_path / "Cat" / "1.jpg")
    dataset = read_indexed(tmp_path, lazy=True)
    assert list(DataLoaderFactory(batch_size=4).build(dataset)) == [None]


def test_spawned_workers_load_the_same_batches_as_the_main_process(image_folder):
    root = image_folder({"Cat/1.jpg": RED, "Cat/2.jpg": RED, "Dog/3.jpg": BLUE})
    dataset = read_indexed(root, lazy=True, augmentation=[{"type": "resize", "height": 4, "width": 6}])
    in_main = list(DataLoaderFactory(batch_size=2, shuffle=False).build(dataset, for_training=False))
    spawned_loader = DataLoaderFactory(batch_size=2, shuffle=False, num_workers=1, start_method="spawn").build(
        dataset, for_training=False)  # a training loader would leave out the lone third image
    spawned = list(spawned_loader)
    assert spawned_loader.num_workers == 1
    assert [batch["label"].tolist() for batch in spawned] == [[0, 0], [1]]
    for ours, theirs in zip(in_main, spawned):
        assert torch.equal(ours["image"], theirs["image"])


@pytest.mark.filterwarnings("ignore:Using lambda is incompatible with multiprocessing")
def test_unpicklable_transform_falls_back_to_the_main_process_with_one_warning(image_folder, caplog):
    notebook_lambda = albumentations.Lambda(image=lambda image, **_: 255 - image)
    dataset = read_indexed(image_folder({"Cat/1.jpg": RED}), lazy=True, transforms=[notebook_lambda])
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    loader = DataLoaderFactory(batch_size=1, num_workers=2, start_method="spawn").build(dataset)
    assert loader.num_workers == 0
    assert images_seen(loader) == 1
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert "(num_workers=0 instead of 2): the 'spawn' start method" in message
    assert "Can't pickle" in message and "<lambda>" in message


def test_class_defined_in_a_notebook_falls_back_to_the_main_process(image_folder, caplog, monkeypatch):
    notebook = types.ModuleType("__main__")  # an interactive __main__ has no __file__
    monkeypatch.setitem(sys.modules, "__main__", notebook)

    class Invert(albumentations.ImageOnlyTransform):
        def apply(self, img, **params):
            return 255 - img

    Invert.__module__, Invert.__qualname__ = "__main__", "Invert"
    notebook.Invert = Invert
    dataset = read_indexed(image_folder({"Cat/1.jpg": RED}), lazy=True, transforms=[Invert()])
    loader = DataLoaderFactory(num_workers=2, start_method="forkserver").build(dataset)
    assert loader.num_workers == 0
    assert "Invert is defined in the interactive session (a notebook cell)" in caplog.text


@pytest.mark.filterwarnings("ignore:Using lambda is incompatible with multiprocessing")
def test_fork_workers_need_no_pickling_and_keep_a_lambda_transform(image_folder):
    notebook_lambda = albumentations.Lambda(image=lambda image, **_: 255 - image)
    dataset = read_indexed(image_folder({"Cat/1.jpg": RED}), lazy=True, transforms=[notebook_lambda])
    loader = DataLoaderFactory(num_workers=2, start_method="fork").build(dataset)
    assert loader.num_workers == 2 and images_seen(loader) == 1


def test_same_torch_seed_gives_the_same_augmentation_with_and_without_workers(image_folder):
    root = image_folder({f"Cat/{i}.jpg": RED for i in range(4)} | {f"Dog/{i}.png": BLUE for i in range(4)})

    def epochs(num_workers):
        torch.manual_seed(7)
        dataset = read_indexed(root, lazy=False, augmentation=FLIP_ONLY + [{"type": "random_brightness_contrast"}])
        loader = DataLoaderFactory(batch_size=4, num_workers=num_workers, start_method="fork").build(dataset)
        return [torch.cat([batch["image"] for batch in loader]) for _ in range(2)]

    for num_workers in (0, 2):
        first, second = epochs(num_workers), epochs(num_workers)
        assert all(torch.equal(a, b) for a, b in zip(first, second))
        assert not torch.equal(first[0], first[1])  # each epoch draws new augmentation


def test_augmentation_stream_differs_per_seed():
    half_white = np.zeros((2, 2, 3), dtype=np.uint8)
    half_white[:, 1] = 255

    def flips(seed):
        torch.manual_seed(seed)
        reader = ImageClassificationDirectoryReader.from_params({"augmentation": FLIP_ONLY})
        return [reader.augment(half_white)["image"][0, 0, 0].item() > 0 for _ in range(16)]

    assert flips(1) == flips(1)
    assert flips(1) != flips(2)
    assert 0 < sum(flips(1)) < 16


@pytest.mark.parametrize("key, value, message", [
    ("start_method", "teleport", "start_method: 'teleport' is not available here"),
    ("num_workers", -1, "num_workers: must be 0"),
    ("batch_size", 0, "batch_size: must be at least 1"),
])
def test_bad_data_loader_settings_are_configuration_errors(key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        DataLoaderFactory.from_params({key: value}, "data_loader")


def test_batches_of_images_that_would_not_stack_are_refused_before_training_naming_two(image_folder, tmp_path):
    root = image_folder({"Cat/a.png": RED, "Dog/b.png": BLUE})  # 12x8 pixels
    write_image(root / "Dog" / "wide.png", size=(40, 30), color=BLUE)
    dataset = read_indexed(root, lazy=False, augmentation=[{"type": "flip", "p": 0.5}])
    with pytest.raises(ConfigurationError, match=r"batch_size: 2 images per batch must come out of the augmentation in "
                                                 r"one size, .* give 12x8 \(.*Cat/a.png\) and 40x30 \(.*Dog/wide.png\)"):
        DataLoaderFactory(batch_size=2).build(dataset)
    assert len(list(DataLoaderFactory(batch_size=1).build(dataset))) == 3  # one at a time they never stack
    resized = read_indexed(root, lazy=False, augmentation=[{"type": "resize", "height": 8, "width": 8}])
    assert [batch["image"].shape[0] for batch in DataLoaderFactory(batch_size=2).build(resized, for_training=False)
            ] == [2, 1]


@pytest.mark.parametrize("images, for_training, batch_sizes", [
    (5, True, [4]),  # the lone fifth image is left out of training
    (5, False, [4, 1]),  # validation evaluates every image
    (6, True, [4, 2]),  # two images normalize
    (1, True, [1]),  # the only image is not left out
])
def test_a_last_training_batch_of_one_image_is_left_out(image_folder, caplog, images, for_training, batch_sizes):
    root = image_folder({f"{'Cat' if index % 2 else 'Dog'}/{index}.png": RED for index in range(images)})
    dataset = read_indexed(root, lazy=False)
    caplog.set_level(logging.WARNING, logger="allencv_lite")
    loader = DataLoaderFactory(batch_size=4).build(dataset, for_training=for_training)
    assert [len(batch["label"]) for batch in loader] == batch_sizes
    assert [record.getMessage() for record in caplog.records if "lone image" in record.getMessage()] == (
        ["Leaving out the last training batch of each epoch, a lone image: batch norm in training mode needs at least "
         "2 images per batch. 5 training images in batches of 4 leave 1 over; add or remove an image, or change the "
         "batch size, to train on every image."] if batch_sizes == [4] else [])


@pytest.mark.parametrize("cuda_available", [True, False])
def test_batches_are_pinned_for_fast_copies_exactly_when_cuda_is_available(monkeypatch, cuda_available):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    assert DataLoaderFactory().pin_memory is cuda_available
    assert DataLoaderFactory(pin_memory=False).pin_memory is False


def write_photos(root, count=6):
    """Noisy JPEGs of a few sizes, so that resizes and crops change every pixel."""
    rng = np.random.default_rng(3)
    for i in range(count):
        path = root / ("Cat" if i % 2 else "Dog") / f"{i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (40 + 7 * i, 60 - 3 * i, 3), dtype=np.uint8)).save(path, quality=90)
    return root


WORKING_SIZE_FIRST = [{"type": "smallest_max_size", "max_size": 36}, {"type": "center_crop", "height": 34, "width": 34},
                      {"type": "random_crop", "height": 32, "width": 32}, {"type": "flip", "p": 0.5},
                      {"type": "random_brightness_contrast", "p": 0.5}]


def test_eager_dataset_keeps_images_at_the_working_size_with_the_results_of_applying_every_step_per_access(tmp_path):
    root = write_photos(tmp_path / "photos")

    def two_epochs(lazy):
        torch.manual_seed(11)
        dataset = read_indexed(root, lazy=lazy, augmentation=WORKING_SIZE_FIRST)
        return dataset, [torch.stack([dataset[i]["image"] for i in range(len(dataset))]) for _ in range(2)]

    eager, eager_epochs = two_epochs(lazy=False)
    _, lazy_epochs = two_epochs(lazy=True)
    assert eager.pipeline.working_size_steps == 2
    assert {image.shape for image in eager._images} == {(34, 34, 3)}  # smallest side 36, centre crop 34
    assert all(torch.equal(a, b) for a, b in zip(eager_epochs, lazy_epochs))
    assert not torch.equal(eager_epochs[0], eager_epochs[1])


def test_a_random_step_ends_the_working_size_steps():
    reader = ImageClassificationDirectoryReader.from_params({"augmentation": [
        {"type": "resize", "height": 40, "width": 40}, {"type": "flip"}, {"type": "center_crop", "height": 32, "width": 32}]})
    assert reader.working_size_steps == 1
    assert ImageClassificationDirectoryReader.from_params({"augmentation": [
        {"type": "center_crop", "height": 40, "width": 40, "p": 0.5},
        {"type": "resize", "height": 32, "width": 32}]}).working_size_steps == 0


@pytest.mark.parametrize("lazy", [True, False])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_a_batch_holds_the_same_float32_images_as_indexing_the_dataset_and_as_albumentations_gives(
        tmp_path, num_workers, lazy):
    dataset = read_indexed(write_photos(tmp_path / "photos"), lazy=lazy,
                           augmentation=[{"type": "resize", "height": 24, "width": 24}])
    loader = DataLoaderFactory(batch_size=4, shuffle=False, num_workers=num_workers, start_method="fork").build(dataset)
    batches = torch.cat([batch["image"] for batch in loader])
    per_image = torch.stack([dataset[i]["image"] for i in range(len(dataset))])
    albumentations_normalize = albumentations.Normalize()  # ImageNet's, the reader's default last step
    resized = [dataset.pipeline.transforms[0](image=dataset.decode(path))["image"] for path, _ in dataset.samples]
    by_albumentations = torch.stack([torch.from_numpy(albumentations_normalize(image=image)["image"]).permute(2, 0, 1)
                                     for image in resized])
    assert batches.dtype == per_image.dtype == torch.float32 and torch.equal(batches, per_image)
    assert torch.allclose(batches, by_albumentations, atol=1e-6)
    labels = torch.cat([batch["label"] for batch in loader])
    assert labels.dtype == dataset[0]["label"].dtype == torch.long


def test_a_normalize_that_is_not_last_runs_on_each_image_in_the_worker(tmp_path):
    dataset = read_indexed(write_photos(tmp_path / "photos"), lazy=True, augmentation=[
        {"type": "resize", "height": 24, "width": 24}, {"type": "normalize"}, {"type": "coarse_dropout", "p": 0.0}])
    assert dataset.pipeline.normalization is None
    assert dataset[0]["image"].dtype == torch.float32


def test_images_kept_at_the_working_size_are_still_checked_for_one_size_per_batch(image_folder):
    root = image_folder({"Cat/a.png": RED})  # 12x8 pixels
    write_image(root / "Dog" / "square.png", size=(30, 30), color=BLUE)
    dataset = read_indexed(root, lazy=False, augmentation=[{"type": "smallest_max_size", "max_size": 16}])
    assert dataset.pipeline.working_size_steps == 1 and dataset.image_sizes() == [(16, 24), (16, 16)]
    with pytest.raises(ConfigurationError, match=r"give 24x16 \(.*Cat/a.png\) and 16x16 \(.*Dog/square.png\)"):
        DataLoaderFactory(batch_size=2).build(dataset)


@pytest.mark.parametrize("lazy", [False, True])
def test_an_image_given_out_is_the_datasets_own_copy_and_writable(image_folder, lazy):
    # PNGs come from Pillow, whose arrays are read-only; a resize to the size they have changes nothing
    dataset = read_indexed(image_folder({"Cat/a.png": RED}), lazy=lazy, augmentation=[
        {"type": "resize", "height": 8, "width": 12}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch: "The given NumPy array is not writable"
        image = dataset[0]["image"]
    given = image.clone()
    image.zero_()
    assert torch.equal(dataset[0]["image"], given)  # what the dataset keeps is untouched
