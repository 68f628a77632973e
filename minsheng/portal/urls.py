from django.urls import path

from minsheng.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("progress/", views.progress, name="progress"),
    path("projects/<str:code>/", views.project, name="project"),
]
