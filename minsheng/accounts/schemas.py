from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class DivisionOut(Schema):
    id: int
    code: str
    name: str
    level: int
    parent_id: int | None


class DepartmentOut(Schema):
    id: int
    division_id: int
    kind: str
    name: str


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    division_id: int | None
    department_id: int | None
    title: str


class MeOut(StaffOut):
    capabilities: list[str]


class NotificationOut(Schema):
    id: int
    created_at: dt.datetime
    kind: str
    text: str
    link: str
    read_at: dt.datetime | None


class NotificationsReadIn(Schema):
    ids: list[int] | None = Field(None, description="the notifications to mark read; omitted: all unread")


class NotificationsReadOut(Schema):
    marked: int
