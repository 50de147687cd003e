"""Images in: checking a greyscale array and fitting it to a model's square input.

Each step that changes the input says so in a note, which the prediction carries back to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from cdss.errors import ConfigError, ImageInputError

FITS = ("crop", "stretch")
"""crop: the centred square of the short side, as MedMNIST and ChestX-ray14 were made; stretch: the whole image
squashed to a square, as the Kermany set was resized."""
MAX_PIXELS = 50_000_000


def check_pixels(pixels: np.ndarray) -> np.ndarray:
    """The array as given if it is a 2-D uint8 greyscale image; otherwise an `ImageInputError` naming what it is."""
    if not isinstance(pixels, np.ndarray):
        raise ImageInputError(f"pixels must be a numpy array, not {type(pixels).__name__}")
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise ImageInputError(f"pixels must be 2-D uint8 greyscale, got shape {pixels.shape} and dtype {pixels.dtype}")
    height, width = pixels.shape
    if min(height, width) < 8 or height * width > MAX_PIXELS:
        raise ImageInputError(f"pixels {width}x{height}: need sides of 8 or more and at most {MAX_PIXELS:,} pixels")
    return pixels


@dataclass(frozen=True, slots=True)
class Fitted:
    pixels: np.ndarray
    """(size, size) uint8: what the model sees."""
    box: tuple[int, int, int, int]
    """The part of the input it came from: left, top, right, bottom."""
    notes: tuple[str, ...]


def fit_square(pixels: np.ndarray, size: int, how: str) -> Fitted:
    """Crop (or not) and resize a checked image to size x size, with a note for each change."""
    if how not in FITS:
        raise ConfigError(f"unknown fit {how!r}: expected one of {', '.join(FITS)}")
    height, width = pixels.shape
    box, notes = (0, 0, width, height), []
    if how == "crop" and width != height:
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
        box = (left, top, left + side, top + side)
        notes.append(f"center-cropped from {width}x{height} to {side}x{side}")
    image = Image.fromarray(pixels).crop(box)
    if image.size != (size, size):
        notes.append(f"resized from {image.width}x{image.height} to {size}x{size}")
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return Fitted(np.asarray(image, dtype=np.uint8), box, tuple(notes))
