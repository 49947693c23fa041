"""Lazy[T]: a config block checked when read, built once the arguments it lacks exist."""
from typing import List, Optional

import pytest

from allencv_lite.common import ConfigurationError, FromParams, Lazy, Registrable
from allencv_lite.common.from_params import with_key_path


class Engine(Registrable, FromParams):
    pass


@Engine.register("piston")
class Piston(Engine):
    built: List["Piston"] = []

    def __init__(self, fuel: str, cylinders: int = 4) -> None:
        if cylinders < 1:
            raise ConfigurationError(f"cylinders: must be at least 1, got {cylinders}.")
        self.fuel, self.cylinders = fuel, cylinders
        Piston.built.append(self)


class Car(FromParams):
    def __init__(self, fuel: str, engine: Lazy[Engine], spare: Optional[Lazy[Engine]] = None,
                 others: Optional[List[Lazy[Engine]]] = None) -> None:
        self.engine = engine.construct(fuel=fuel)
        self.spare = spare.construct(fuel=fuel) if spare is not None else None
        self.others = [other.construct(fuel=fuel) for other in others or []]


def test_lazy_optional_lazy_and_lists_of_lazy_blocks_are_built_with_the_arguments_known_later():
    car = Car.from_params({"engine": {"type": "piston", "cylinders": 6}, "spare": "piston",
                           "others": [{"type": "piston", "cylinders": 2}]}, "car", fuel="diesel")
    assert (car.engine.fuel, car.engine.cylinders) == ("diesel", 6)
    assert (car.spare.fuel, car.spare.cylinders) == ("diesel", 4)
    assert [(other.fuel, other.cylinders) for other in car.others] == [("diesel", 2)]


def test_a_lazy_blocks_unknown_type_is_an_error_when_the_config_is_read_not_when_it_is_built():
    Piston.built = []
    with pytest.raises(ConfigurationError, match=r"car\.others\[0\]\.type: 'pistn' is not a registered Engine\. "
                                                 r"Did you mean 'piston'\?"):
        Car.from_params({"engine": "piston", "others": [{"type": "pistn"}]}, "car", fuel="petrol")
    assert Piston.built == []  # Car builds its engine first: the misspelt name stopped it before


def test_an_error_raised_when_a_lazy_block_is_built_names_its_whole_key_path():
    with pytest.raises(ConfigurationError, match=r"^car\.spare\.cylinders: must be at least 1, got 0\.$"):
        Car.from_params({"engine": "piston", "spare": {"type": "piston", "cylinders": 0}}, "car", fuel="petrol")


def test_a_built_object_stands_in_for_a_lazy_block():
    piston = Piston("hydrogen")
    assert Car.from_params({"engine": piston}, "car", fuel="petrol").engine is piston


@pytest.mark.parametrize("message, expected", [
    ("batch_size: must be at least 1, got 0.", "data_loader.batch_size: must be at least 1, got 0."),
    ("augmentation[0]: remove 'to_tensor_v2'", "data_loader.augmentation[0]: remove 'to_tensor_v2'"),
    ("the model has no trainable parameters", "data_loader: the model has no trainable parameters"),
    ("data_loader.batch_size: already named", "data_loader.batch_size: already named"),
])
def test_a_constructors_message_gets_the_blocks_path_once(message, expected):
    assert with_key_path("data_loader", message) == expected
