from django.urls import path, re_path

from minsheng.ledger.api import views

app_name = "ledger"
urlpatterns = [
    path("v1/checkpoint", views.checkpoint, name="checkpoint"),
    re_path(r"^v1/entries/(?P<index>[^/]+)$", views.entry, name="entry"),
    path("v1/proof/inclusion", views.inclusion, name="inclusion"),
    path("v1/proof/consistency", views.consistency, name="consistency"),
    path("v1/keys", views.public_keys, name="keys"),
    re_path(r"^v1/receipts/(?P<index>[^/]+)$", views.receipt, name="receipt"),
    path("v1/witness", views.witness, name="witness"),
]
