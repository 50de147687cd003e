"""Grad-CAM (Selvaraju et al. 2017) in plain PyTorch, drawn over the input as a PNG.

The map shows where the last stage's features pushed one output's logit up; it is a picture of
what the model used, not a segmentation and not proof of a finding.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from imaging.network import SmallResNet


def grad_cam(network: SmallResNet, batch: Tensor, output: int) -> np.ndarray:
    """Shapes: batch (1, 1, S, S) -> (h, w) in [0, 1], at the last feature map's resolution."""
    with torch.enable_grad():
        features = network.features(batch).detach().requires_grad_(True)
        logit = network.head(features)[0, output]
        (gradient,) = torch.autograd.grad(logit, features)
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = (weights * features).sum(dim=1)[0].relu().detach().numpy()
    peak = float(cam.max())
    return cam / peak if peak > 0 else cam


def _heat(values: np.ndarray) -> np.ndarray:
    """A black-red-yellow-white ramp ("hot") for values in [0, 1] -> (..., 3) in [0, 1]."""
    return np.stack([np.clip(3 * values - k, 0, 1) for k in range(3)], axis=-1)


def overlay_png(pixels: np.ndarray, cam: np.ndarray, box: tuple[int, int, int, int], opacity: float = 0.5) -> bytes:
    """The greyscale input in colour, the map blended over the part of it (`box`) the model saw; PNG bytes."""
    left, top, right, bottom = box
    height, width = pixels.shape
    full = np.zeros((height, width), dtype=np.float32)
    scaled = Image.fromarray(cam.astype(np.float32)).resize((right - left, bottom - top), Image.Resampling.BILINEAR)
    full[top:bottom, left:right] = np.clip(np.asarray(scaled), 0, 1)
    grey = np.repeat((pixels.astype(np.float32) / 255)[..., None], 3, axis=-1)
    alpha = (opacity * full)[..., None]
    blended = grey * (1 - alpha) + _heat(full) * alpha
    out = BytesIO()
    Image.fromarray((blended * 255).round().astype(np.uint8)).save(out, format="PNG")
    return out.getvalue()
