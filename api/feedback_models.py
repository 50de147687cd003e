"""The request and answer of `POST /v1/feedback`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.models import CURIE_PATTERN, Strict, Versions


class FeedbackItemIn(Strict):
    diagnosis: str | None = Field(None, pattern=CURIE_PATTERN, max_length=100, description="A disease CURIE.")
    treatment: str | None = Field(None, pattern=CURIE_PATTERN, max_length=100, description="A drug CURIE.")
    verdict: Literal["confirmed", "rejected", "final_diagnosis", "treatment_given", "treatment_declined"]
    reason: str | None = Field(
        None, max_length=2000, description="Free text; de-identified, then sealed, before it is stored."
    )


class FeedbackRequest(Strict):
    request_id: str | None = Field(
        None, pattern=r"^[0-9a-f]{32}$", description="The recommendation's request id (its `request_id`)."
    )
    record_id: str | None = Field(
        None, min_length=1, max_length=200, description="An ingested record's id: a final diagnosis for it."
    )
    items: list[FeedbackItemIn] = Field(min_length=1, max_length=50)


class FeedbackResponse(BaseModel):
    stored: int
    duplicates: int
    """Items already stored by an earlier identical call: feedback is idempotent."""
    feedback_ids: list[str]
    versions: Versions
    """The versions that produced the answer the feedback is about."""
