from django.urls import path

from minsheng.procurement.ocds import views

app_name = "ocds"

urlpatterns = [
    path("releases.json", views.releases, name="releases"),
    path("releases/<str:ocid>.json", views.process_releases, name="process-releases"),
    path("records/<str:ocid>.json", views.record, name="record"),
]
