"""Serving a trained model: a web demo (``server_simple``) on Flask."""
