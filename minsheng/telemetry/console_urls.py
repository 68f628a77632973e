from django.urls import path

from minsheng.telemetry import views

app_name = "telemetry"
urlpatterns = [
    path("devices/", views.device_list, name="devices"),
    path("projects/<int:pk>/devices/new/", views.device_add, name="device_add"),
    path("stations/", views.station_list, name="stations"),
    path("stations/<int:pk>/remove/", views.station_remove, name="station_remove"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/<int:pk>/", views.alarm_detail, name="alarm"),
    path("alarms/<int:pk>/action/", views.alarm_action, name="alarm_action"),
    path("projects/<int:pk>/water/", views.water, name="water"),
    path("projects/<int:pk>/site/", views.site, name="site"),
]
