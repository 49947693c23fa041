"""Words and numbers in messages for people: plurals, learning rates, durations."""
import datetime


def plural(count: int, noun: str, plural_noun: str = "") -> str:
    """``"1 image"``, ``"2 images"``, ``"0 images"``; ``plural_noun`` for irregular nouns (default ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def format_learning_rate(rate: float) -> str:
    """A learning rate in scientific notation with 3 significant digits: ``1.44e-05``, ``1.00e-03``, ``0.00e+00``
    (rates span orders of magnitude, so fixed-point rounding would show ``1e-5`` as ``0.0``)."""
    return f"{rate:.2e}"


def format_duration(seconds: float) -> str:
    """Whole seconds as ``h:mm:ss`` (``0:01:40``), as ``datetime.timedelta`` prints them."""
    return str(datetime.timedelta(seconds=round(seconds)))
