"""The JSON API's request and response models (they make its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class MessageSummary(BaseModel):
    id: int
    account: str
    folder: str
    sender: str
    subject: str
    received_at: datetime | None
    labels: list[str]
    needs_review: bool
    review_state: str
    top_score: float
    margin: float


class Page(BaseModel):
    total: int
    page: int
    page_size: int
    notes: list[str]
    items: list[MessageSummary]


class ReviewRequest(BaseModel):
    decision: Literal["approve", "correct"]
    labels: list[str] = Field(default_factory=list, description="The right labels (for correct).")
    note: str | None = None
    reroute_replies: bool = Field(
        False, description="Correct the replies that followed this mail's thread too."
    )


class ReviewResult(BaseModel):
    message_id: int
    review_state: str
    labels: list[str]
    queued_actions: list[int]


class DecideRequest(BaseModel):
    subject: str = ""
    text: str = Field("", max_length=200_000)
    sender: str = ""
    labels: list[str] = Field(default_factory=list, description="Label texts; empty: the live rule set.")
