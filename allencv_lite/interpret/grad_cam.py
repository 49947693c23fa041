"""Where does the model look? Grad-CAM heatmaps for any registered backbone.

Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via
Gradient-based Localization", equations 1 and 2): for the score ``y^c`` of class ``c``
(its logit, before the softmax) and the ``K`` feature maps ``A^k`` ``(height', width')`` of a
convolutional layer,

    alpha_k^c = 1 / Z * sum_i sum_j d y^c / d A^k_ij        (Z = height' * width')
    L^c       = ReLU( sum_k alpha_k^c * A^k )

so each channel is weighted by how much, on average over the map, raising it raises the
class score, and only the positive evidence is kept. ``L^c`` is then resized to the input's
height and width and scaled to [0, 1] (divided by its maximum after subtracting its minimum).

The computation is the ``grad-cam`` package's ``GradCAM`` (Jacob Gildenblat,
https://github.com/jacobgil/pytorch-grad-cam); this module chooses the layer for each of our
encoders (:meth:`~allencv_lite.modules.im2im_encoders.im2im_encoder.Im2ImEncoder.grad_cam_layer`),
computes gradients from the logits down to that layer only (also in frozen backbones), and
leaves the model's parameters, their gradients and its train/eval mode as they were.
"""
import base64
import io
import os
from typing import TYPE_CHECKING, Optional, Sequence, Union

import matplotlib
import numpy as np
import torch
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from allencv_lite.common.checks import ConfigurationError
from allencv_lite.data.image_loading import read_image
from allencv_lite.models.model import Model

if TYPE_CHECKING:
    from allencv_lite.data.dataset_readers.dataset_reader import ImageDatasetReader

Layer = Union[str, torch.nn.Module]


