"""Words in messages: close names for "Did you mean"."""
from allencv_lite.common.text import close_names


def test_a_name_in_another_case_is_the_first_suggestion():
    assert close_names("AdamW", ["adam", "adamax", "adamw", "sgd"])[0] == "adamw"


def test_a_misspelt_name_gets_the_closest_names_in_their_own_case():
    assert close_names("limt", ["limit", "Lim", "border_mode"]) == ["limit", "Lim"]


def test_nothing_close_gives_nothing():
    assert close_names("tensorboard", ["sgd", "adam"]) == []
