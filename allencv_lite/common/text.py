"""Words and numbers in messages for people: plurals, learning rates, durations, close names."""
import difflib
from typing import Iterable, List


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


def close_names(name: str, choices: Iterable[str], n: int = 3) -> List[str]:
    """Up to ``n`` of ``choices`` close to a misspelt ``name``, the closest first, for a "Did you mean"
    hint: a match that differs only in case comes first (``"AdamW"`` -> ``"adamw"``, never ``"adam"``),
    then :func:`difflib.get_close_matches` on the lower-cased names (its ratio, cutoff 0.6)."""
    by_lower = {}
    for choice in choices:
        by_lower.setdefault(str(choice).lower(), str(choice))
    wanted = str(name).lower()
    exact = [by_lower[wanted]] if wanted in by_lower else []
    close = difflib.get_close_matches(wanted, [lower for lower in by_lower if lower != wanted], n=n)
    return (exact + [by_lower[lower] for lower in close])[:n]
