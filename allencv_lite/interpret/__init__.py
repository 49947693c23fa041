"""Understanding a trained classifier: how good it is, where it goes wrong, how far to trust it."""
