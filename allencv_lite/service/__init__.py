"""Serving a trained model: a web demo (``server_simple``) on Flask, imported only when served."""

DEFAULT_MAX_UPLOAD_MB = 10.0  # uploads larger than this many MiB are refused with 413
