"""Plain helpers that several test modules share and that cannot be fixtures: classes, functions
that take arguments, and values that ``pytest.mark.parametrize`` reads when tests are collected.
One concept per module, imported by its full name (``from tests.helpers.image_files import
write_image``). Fixtures live in a ``conftest.py``; no test module imports from another test module
(``tests/test_import_layers.py`` checks)."""