class _Logits(torch.nn.Module):
    """The model as ``images -> logits``, the plain module ``GradCAM`` expects."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(image=images)["logits"]


def target_layer_of(model: Model, target_layer: Optional[Layer] = None) -> torch.nn.Module:
    """The layer whose feature maps Grad-CAM weighs: ``target_layer`` itself (a module, or a
    name from ``model.named_modules()`` such as ``"_im2im_encoder.model.blocks.5"``), else the
    backbone's own choice (``model._im2im_encoder.grad_cam_layer()``).

    Raises:
        ConfigurationError: no such module name, or a model without a backbone
            (``im2im_encoder``) and no ``target_layer``.
    """
    if isinstance(target_layer, torch.nn.Module):
        return target_layer
    if isinstance(target_layer, str):
        modules = dict(model.named_modules())
        if target_layer not in modules:
            raise ConfigurationError(f"target_layer '{target_layer}' is not a module of the model; its modules "
                                     f"include {list(modules)[1:6]} (see model.named_modules()).")
        return modules[target_layer]
    encoder = getattr(model, "_im2im_encoder", None)
    if encoder is None:
        raise ConfigurationError("Grad-CAM needs a convolutional layer, and this model has no im2im_encoder; pass "
                                 "target_layer= (a module or a name from model.named_modules()).")
    return encoder.grad_cam_layer()


def explain(model: Model, image: torch.Tensor, label: Optional[Union[int, Sequence[int]]] = None,
            target_layer: Optional[Layer] = None) -> np.ndarray:
    """Grad-CAM heatmap of ``model`` for ``image``: where the evidence for a label lies.

    Args:
        model: a classifier whose ``forward(image)`` returns ``logits`` ``(batch, num_labels)``,
            e.g. a ``basic_image_classifier`` with any registered ``im2im_encoder``.
        image: float ``(3, height, width)`` or a batch ``(batch, 3, height, width)``, prepared
            as the model's reader prepares images (resized and normalized,
            ``reader.image_to_tensor``).
        label: index of the label to explain (one per image for a batch); ``None`` explains
            the label the model predicts.
        target_layer: the layer to weigh (see :func:`target_layer_of`); default the backbone's.

    Returns:
        float32 ``(height, width)`` (or ``(batch, height, width)``) in [0, 1], 1 where the
        evidence is strongest, all 0 when the layer holds no positive evidence for the label.

    Raises:
        ConfigurationError: see :func:`target_layer_of`.
        ValueError: ``image`` is not ``(3, H, W)`` or ``(batch, 3, H, W)``.
    """
    if image.dim() not in (3, 4):
        raise ValueError(f"image must be (3, height, width) or (batch, 3, height, width), got {tuple(image.shape)}.")
    batch = image.unsqueeze(0) if image.dim() == 3 else image
    layer = target_layer_of(model, target_layer)
    labels = [label] if isinstance(label, int) else label
    targets = None if labels is None else [ClassifierOutputTarget(int(i)) for i in labels]
    was_training = model.training
    trainable = [p for p in model.parameters() if p.requires_grad]
    for parameter in trainable:  # no gradient lands in a weight's .grad
        parameter.requires_grad_(False)
    device = next(model.parameters()).device
    # A frozen backbone's feature maps need no gradient; the hook makes the layer's output a leaf that
    # does, so the backward pass runs from the logits to this layer only. Prepended: GradCAM's own
    # forward hooks then see (and record) that output.
    start_gradient = layer.register_forward_hook(lambda module, args, output: output.detach().requires_grad_(),
                                                 prepend=True)
    try:
        with torch.enable_grad(), GradCAM(_Logits(model), [layer]) as cam:
            heatmaps = cam(input_tensor=batch.to(device), targets=targets)
    finally:
        start_gradient.remove()
        for parameter in trainable:
            parameter.requires_grad_(True)
        model.train(was_training)
    heatmaps = np.clip(heatmaps.astype(np.float32), 0.0, 1.0)
    return heatmaps[0] if image.dim() == 3 else heatmaps


def explain_file(model: Model, reader: "ImageDatasetReader", path: Union[str, os.PathLike],
                 label: Optional[int] = None, opacity: float = 0.5) -> np.ndarray:
    """The image at ``path`` as decoded from disk, with the heatmap of :func:`explain` for
    ``label`` (default: the predicted label) drawn over it (:func:`overlay_heatmap`), the
    image prepared for the model by ``reader`` (``load_image``, ``image_to_tensor``).

    Returns:
        ``uint8`` ``(height, width, 3)`` at the file's own size.

    Raises:
        UnreadableImageError: the file cannot be decoded.
    """
    tensor = reader.image_to_tensor(reader.load_image(path))
    return overlay_heatmap(read_image(path), explain(model, tensor, label=label), opacity=opacity)


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """Draw ``heatmap`` over ``image`` in the "jet" colours (blue low, red high).

    Args:
        image: ``uint8`` RGB ``(height, width, 3)``, e.g. the photo as decoded from disk.
        heatmap: values in [0, 1], any ``(h, w)``; resized bilinearly to the image's size, which
            maps it back exactly when the reader only resized (no crop or padding).
        opacity: weight of the colours, 0 (only the image) to 1 (only the heatmap).

    Returns:
        ``uint8`` ``(height, width, 3)``.
    """
    height, width = image.shape[:2]
    resized = np.asarray(Image.fromarray(heatmap.astype(np.float32), mode="F").resize((width, height),
                                                                                        Image.BILINEAR))
    colours = matplotlib.colormaps["jet"](np.clip(resized, 0.0, 1.0))[..., :3] * 255.0
    return np.round((1.0 - opacity) * image + opacity * colours).astype(np.uint8)


def png_data_url(image: np.ndarray, max_side: Optional[int] = None) -> str:
    """``uint8`` RGB ``(height, width, 3)`` as ``data:image/png;base64,...``, what a browser's
    ``<img src>`` takes; shrunk (aspect kept) so that no side exceeds ``max_side`` pixels."""
    picture = Image.fromarray(image)
    if max_side:
        picture.thumbnail((max_side, max_side))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
