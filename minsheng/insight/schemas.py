from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class RedFlagOut(Schema):
    id: int
    kind: str
    kind_label: str
    severity: str
    subject_type: str
    subject_id: int
    subject_label: str
    project_code: str | None = None
    department_id: int | None = None
    reason: str
    figures: dict[str, Any]
    owner_id: int | None = None
    owner_name: str | None = None
    status: str
    comment: str
    computed_at: dt.datetime
    decided_at: dt.datetime | None = None


class RedFlagPage(Schema):
    count: int
    items: list[RedFlagOut]


class DecisionIn(Schema):
    status: str = Field(..., description="confirmed, dismissed, or open (reopen)")
    comment: str = ""
