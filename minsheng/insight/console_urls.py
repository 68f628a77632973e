from django.urls import path

from minsheng.insight import views

app_name = "insight"
urlpatterns = [
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/", views.flag_detail, name="flag"),
    path("flags/<int:pk>/decide/", views.flag_decide, name="flag_decide"),
    path("samples/", views.samples, name="samples"),
    path("samples/<int:pk>/", views.sample_detail, name="sample"),
    path("samples/items/<int:pk>/finding/", views.sample_finding, name="sample_finding"),
]
