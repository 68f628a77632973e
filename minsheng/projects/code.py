"""The national project code (项目代码), GB/T 40058-2021 / 发改投资〔2020〕1439号: 24 digits.

    YYYY  RRRRRR  DD  TT  SSSSSSSSS  C
    time  region  dept type serial   check

time: the year the code was issued; region: the 6-digit GB/T 2260 code of the county (or higher)
that issued it; dept: the guiding department; type: the approval type; serial: 9 digits; check:
ISO 7064 MOD 11,10 (GB/T 17710) over the first 23 digits. Hyphens are accepted on input and used
for display only. See docs/decisions/0002-project-code.md for what we verified and what we chose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import ValidationFailed

# Two-digit guiding-department codes used in the code's third segment.
DEPARTMENT_CODES: dict[str, str] = {
    "drc": "01", "finance": "02", "housing": "03", "transport": "04", "education": "05",
    "health": "06", "civil": "07", "water": "08", "ecology": "09", "natres": "10",
    "agri": "11", "culture": "12", "sport": "13", "hr": "14", "emergency": "15",
    "data": "16", "audit": "17", "petition": "18", "disabled": "19", "govoffice": "20", "township": "21",
}
# Project type (approval route): 01 审批 (government investment), 02 核准, 03 备案.
TYPE_APPROVAL = "01"
TYPE_CODES = {"01", "02", "03"}

# ASCII digits only: str.isdigit() and \d also accept full-width and other Unicode digits.
_SEGMENTS = re.compile(r"([0-9]{4})([0-9]{6})([0-9]{2})([0-9]{2})([0-9]{9})([0-9])", re.ASCII)


def check_digit(digits: str) -> str:
    """ISO 7064 MOD 11,10: a pure-numeric check character."""
    p = 10
    for ch in digits:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


@dataclass(frozen=True)
class ProjectCode:
    year: str
    region: str
    department: str
    type: str
    serial: str
    check: str

    @property
    def value(self) -> str:
        return f"{self.year}{self.region}{self.department}{self.type}{self.serial}{self.check}"

    @property
    def display(self) -> str:
        return f"{self.year}-{self.region}-{self.department}-{self.type}-{self.serial}-{self.check}"


def parse(raw: str) -> ProjectCode:
    """Validate a code typed by a person or sent by another system; raise with the exact reason."""
    digits = (raw or "").strip().replace("-", "").replace(" ", "")
    match = _SEGMENTS.fullmatch(digits)
    if match is None:
        raise ValidationFailed(fields={"code": [_("项目代码应为 24 位数字（可含连字符）。")]})
    year, region, dept, typ, serial, check = match.groups()
    if not 2000 <= int(year) <= 2099:
        raise ValidationFailed(fields={"code": [_("项目代码的年份段无效。")]})
    if not 11 <= int(region[:2]) <= 99:
        raise ValidationFailed(fields={"code": [_("项目代码的地区段无效。")]})
    if dept not in DEPARTMENT_CODES.values():
        raise ValidationFailed(fields={"code": [_("项目代码的部门段无效。")]})
    if typ not in TYPE_CODES:
        raise ValidationFailed(fields={"code": [_("项目代码的项目类型段无效。")]})
    if check_digit(digits[:23]) != check:
        raise ValidationFailed(fields={"code": [_("项目代码校验位错误，请核对是否抄错。")]})
    return ProjectCode(year, region, dept, typ, serial, check)


def build(*, year: int, region: str, department_kind: str, serial: int, type_code: str = TYPE_APPROVAL) -> ProjectCode:
    if not re.fullmatch(r"[0-9]{6}", region):
        raise ValidationFailed(fields={"code": [_("项目代码的地区段无效。")]})
    if not 0 < serial < 10**9:
        raise ValidationFailed(fields={"code": [_("项目代码流水号已用尽。")]})
    body = f"{year:04d}{region}{DEPARTMENT_CODES[department_kind]}{type_code}{serial:09d}"
    return ProjectCode(body[:4], body[4:10], body[10:12], body[12:14], body[14:23], check_digit(body))
