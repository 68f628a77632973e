from __future__ import annotations

from ninja import Schema


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
