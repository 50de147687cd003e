"""Uploaded images are read in memory, safely, or refused with the reason."""

from __future__ import annotations

import numpy as np
import pytest

from cdss.errors import ImageInputError
from interop.image_input import check_modality, decode_image
from tests.image_files import bomb, dicom, jpeg, png

GRADIENT = np.tile(np.arange(0, 240, 8, dtype=np.uint8), (20, 1))
NOISE = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)


def test_png_jpeg_and_dicom_become_the_same_greyscale_picture():
    assert decode_image(png(GRADIENT)).pixels.tolist() == GRADIENT.tolist()
    assert np.abs(decode_image(jpeg(GRADIENT)).pixels.astype(int) - GRADIENT).max() <= 8
    read = decode_image(dicom(GRADIENT))
    assert (read.format, read.modality, read.pixels.shape) == ("DICOM", "CR", GRADIENT.shape)
    assert np.corrcoef(read.pixels.ravel(), GRADIENT.ravel())[0, 1] > 0.99
    inverted = decode_image(dicom(GRADIENT, photometric="MONOCHROME1"))
    assert np.corrcoef(inverted.pixels.ravel(), GRADIENT.ravel())[0, 1] < -0.99
    assert "inverted MONOCHROME1 so that dense is bright" in inverted.notes


def test_a_colour_image_is_made_greyscale_and_says_so():
    colour = np.stack([GRADIENT, GRADIENT // 2, GRADIENT // 3], axis=-1)
    read = decode_image(png(colour))
    assert read.pixels.shape == GRADIENT.shape and read.notes == ["converted from RGB to greyscale"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the image is empty"),
        (b"%PDF-1.7 not an image", "not a PNG, JPEG or DICOM image"),
        (png(NOISE)[:2000], "the PNG image is corrupt or truncated"),
        (jpeg(NOISE)[:400], "the JPEG image is corrupt or truncated"),
        (bomb(), "pixels"),
        (dicom(GRADIENT)[:300], "the DICOM file holds no image"),
    ],
)
def test_bad_uploads_are_refused_naming_the_problem(data, message):
    with pytest.raises(ImageInputError, match=message):
        decode_image(data)


def test_the_size_is_checked_before_decoding():
    with pytest.raises(ImageInputError, match=r"20x30 = 600 pixels; at most 100 are accepted"):
        decode_image(png(np.zeros((30, 20), np.uint8)), max_pixels=100)


def test_a_dicom_of_another_modality_is_refused_and_one_without_the_tag_is_taken():
    mammogram = decode_image(dicom(GRADIENT, modality="MG"))
    with pytest.raises(ImageInputError, match="modality MG, but the pneumoniamnist model reads CXR"):
        check_modality(mammogram, model="pneumoniamnist", modality="CXR")
    check_modality(decode_image(dicom(GRADIENT, modality="DX")), model="pneumoniamnist", modality="CXR")
    check_modality(decode_image(png(GRADIENT)), model="breastmnist", modality="US")
