from django.urls import path

from minsheng.construction import views

app_name = "construction"
urlpatterns = [
    path("inspect/", views.inspect, name="inspect"),
    path("inspect/sw.js", views.inspect_sw, name="inspect_sw"),
    path("village/", views.village, name="village"),
    path("projects/<int:pk>/observations/", views.observations, name="observations"),
    path("observation-photos/<int:pk>/", views.observation_photo, name="observation_photo"),
    path("projects/<int:pk>/supervision/", views.supervision, name="supervision"),
    path("projects/<int:pk>/supervision/logs/", views.log_add, name="log_add"),
    path("projects/<int:pk>/supervision/inspections/", views.inspection_add, name="inspection_add"),
    path("projects/<int:pk>/supervision/rectifications/", views.rectification_add, name="rectification_add"),
    path("rectifications/<int:pk>/close/", views.rectification_close, name="rectification_close"),
]
