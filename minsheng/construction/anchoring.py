"""Which construction records the evidence ledger anchors, and their canonical content.

Only records that never change after they are anchored: an inspection (with the digests of the photos
it was recorded with, and confirmed progress), a photo the phone uploaded after its inspection (its
own leaf), a village representative's observation (with the digests of its photos), and a closed
rectification order (closing is final)."""

from __future__ import annotations

from typing import Any

from minsheng.ledger import canonical, registry


def _time(value: Any) -> str | None:
    return canonical.format_time(value) if value else None


def inspection_content(i: Any) -> dict[str, Any]:
    return {
        "id": i.pk,
        "project": i.project.code,
        "kind": i.inspector_kind,
        "at": _time(i.inspected_at),
        "lat": str(i.latitude) if i.latitude is not None else None,
        "lng": str(i.longitude) if i.longitude is not None else None,
        "checklist": {str(k): str(v) for k, v in sorted(i.checklist.items())},
        "passed": i.passed,
        "notes": i.notes,
        "village_representative": i.village_representative,
        "photos": sorted(p.sha256 for p in i.photos.all() if not p.added_later),
        "confirmed": {str(c.wbs_item_id): str(c.progress) for c in i.confirmed.all()},
    }


def rectification_content(r: Any) -> dict[str, Any]:
    return {
        "id": r.pk,
        "project": r.project.code,
        "defect": r.defect,
        "inspection": r.inspection_id,
        "deadline": r.deadline.isoformat(),
        "status": r.status,
        "issued_at": _time(r.issued_at),
        "reinspection": r.reinspection_id,
        "closed_at": _time(r.closed_at),
    }


def photo_content(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "inspection": p.inspection_id,
        "project": p.inspection.project.code,
        "sha256": p.sha256,
        "taken_at": _time(p.taken_at),
        "lat": str(p.latitude),
        "lng": str(p.longitude),
    }


def observation_content(o: Any) -> dict[str, Any]:
    content = {
        "id": o.pk,
        "project": o.project.code,
        "village": o.village.code,
        "kind": o.kind,
        "text": o.text,
        "concern": o.concern,
        "at": _time(o.observed_at),
    }
    # The digests of its photos, only when it has some: an observation without photos keeps the
    # content (and leaf) it was anchored with before photos existed.
    photos = sorted(p.sha256 for p in o.photos.all())
    if photos:
        content["photos"] = photos
    return content


def register() -> None:
    registry.register("construction.siteinspection", content=inspection_content, actor_field="inspector_id",
                      select_related=("project",))
    registry.register("construction.inspectionphoto", content=photo_content, actor_field=None,
                      select_related=("inspection__project",))
    registry.register("construction.villageobservation", content=observation_content, actor_field="author_id",
                      select_related=("project", "village"))
    registry.register("construction.rectification", content=rectification_content, actor_field="closed_by_id",
                      select_related=("project",))
