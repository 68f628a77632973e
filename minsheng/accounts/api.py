
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from minsheng.accounts.roles import Cap
from minsheng.accounts.schemas import (
    DepartmentOut,
    DivisionOut,
    MeOut,
    NotificationOut,
    NotificationsReadIn,
    NotificationsReadOut,
    StaffOut,
)
from minsheng.accounts.selectors import departments_visible, divisions_visible, notifications_for, staff_visible
from minsheng.core import services as core_services
from minsheng.core.errors import NotFound

router = Router(tags=["organisation"])


class DivisionFilter(Schema):
    parent: int | None = None
    level: int | None = None


@router.get("/me", response=MeOut, summary="Who you are and what you may do")
def me(request: HttpRequest):
    user = request.user
    return {
        "id": user.pk, "username": user.username, "display_name": user.display_name, "role": user.role,
        "division_id": user.division_id, "department_id": user.department_id, "title": user.title,
        "capabilities": [c.value for c in Cap if user.can(c)],
    }


@router.get("/divisions", response=list[DivisionOut], summary="Divisions visible to you")
@paginate(PageNumberPagination, page_size=100)
def division_list(request: HttpRequest, filters: Query[DivisionFilter]):
    qs = divisions_visible(request.user).order_by("code")
    if filters.parent is not None:
        qs = qs.filter(parent_id=filters.parent)
    if filters.level is not None:
        qs = qs.filter(level=filters.level)
    return qs


@router.get("/divisions/{int:division_id}", response=DivisionOut)
def division_detail(request: HttpRequest, division_id: int):
    obj = divisions_visible(request.user).filter(pk=division_id).first()
    if obj is None:
        raise NotFound()
    return obj


@router.get("/departments", response=list[DepartmentOut], summary="Departments visible to you")
@paginate(PageNumberPagination, page_size=100)
def department_list(request: HttpRequest, division: int | None = None):
    qs = departments_visible(request.user).order_by("division__code", "kind")
    if division is not None:
        qs = qs.filter(division_id=division)
    return qs


@router.get("/staff", response=list[StaffOut], summary="Staff you may name as responsible persons")
@paginate(PageNumberPagination, page_size=100)
def staff_list(request: HttpRequest, q: str = ""):
    qs = staff_visible(request.user).order_by("username")
    if q:
        qs = qs.filter(full_name__icontains=q) | qs.filter(username__icontains=q)
    return qs


@router.get("/notifications", response=list[NotificationOut],
            summary="Your own in-app notifications, unread first (unread=true: only those)")
@paginate(PageNumberPagination, page_size=50)
def notification_list(request: HttpRequest, unread: bool = False):
    return notifications_for(request.user, unread_only=unread)


@router.post("/notifications/read", response=NotificationsReadOut,
             summary="Mark your notifications read: the ids given, or every unread one")
def notification_read(request: HttpRequest, payload: NotificationsReadIn):
    return {"marked": core_services.notifications_mark_read(actor=request.user, ids=payload.ids)}
