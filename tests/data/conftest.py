"""Fixtures for the data tests (the image-writing helpers live in image_fixtures.py)."""
from image_fixtures import image_folder, skip_warnings  # noqa: F401 - fixtures made available to the tests here
