"""Training-time augmentation in plain PyTorch: small random affine moves, optional flips, brightness
and contrast. Random draws come from a CPU generator, so a seed gives the same images on any device."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor
from torch.nn import functional


@dataclass(frozen=True, slots=True, kw_only=True)
class Augment:
    rotate_degrees: float = 10.0
    translate: float = 0.06
    """Largest shift, as a fraction of the side."""
    scale: float = 0.08
    """Zoom in or out by up to this fraction."""
    flip: bool = False
    """Mirror left-right. Off for chest X-rays, whose left and right differ (the heart); on for ultrasound."""
    brightness: float = 0.1
    contrast: float = 0.15

    def to_dict(self) -> dict:
        return asdict(self)

    def __call__(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """Shapes: (N, 1, H, W) in [0, 1] -> the same; each image moved by its own random draw."""
        n = images.shape[0]

        def uniform(bound: float) -> Tensor:
            return (torch.rand(n, generator=generator) * 2 - 1) * bound

        angle = uniform(math.radians(self.rotate_degrees))
        zoom = 1 + uniform(self.scale)
        mirror = torch.ones(n)
        if self.flip:
            mirror = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        shift = torch.stack([uniform(self.translate), uniform(self.translate)], dim=1) * 2
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack(
            [torch.stack([cos * mirror, -sin, shift[:, 0]], 1), torch.stack([sin * mirror, cos, shift[:, 1]], 1)], 1
        )
        gain = (1 + uniform(self.contrast)).view(n, 1, 1, 1)
        offset = uniform(self.brightness).view(n, 1, 1, 1)
        device = images.device
        grid = functional.affine_grid(theta.to(device, images.dtype), list(images.shape), align_corners=False)
        moved = functional.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        mean = moved.mean(dim=(2, 3), keepdim=True)
        return ((moved - mean) * gain.to(device) + mean + offset.to(device)).clamp(0, 1)
