"""Interpreting a trained classifier: how good it is and where it goes wrong
(:mod:`.interpretation`: metrics, confusion matrix, top losses) and where it looks
(:mod:`.grad_cam`: Grad-CAM heatmaps). Each module is imported only when named."""
