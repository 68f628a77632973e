from django.urls import path

from minsheng.console import views

app_name = "console"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/gates/", views.gate_request, name="gate_request"),
    path("projects/<int:pk>/wbs/", views.wbs_add, name="wbs_add"),
    path("projects/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("gate-requests/<int:pk>/decision/", views.gate_decide, name="gate_decide"),
    path("gate-requests/<int:pk>/withdraw/", views.gate_withdraw, name="gate_withdraw"),
    path("wbs/<int:pk>/progress/", views.wbs_progress, name="wbs_progress"),
    path("overdue/", views.overdue, name="overdue"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
]
