"""Image models: small CNNs in plain PyTorch trained on public chest X-ray and breast ultrasound sets,
calibrated, exported as one file each, and read back to turn an image into finding probabilities.

`ImageModel.load(path).predict(pixels)` is what the API calls; training and evaluation are offline.
"""

from imaging.export import default_model_path
from imaging.model import ImageModel, ImagePrediction

__all__ = ["ImageModel", "ImagePrediction", "default_model_path"]
