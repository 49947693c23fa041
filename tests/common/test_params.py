import json

import pytest

from allencv_lite.common import ConfigurationError, load_config
from allencv_lite.common.params import merge_overrides


def test_jsonnet_sees_environment_variables(tmp_path, monkeypatch):
    config_file = tmp_path / "config.jsonnet"
    config_file.write_text('local n = 2; {"train_data_path": std.extVar("TRAIN_PATH"), "trainer": {"num_epochs": n * 3}}')
    monkeypatch.setenv("TRAIN_PATH", "/data/train")
    assert load_config(config_file) == {"train_data_path": "/data/train", "trainer": {"num_epochs": 6}}


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
