from django.urls import path

from minsheng.feedback import console_views

app_name = "feedback_console"
urlpatterns = [
    path("", console_views.queue, name="queue"),
    path("hotline/", console_views.hotline, name="hotline"),
    path("metrics/", console_views.metrics_page, name="metrics"),
    path("metrics.xlsx", console_views.metrics_xlsx, name="metrics_xlsx"),
    path("<int:pk>/", console_views.detail, name="detail"),
    path("<int:pk>/<str:action>/", console_views.act, name="act"),
]
