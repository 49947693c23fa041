import json

import pytest

from allencv_lite.common import ConfigurationError, load_config
from allencv_lite.common.params import load_config_and_external_variables, merge_overrides


def test_jsonnet_sees_environment_variables(tmp_path, monkeypatch):
    config_file = tmp_path / "config.jsonnet"
    config_file.write_text('local n = 2; {"train_data_path": std.extVar("TRAIN_PATH"), "trainer": {"num_epochs": n * 3}}')
    monkeypatch.setenv("TRAIN_PATH", "/data/train")
    assert load_config(config_file) == {"train_data_path": "/data/train", "trainer": {"num_epochs": 6}}


def test_the_external_variables_read_are_found_in_imports_and_computed_names_and_only_those(tmp_path, monkeypatch):
    (tmp_path / "paths.libsonnet").write_text('{ path(split): std.extVar(std.asciiUpper(split) + "_PATH") }')
    config_file = tmp_path / "config.jsonnet"
    config_file.write_text('local paths = import "paths.libsonnet";\n'
                           '{"train_data_path": paths.path("train"), "validation_data_path": paths.path("validation"),\n'
                           ' "trainer": if std.extVar("SMALL") == "yes" then {"num_epochs": 1} else std.extVar("NEVER")}')
    for name, value in {"TRAIN_PATH": "/data/my train", "VALIDATION_PATH": "/data/val", "SMALL": "yes",
                        "NEVER": "not read: its branch is not taken", "SEED": "not read: no extVar names it"}.items():
        monkeypatch.setenv(name, value)
    config, variables = load_config_and_external_variables(config_file, '{"random_seed": 1}')
    assert config == {"train_data_path": "/data/my train", "validation_data_path": "/data/val",
                      "trainer": {"num_epochs": 1}, "random_seed": 1}
    assert variables == {"TRAIN_PATH": "/data/my train", "VALIDATION_PATH": "/data/val", "SMALL": "yes"}


def test_a_variable_the_overrides_read_is_named_too(tmp_path, monkeypatch):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"trainer": {"num_epochs": 3}}))
    monkeypatch.setenv("EPOCHS", "1")
    assert load_config_and_external_variables(config_file, '{"trainer": {"num_epochs": std.parseInt(std.extVar("EPOCHS"))}}') == (
        {"trainer": {"num_epochs": 1}}, {"EPOCHS": "1"})


def test_plain_json_loads(tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"model": {"type": "x"}}))
    assert load_config(config_file) == {"model": {"type": "x"}}


def test_undefined_ext_var_says_how_to_set_it(tmp_path, monkeypatch):
    monkeypatch.delenv("VALIDATION_PATH", raising=False)
    config_file = tmp_path / "config.jsonnet"
    config_file.write_text('{"validation_data_path": std.extVar("VALIDATION_PATH")}')
    with pytest.raises(ConfigurationError, match=r"(?si)undefined external variable: VALIDATION_PATH.*VALIDATION_PATH=/path/to/data"):
        load_config(config_file)


def test_syntax_error_names_file_and_line(tmp_path):
    config_file = tmp_path / "broken.jsonnet"
    config_file.write_text('{\n  "trainer": {"optimizer": {"lr": 1e-3 "type": "adam"}}\n}')
    with pytest.raises(ConfigurationError, match=r"broken\.jsonnet:2"):
        load_config(config_file)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="nope.jsonnet does not exist"):
        load_config(tmp_path / "nope.jsonnet")


def test_overrides_merge_deeply_and_accept_dotted_keys(tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"trainer": {"num_epochs": 5, "patience": 2}, "model": {"type": "a"}}))
    config = load_config(config_file, overrides='{"trainer": {"num_epochs": 1}}')
    assert config["trainer"] == {"num_epochs": 1, "patience": 2}
    assert merge_overrides(config, {"trainer.patience": 9})["trainer"] == {"num_epochs": 1, "patience": 9}


def test_a_number_in_a_dotted_override_indexes_a_list():
    config = {"dataset_reader": {"augmentation": [{"type": "resize", "height": 64, "width": 64}, {"type": "flip"}]}}
    merged = merge_overrides(config, {"dataset_reader.augmentation.0.height": 48})
    assert merged["dataset_reader"]["augmentation"] == [{"type": "resize", "height": 48, "width": 64}, {"type": "flip"}]
    assert config["dataset_reader"]["augmentation"][0]["height"] == 64  # the original is left as it was


def test_a_nested_override_object_indexes_a_list_too():
    config = {"augmentation": [{"type": "resize", "height": 64}, {"type": "flip", "p": 0.5}]}
    assert merge_overrides(config, {"augmentation": {"1": {"p": 1.0}}})["augmentation"] == [
        {"type": "resize", "height": 64}, {"type": "flip", "p": 1.0}]


def test_an_index_past_the_end_of_a_list_is_named():
    config = {"dataset_reader": {"augmentation": [{"type": "resize"}]}}
    with pytest.raises(ConfigurationError, match=r"dataset_reader\.augmentation\.3: .* has 1 entries"):
        merge_overrides(config, {"dataset_reader.augmentation.3.height": 48})
