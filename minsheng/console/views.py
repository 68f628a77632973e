from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from minsheng.projects import selectors


@login_required
def home(request):
    return render(request, "console/home.html", {"overdue": selectors.my_overdue_items(request.user)[:20]})


@login_required
def project_list(request):
    qs = selectors.project_list(request.user, selectors.ProjectFilters())[:25]
    return render(request, "console/project_list.html", {"projects": qs})


@login_required
def project_detail(request, pk: int):
    return render(request, "console/project_detail.html", {"project": selectors.project_get(request.user, pk=pk)})
