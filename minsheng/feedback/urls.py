from django.urls import path

from minsheng.feedback import views

app_name = "feedback"
urlpatterns = [
    path("", views.submit, name="submit"),
    path("receipt/", views.receipt, name="receipt"),
    path("lookup/", views.lookup, name="lookup"),
    path("reopen/", views.reopen, name="reopen"),
    path("visit/", views.visit, name="visit"),
    path("inbox/", views.inbox, name="inbox"),
    path("captcha/<str:token>.png", views.captcha_image, name="captcha"),
    path("photos/<int:pk>/", views.public_photo, name="photo"),
    path("elderly/", views.elderly, name="elderly"),
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
