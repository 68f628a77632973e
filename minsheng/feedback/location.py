"""Where a citizen's request is: the jurisdiction's map area (rule `feedback.map`), the check that a
pin falls inside it, and projects near a point. No ORM writes; the distance is haversine."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Avg
from django.utils.translation import gettext as _

from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import Division


@dataclass(frozen=True)
class MapArea:
    south: float
    west: float
    north: float
    east: float
    center: tuple[float, float]
    zoom: int

    def contains(self, lat: float, lng: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lng <= self.east

    def as_data(self) -> dict[str, Any]:
        return {"bbox": [self.south, self.west, self.north, self.east], "center": list(self.center),
                "zoom": self.zoom}


def map_area(division: Division | None) -> MapArea:
    """The map area of `division` (or the site's top rule). Without a configured centre the map starts
    at the middle of the projects inside the area, else the middle of the area."""
    value = rule_for("feedback.map", division).value
    south, west, north, east = (float(x) for x in value["bbox"])
    center = value.get("center")
    if not center:
        from minsheng.projects.models import Project

        qs = Project.objects.filter(latitude__gte=south, latitude__lte=north, longitude__gte=west,
                                    longitude__lte=east)
        if division is not None:
            qs = qs.filter(division_path__startswith=division.path)
        avg = qs.aggregate(lat=Avg("latitude"), lng=Avg("longitude"))
        center = ((avg["lat"], avg["lng"]) if avg["lat"] is not None
                  else ((south + north) / 2, (west + east) / 2))
    return MapArea(south, west, north, east, (round(float(center[0]), 6), round(float(center[1]), 6)),
                   int(value.get("zoom", 12)))


def check_point(division: Division, lat: Decimal | None, lng: Decimal | None, errors: dict[str, list[Any]]) -> None:
    """Both coordinates or neither; and inside the jurisdiction's area. Adds to `errors`."""
    if (lat is None) != (lng is None):
        errors["latitude"] = [_("位置不完整：请重新在地图上选点，或只填写具体地点。")]
        return
    if lat is None or lng is None:
        return
    area = map_area(division)
    if not area.contains(float(lat), float(lng)):
        errors["latitude"] = [_("所选位置不在本地区范围内，请重新在地图上选点，或只填写具体地点。")]
