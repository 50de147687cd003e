"""An uploaded image (PNG, JPEG or DICOM) read safely into a greyscale array, or refused with the reason.

The bytes are only ever held in memory. The format is told by its signature, never by a file name; the
dimensions are checked from the header before any pixel is decoded, so a decompression bomb is refused
without being expanded; a colour image becomes greyscale and says so. A DICOM file tells its modality, so an
image sent to a model that reads another kind of image is refused.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from dataclasses import dataclass, field

import numpy as np

from cdss.errors import ImageInputError

MAX_PIXELS = 50_000_000
"""Largest image accepted, in pixels (a full-size chest X-ray is about 9 million)."""
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
MODALITIES = {"CXR": ("CR", "DX"), "US": ("US",)}
"""A model's modality -> the DICOM Modality (0008,0060) values it reads: computed and digital radiography for
chest X-rays, ultrasound for breast ultrasound (DICOM PS3.3, C.7.3.1.1.1)."""


@dataclass(frozen=True, slots=True)
class DecodedImage:
    pixels: np.ndarray
    """2-D uint8, greyscale."""
    format: str
    modality: str | None = None
    """The DICOM Modality, when the file said."""
    notes: list[str] = field(default_factory=list)


def image_from_base64(encoded: str, where: str) -> bytes:
    """The bytes of a base64 image field; ImageInputError naming the field when it is not base64."""
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ImageInputError(f"{where} is not valid base64") from None


def image_format(data: bytes) -> str:
    """PNG, JPEG or DICOM, by signature; ImageInputError for anything else."""
    if data.startswith(PNG):
        return "PNG"
    if data.startswith(JPEG):
        return "JPEG"
    if len(data) > 132 and data[128:132] == b"DICM":
        return "DICOM"
    raise ImageInputError("the upload is not a PNG, JPEG or DICOM image (its first bytes say none of these)")


def decode_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """The image as a greyscale array, with notes on what was done to it."""
    if not data:
        raise ImageInputError("the image is empty")
    kind = image_format(data)
    if kind == "DICOM":
        return _dicom(data, max_pixels)
    return _raster(data, kind, max_pixels)


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageInputError(f"the image claims a size of {width}x{height} pixels")
    if width * height > max_pixels:
        raise ImageInputError(
            f"the image is {width}x{height} = {width * height:,} pixels; at most {max_pixels:,} are accepted"
        )


def _raster(data: bytes, kind: str, max_pixels: int) -> DecodedImage:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_size(*image.size, max_pixels)
            image.load()
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError("the image would expand to too many pixels (a decompression bomb)") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageInputError(f"the {kind} image is corrupt or truncated ({type(error).__name__})") from None
    notes = []
    if image.mode not in ("L", "I;16", "I"):
        notes.append(f"converted from {image.mode} to greyscale")
    pixels = np.asarray(image.convert("L") if image.mode != "L" else image, dtype=np.uint8)
    return DecodedImage(pixels, kind, notes=notes)


def _dicom(data: bytes, max_pixels: int) -> DecodedImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
    except (InvalidDicomError, OSError, ValueError, EOFError) as error:
        raise ImageInputError(f"the DICOM file is corrupt or truncated ({type(error).__name__})") from None
    rows, columns = int(getattr(dataset, "Rows", 0) or 0), int(getattr(dataset, "Columns", 0) or 0)
    if not rows or not columns:
        raise ImageInputError("the DICOM file holds no image (no Rows and Columns): truncated, or not an image")
    _check_size(columns, rows, max_pixels)
    try:
        raw = dataset.pixel_array
    except (AttributeError, NotImplementedError, RuntimeError, ValueError) as error:
        syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", "unknown")
        raise ImageInputError(
            f"the DICOM pixel data cannot be read (transfer syntax {syntax}; {type(error).__name__}): "
            "send it uncompressed, or as PNG"
        ) from None
    notes = []
    if raw.ndim == 3:
        raw = raw.mean(axis=-1) if raw.shape[-1] in (3, 4) else raw[0]
        notes.append("reduced a multi-channel or multi-frame DICOM to one greyscale frame")
    values = raw.astype(np.float64) * float(getattr(dataset, "RescaleSlope", 1) or 1)
    values += float(getattr(dataset, "RescaleIntercept", 0) or 0)
    low, high = np.percentile(values, [0.5, 99.5]) if values.size else (0.0, 1.0)
    scaled = np.clip((values - low) / ((high - low) or 1.0), 0.0, 1.0)
    if str(getattr(dataset, "PhotometricInterpretation", "")) == "MONOCHROME1":
        scaled = 1.0 - scaled
        notes.append("inverted MONOCHROME1 so that dense is bright")
    notes.append("windowed to the 0.5-99.5 percentiles of its values")
    modality = str(getattr(dataset, "Modality", "") or "") or None
    return DecodedImage((scaled * 255).round().astype(np.uint8), "DICOM", modality, notes)


def check_modality(image: DecodedImage, *, model: str, modality: str) -> None:
    """Refuse a DICOM whose modality the model does not read (a file without the tag is taken as sent)."""
    accepted = MODALITIES.get(modality, ())
    if image.modality is not None and accepted and image.modality not in accepted:
        raise ImageInputError(
            f"the DICOM says modality {image.modality}, but the {model} model reads {modality} images "
            f"(modality {' or '.join(accepted)})"
        )
