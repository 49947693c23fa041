"""Interpreting a trained classifier: how good it is and where it goes wrong
(:mod:`.interpretation`: metrics, confusion matrix, top losses), where it looks
(:mod:`.grad_cam`: Grad-CAM heatmaps), how far to trust its probabilities (:mod:`.calibration`:
ECE, temperature scaling) and when to answer "not sure" (:mod:`.selective_classification`).
Each module is imported only when named."""
