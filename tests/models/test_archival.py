"""``model.tar.gz``: what it holds, and that loading a malicious or damaged one fails safely."""
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.vocabulary import Vocabulary
from allencv_lite.models.archival import (
    ARCHIVE_FORMAT_VERSION,
    archive_model,
    extract_archive,
    load_archive,
    load_validation_files,
    prediction_reader_config,
)
from allencv_lite.models.model import Model


@pytest.fixture(scope="module")
def members(digits_archive) -> Dict[str, bytes]:
    """The files of the trained archive, by name."""
    with tarfile.open(digits_archive, "r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}


def write_archive(path: Path, files: Dict[str, bytes], extra: Optional[List[tarfile.TarInfo]] = None) -> Path:
    """A gzipped tar of ``files`` plus the special ``extra`` members (links, devices, ...)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for info in extra or []:
            archive.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def test_archive_holds_config_weights_vocabulary_and_format_version(digits_archive, members):
    assert sorted(members) == ["config.json", "meta.json", "vocabulary/labels.txt", "weights.th"]
    assert json.loads(members["meta.json"]) == {"format_version": ARCHIVE_FORMAT_VERSION}
    assert members["vocabulary/labels.txt"].decode().splitlines() == [str(d) for d in range(10)]
    assert json.loads(members["config.json"])["model"]["type"] == "basic_image_classifier"


def test_loaded_model_has_the_archived_weights_in_eval_mode(digits_archive, members):
    archived = torch.load(io.BytesIO(members["weights.th"]), weights_only=True)
    model = load_archive(digits_archive).model
    assert not model.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, archived[name]), name


def test_a_rewritten_archive_loads_like_the_original(digits_archive, members, tmp_path):
    copy = write_archive(tmp_path / "copy.tar.gz", members)
    assert load_archive(copy).config == load_archive(digits_archive).config


@pytest.mark.parametrize("name", ["/tmp/evil.txt", "../evil.txt", "vocabulary/../../evil.txt"])
def test_member_paths_that_leave_the_folder_are_refused(members, tmp_path, name):
    archive = write_archive(tmp_path / "evil.tar.gz", {**members, name: b"pwned"})
    target = tmp_path / "deep" / "target"
    target.mkdir(parents=True)
    with pytest.raises(ConfigurationError, match=f"refusing member '{name}', whose path leaves"):
        extract_archive(archive, target)
    assert not (tmp_path / "deep" / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert list(target.iterdir()) == []  # checked before anything is written


def _special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


@pytest.mark.parametrize("member, kind", [
    (_special("weights.th", tarfile.SYMTYPE, "/etc/passwd"), "a symbolic link to '/etc/passwd'"),
    (_special("notes.txt", tarfile.LNKTYPE, "config.json"), "a hard link to 'config.json'"),
    (_special("console", tarfile.CHRTYPE), "a device file"),
    (_special("disk", tarfile.BLKTYPE), "a device file"),
    (_special("pipe", tarfile.FIFOTYPE), "a named pipe"),
])
def test_links_devices_and_pipes_are_refused(members, tmp_path, member, kind):
    files = {name: data for name, data in members.items() if name != member.name}
    archive = write_archive(tmp_path / "special.tar.gz", files, extra=[member])
    with pytest.raises(ConfigurationError, match=f"refusing member '{member.name}', which is {kind}"):
        load_archive(archive)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_a_truncated_archive_is_reported_as_corrupt(digits_archive, tmp_path, fraction):
    data = digits_archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ConfigurationError, match="is corrupt or truncated"):
        load_archive(truncated)


def test_a_corrupt_byte_is_caught(digits_archive, tmp_path):
    data = bytearray(digits_archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ConfigurationError, match="is corrupt or truncated"):
        load_archive(corrupt)


def test_a_file_that_is_not_an_archive_is_reported(tmp_path):
    text = tmp_path / "model.tar.gz"
    text.write_text("just some text")
    with pytest.raises(ConfigurationError, match="is corrupt or truncated"):
        load_archive(text)


@pytest.mark.parametrize("name, text", [("digits.jsonnet", "local size = 16;\n{model: {}}"),
                                        ("config.json", '{"model": {}}'),
                                        ("model.tar.gz", '  {"trainer": {}}')])
def test_a_config_given_as_the_archive_says_to_train_it_first(tmp_path, name, text):
    config = tmp_path / name
    config.write_text(text)
    with pytest.raises(ConfigurationError) as error:
        load_archive(config)
    assert str(error.value) == (f"{config} is a training config, not a trained model's archive: train it first "
                                f"(allencv-lite train {config} -s runs/my_run, with the variables it reads, e.g. "
                                "TRAIN_PATH=... VALIDATION_PATH=...), then pass runs/my_run/model.tar.gz.")


def test_a_missing_archive_is_reported(tmp_path):
    with pytest.raises(ConfigurationError, match="nowhere.tar.gz does not exist"):
        load_archive(tmp_path / "nowhere.tar.gz")


def test_a_run_folder_is_read_through_its_model_tar_gz(digits_archive, members):
    archived = torch.load(io.BytesIO(members["weights.th"]), weights_only=True)
    model = load_archive(digits_archive.parent).model  # the serialization dir, as in `predict runs/digits ...`
    assert all(torch.equal(tensor, archived[name]) for name, tensor in model.state_dict().items())


def test_a_folder_without_an_archive_says_what_to_pass(tmp_path):
    with pytest.raises(ConfigurationError, match=f"Archive {tmp_path} is a folder without model.tar.gz: train writes "
                                                 "it there when a run ends; pass the model.tar.gz of a finished run."):
        load_archive(tmp_path)


@pytest.mark.parametrize("missing", ["weights.th", "config.json", "meta.json", "vocabulary/labels.txt"])
def test_a_missing_member_is_named(members, tmp_path, missing):
    archive = write_archive(tmp_path / "partial.tar.gz", {k: v for k, v in members.items() if k != missing})
    with pytest.raises(ConfigurationError, match=f"lacks \\['{missing}'\\]"):
        load_archive(archive)


@pytest.mark.parametrize("member, content, message", [
    ("meta.json", b"{not json", "member meta.json is not valid JSON"),
    ("config.json", b"[1, 2]", "member config.json must hold a JSON object"),
    ("meta.json", b'{"format_version": 99}', "has format 99; this allencv-lite reads format 1"),
    ("config.json", b'{"model": {"type": "basic_image_classifier"}}', "config.json has no 'dataset_reader' block"),
])
def test_a_corrupt_json_member_is_named(members, tmp_path, member, content, message):
    archive = write_archive(tmp_path / "bad.tar.gz", {**members, member: content})
    with pytest.raises(ConfigurationError, match=message):
        load_archive(archive)


class WritesAFileWhenUnpickled:
    """A pickle payload: unpickling it would call ``open(path, "w")``."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_weights_holding_pickled_code_are_refused_without_running_it(members, tmp_path):
    marker = tmp_path / "code_ran.txt"
    payload = io.BytesIO()
    torch.save({"_classification_layer.weight": WritesAFileWhenUnpickled(marker)}, payload)
    archive = write_archive(tmp_path / "pickled.tar.gz", {**members, "weights.th": payload.getvalue()})
    with pytest.raises(ConfigurationError, match="are corrupt or hold more than tensors"):
        load_archive(archive)
    assert not marker.exists()


def test_weights_that_are_not_a_state_dict_are_refused(members, tmp_path):
    payload = io.BytesIO()
    torch.save([torch.zeros(3)], payload)
    archive = write_archive(tmp_path / "list.tar.gz", {**members, "weights.th": payload.getvalue()})
    with pytest.raises(ConfigurationError, match="are a list, not a state_dict"):
        load_archive(archive)


def test_weights_that_do_not_fit_the_model_are_refused(members, tmp_path):
    state = torch.load(io.BytesIO(members["weights.th"]), weights_only=True)
    state["_classification_layer.weight"] = torch.zeros(3, 3)
    payload = io.BytesIO()
    torch.save(state, payload)
    archive = write_archive(tmp_path / "misfit.tar.gz", {**members, "weights.th": payload.getvalue()})
    with pytest.raises(ConfigurationError, match="do not fit its model config"):
        load_archive(archive)


@pytest.fixture
def existing_archive(digits_archive, tmp_path) -> Path:
    path = tmp_path / "model.tar.gz"
    path.write_bytes(digits_archive.read_bytes())
    return path


def test_a_crash_while_saving_weights_leaves_the_existing_archive_intact(existing_archive, monkeypatch):
    archive = load_archive(existing_archive)
    before = existing_archive.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        archive_model(existing_archive, archive.config, archive.model.state_dict(), archive.vocab)
    assert existing_archive.read_bytes() == before
    assert os.listdir(existing_archive.parent) == ["model.tar.gz"]  # no staging leftovers


def test_a_crash_halfway_through_the_tar_leaves_the_existing_archive_intact(existing_archive, monkeypatch):
    archive = load_archive(existing_archive)
    before = existing_archive.read_bytes()
    original_add = tarfile.TarFile.add
    added = []

    def add_then_crash(self, name, *args, **kwargs):
        if added:
            raise KeyboardInterrupt  # the user pressed Ctrl-C while the second member was written
        added.append(name)
        return original_add(self, name, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "add", add_then_crash)
    with pytest.raises(KeyboardInterrupt):
        archive_model(existing_archive, archive.config, archive.model.state_dict(), archive.vocab)
    assert existing_archive.read_bytes() == before
    assert os.listdir(existing_archive.parent) == ["model.tar.gz"]
    assert load_archive(existing_archive).config == archive.config


RESIZE = {"type": "resize", "height": 16, "width": 16}
NORMALIZE = {"type": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


def test_prediction_reads_with_the_validation_reader():
    config = {"dataset_reader": {"type": "image_classification_directory", "augmentation": [RESIZE, {"type": "flip"}]},
              "validation_dataset_reader": {"type": "image_classification_directory", "augmentation": [RESIZE]}}
    assert prediction_reader_config(config) == config["validation_dataset_reader"]


def test_without_a_validation_reader_prediction_keeps_only_the_deterministic_steps(caplog):
    random_steps = [{"type": "flip", "p": 0.5}, {"type": "vertical_flip", "p": 1.0}, {"type": "random_resized_crop",
                    "size": [16, 16]}, {"type": "resize", "height": 8, "width": 8, "p": 0.5}]
    config = {"dataset_reader": {"type": "image_classification_directory", "lazy": True,
                                 "augmentation": [RESIZE, *random_steps, NORMALIZE]}}
    assert prediction_reader_config(config) == {"type": "image_classification_directory", "lazy": True,
                                                 "augmentation": [RESIZE, NORMALIZE]}
    assert "without its random steps ['flip', 'vertical_flip', 'random_resized_crop', 'resize']" in caplog.text


def test_a_users_own_transform_registered_as_deterministic_survives_into_the_archives_prediction_reader(tmp_path):
    import albumentations

    from allencv_lite.data.augmentation import Augmentation

    @Augmentation.register("test_to_gray_always", exist_ok=True, deterministic=True)
    def to_gray_always() -> albumentations.ToGray:
        return albumentations.ToGray(p=1.0)

    vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
    model_config = {"type": "basic_image_classifier", "im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
                    "im2vec_encoder": {"type": "global_average"}}
    model = Model.from_params(model_config, "model", vocab=vocab)
    config = {"dataset_reader": {"type": "image_classification_directory",
                                 "augmentation": [RESIZE, {"type": "test_to_gray_always"}, {"type": "flip"}]},
              "model": model_config}
    reader = load_archive(archive_model(tmp_path / "model.tar.gz", config, model.state_dict(), vocab)).dataset_reader
    assert [type(step).__name__ for step in reader.transforms] == ["Resize", "ToGray", "Normalize"]


def test_loading_never_reads_the_starting_weights_the_config_names(tmp_path):
    """The archive holds the trained weights; the checkpoint training started from may be gone."""
    vocab = Vocabulary({"labels": {"Cat": 1, "Dog": 1}})
    model_config = {"type": "basic_image_classifier",
                    "im2im_encoder": {"type": "timm", "model_name": "test_resnet"},
                    "im2vec_encoder": {"type": "global_average"}}
    model = Model.from_params(model_config, "model", vocab=vocab)
    model_config["im2im_encoder"]["pretrained_file"] = str(tmp_path / "deleted_checkpoint.pth")
    config = {"dataset_reader": {"type": "image_classification_directory", "augmentation": [RESIZE]},
              "model": model_config}
    archive = archive_model(tmp_path / "model.tar.gz", config, model.state_dict(), vocab)
    loaded = load_archive(archive).model
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name


def test_a_gpu_asked_for_without_cuda_loads_on_the_cpu_with_a_warning(digits_archive, monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model = load_archive(digits_archive, cuda_device=0).model
    assert {parameter.device.type for parameter in model.parameters()} == {"cpu"}
    assert "cuda_device=0 but CUDA is not available" in caplog.text


def test_a_gpu_that_does_not_exist_is_refused(digits_archive, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigurationError, match="cuda_device=3, but this machine has 1 GPU"):
        load_archive(digits_archive, cuda_device=3)


def test_a_run_with_validation_split_archives_the_validation_files_for_reuse(digits_dir, tmp_path):
    from allencv_lite.training.from_config import train_model
    from allencv_lite.data.dataset_readers.image_classification_directory import ImageClassificationDirectoryReader

    reader_config = {"type": "image_classification_directory", "augmentation": [RESIZE, NORMALIZE],
                     "validation_split": 0.25, "seed": 5}
    config = {"dataset_reader": reader_config,
              "validation_dataset_reader": {"type": "image_classification_directory",
                                            "augmentation": [RESIZE, NORMALIZE]},
              "train_data_path": str(digits_dir / "val"),
              "model": {"type": "basic_image_classifier",
                        "im2im_encoder": {"type": "feedforward", "hidden_channels": [4]},
                        "im2vec_encoder": {"type": "global_average"}},
              "iterator": {"type": "basic", "batch_size": 64},
              "trainer": {"num_epochs": 1, "cuda_device": -1, "optimizer": {"type": "adam", "lr": 1e-2}}}
    train_model(config, tmp_path / "run", force=True)
    expected = ImageClassificationDirectoryReader.from_params(dict(reader_config)).validation_files(digits_dir / "val")
    assert load_validation_files(tmp_path / "run") == load_archive(tmp_path / "run").validation_files == expected
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    validation = load_archive(tmp_path / "run").dataset_reader.read(digits_dir / "val", only=expected)
    assert len(validation) == len(expected) and "validation_accuracy" in metrics  # validated on the held-out part


def test_an_archive_without_a_split_has_no_validation_files(digits_archive, members):
    assert "validation_files.txt" not in members and load_validation_files(digits_archive) is None


def test_validation_split_and_validation_data_path_together_are_refused(digits_dir, tmp_path):
    from allencv_lite.training.from_config import build_trainer

    config = {"dataset_reader": {"type": "image_classification_directory", "validation_split": 0.2},
              "train_data_path": str(digits_dir / "train"), "validation_data_path": str(digits_dir / "val")}
    with pytest.raises(ConfigurationError, match="dataset_reader.validation_split holds out validation images from "
                                                 "train_data_path, but validation_data_path names a validation folder "
                                                 "too; remove one of them"):
        build_trainer(config)
