"""Words and numbers in messages for people: plurals, learning rates, durations."""


def plural(count: int, noun: str, plural_noun: str = "") -> str:
    """``"1 image"``, ``"2 images"``, ``"0 images"``; ``plural_noun`` for irregular nouns (default ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


def format_learning_rate(rate: float) -> str:
    """A learning rate in scientific notation with 3 significant digits: ``1.44e-05``, ``1.00e-03``, ``0.00e+00``
    (rates span orders of magnitude, so fixed-point rounding would show ``1e-5`` as ``0.0``)."""
    return f"{rate:.2e}"


def format_duration(seconds: float) -> str:
    """A duration as people say it: ``"3.2 s"``, ``"6 min 8 s"``, ``"2 h 05 min"``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, whole_seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {whole_seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
