"""Errors raised for bad configuration or bad input."""


class ConfigurationError(Exception):
    """A config, a file or an argument is wrong in a way the user can fix.

    The message always names the key path (``model.im2im_encoder.type``), file or value at
    fault and, where possible, what would fix it.
    """


class Interrupted(Exception):
    """Ctrl-C stopped a command. The message says, in one line, what was finished, where it
    was written and how to go on; the command line prints it and exits with status 130
    (128 + SIGINT, as shells report it)."""
