"""What a user can fix, and the checks that say so: ``ConfigurationError`` (bad config, file or
argument), ``Interrupted`` (Ctrl-C, with what was done) and ``check_dimensions_match`` (a model's
wiring, checked when it is built). Turning them into an exit status is
:mod:`allencv_lite.common.exit_status`'s; writing files, :mod:`allencv_lite.common.files`'."""


class ConfigurationError(Exception):
    """A config, a file or an argument is wrong in a way the user can fix.

    The message always names the key path (``model.im2im_encoder.type``), file or value at
    fault and, where possible, what would fix it.
    """


def check_dimensions_match(dimension_1: int, dimension_2: int, dimension_1_name: str, dimension_2_name: str,
                           fix: str = "") -> None:
    """Raise ``ConfigurationError`` unless two sizes that must agree do (AllenNLP's
    ``allennlp.common.checks.check_dimensions_match``), so that wiring is checked when a model
    is built rather than at its first forward pass.

    Args:
        dimension_1, dimension_2: the two sizes (channels, features).
        dimension_1_name, dimension_2_name: the config keys (or methods) they come from.
        fix: a sentence saying what would make them agree, appended to the message.

    Raises:
        ConfigurationError: ``<name 1> (<value 1>) must match <name 2> (<value 2>).`` and the fix.
    """
    if dimension_1 != dimension_2:
        raise ConfigurationError(f"{dimension_1_name} ({dimension_1}) must match {dimension_2_name} "
                                 f"({dimension_2}).{' ' + fix if fix else ''}")


class Interrupted(Exception):
    """Ctrl-C stopped a command. The message says, in one line, what was finished, where it
    was written and how to go on; the command line prints it and exits with status 130
    (128 + SIGINT, as shells report it)."""
