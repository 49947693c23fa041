from typing import Dict, List, Optional, Tuple

import pytest

from allencv_lite.common import ConfigurationError, FromParams, Registrable


class Shape(Registrable, FromParams):
    pass


@Shape.register("square")
class Square(Shape):
    def __init__(self, side: float, name: str = "square") -> None:
        self.side = side
        self.name = name


@Shape.register("group")
class Group(Shape):
    def __init__(self, members: List[Shape], scale: Optional[Tuple[int, int]] = None,
                 tags: Optional[Dict[str, bool]] = None, unit: int = 1) -> None:
        self.members = members
        self.scale = scale
        self.tags = tags
        self.unit = unit


def test_nested_blocks_are_built_from_constructor_signatures():
    group = Shape.from_params({"type": "group", "members": [{"type": "square", "side": 2}],
                               "scale": [1, 2], "tags": {"big": "true"}})
    assert isinstance(group, Group)
    assert group.members[0].side == 2.0 and isinstance(group.members[0].side, float)
    assert group.scale == (1, 2)
    assert group.tags == {"big": True}


def test_unknown_type_names_the_key_path_and_the_registered_choices():
    with pytest.raises(ConfigurationError) as error:
        Shape.from_params({"type": "group", "members": [{"type": "sqare", "side": 1}]}, "model")
    message = str(error.value)
    assert "model.members[0].type" in message
    assert "Did you mean 'square'?" in message
    assert "group, square" in message


def test_missing_key_is_named_with_its_path():
    with pytest.raises(ConfigurationError, match=r"model\.members\[0\]\.side: missing required key"):
        Shape.from_params({"type": "group", "members": [{"type": "square"}]}, "model")


def test_unexpected_key_lists_the_accepted_keys():
    with pytest.raises(ConfigurationError, match=r"unexpected key\(s\) \['sides'\] for Square\. Did you mean 'side'\? Accepted keys: \['side', 'name'\]"):
        Shape.from_params({"type": "square", "sides": 3}, "shape")


@pytest.mark.parametrize("block, expected", [
    ({"type": "square", "side": "big"}, "shape.side: expected a number, got 'big'"),
    ({"type": "group", "members": [], "unit": 1.5}, "shape.unit: expected an integer, got 1.5"),
    ({"type": "square", "side": 1, "name": 3}, "shape.name: expected a string, got 3"),
    ({"type": "group", "members": {"a": 1}}, "shape.members: expected a list"),
])
def test_wrong_value_types_are_reported_with_path_and_value(block, expected):
    with pytest.raises(ConfigurationError, match=expected.replace(".", r"\.").replace("[", r"\[")):
        Shape.from_params(block, "shape")


def test_missing_type_lists_choices():
    with pytest.raises(ConfigurationError, match=r"shape\.type: missing; choose one of \['group', 'square'\]"):
        Shape.from_params({"side": 1}, "shape")


def test_registering_a_taken_name_is_refused():
    with pytest.raises(ConfigurationError, match="already used"):
        Shape.register("square")(Group)
