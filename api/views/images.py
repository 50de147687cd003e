from __future__ import annotations

import base64

from flask import Blueprint

from api.models import ImagePredictRequest, ImagePredictResponse
from api.operations import operation
from api.services import Services
from interop.image_input import image_from_base64
from ranking import NOTICE
from runtime import answers

blueprint = Blueprint("images", __name__, url_prefix="/v1")


@operation(
    blueprint,
    "/images/predict",
    method="POST",
    summary="Read an image with a hosted model",
    body=ImagePredictRequest,
    response=ImagePredictResponse,
    uploads=True,
)
def predict_image(services: Services, body: ImagePredictRequest) -> dict:
    """A PNG, JPEG or DICOM image (multipart field `image`, or base64 in JSON) through one hosted model: its
    calibrated label probabilities, the graph findings they stand for, the model version, what was done to the
    image, and on request a Grad-CAM map. The image is held in memory only: never stored or logged."""
    data = image_from_base64(body.image, "image")
    prediction, overlay = answers.predict_image(services.image_models, body.model, data, saliency=body.saliency)
    out = {**prediction.to_dict(), "notice": NOTICE}
    if overlay is not None:
        out["saliency_png"] = base64.b64encode(overlay).decode("ascii")
    return out
