"""The clinician's page at `/`: one template, and the script and style it loads from `/assets/`.

The page holds no data of its own; its script calls the `/v1` endpoints with the key the user typed.
The Content-Security-Policy allows only this origin's script and style, no inline script or handler,
and no native form submission, so a note can neither run code nor leave in a URL.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template

from ontologies.cxr import cxr_label_map

API_ROOT = Path(__file__).resolve().parents[1]
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

# `/assets`, not `/static`: the app's own static route already owns `/static/<path:filename>`.
blueprint = Blueprint(
    "web",
    __name__,
    root_path=str(API_ROOT),
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def _image_labels() -> list[str]:
    """The image-model labels the engine maps to findings, offered as suggestions in the form."""
    return sorted(label for label, row in cxr_label_map().items() if row.clinical)


@blueprint.get("/")
def page() -> Response:
    """The page, with the policy that keeps note text inert (the script and style it loads need no policy)."""
    response = Response(render_template("cdss/index.html", image_labels=_image_labels()), mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
