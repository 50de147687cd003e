"""Small image files the tests write: PNG, JPEG and DICOM in memory, well-formed or broken on purpose."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def jpeg(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def dicom(pixels: np.ndarray, *, modality: str = "CR", photometric: str = "MONOCHROME2") -> bytes:
    """An uncompressed 16-bit DICOM file of `pixels` with the given Modality."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    data = Dataset()
    data.file_meta = meta
    data.Modality = modality
    data.Rows, data.Columns = pixels.shape
    data.SamplesPerPixel = 1
    data.PhotometricInterpretation = photometric
    data.BitsAllocated, data.BitsStored, data.HighBit, data.PixelRepresentation = 16, 12, 11, 0
    data.PixelData = (pixels.astype(np.uint16) * 16).tobytes()
    out = io.BytesIO()
    data.save_as(out, enforce_file_format=True)
    return out.getvalue()


def bomb(side: int = 12_000) -> bytes:
    """A small PNG that decodes to side x side pixels."""
    out = io.BytesIO()
    Image.new("L", (side, side)).save(out, format="PNG", optimize=True)
    return out.getvalue()
