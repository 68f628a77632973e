"""Mounted at /console/ledger/ (see minsheng/urls.py)."""

from django.urls import path

from minsheng.ledger import views

app_name = "ledger_console"
urlpatterns = [
    path("", views.health, name="health"),
    path("projects/<int:pk>/", views.project_timeline, name="timeline"),
]
