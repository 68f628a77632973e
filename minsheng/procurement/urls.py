"""Public procurement pages (no login), and the bidder's pages (contractor login)."""

from django.urls import path

from minsheng.procurement import portal_views as views

app_name = "procurement"
urlpatterns = [
    path("tenders/", views.tender_list, name="tenders"),
    path("tenders/<int:pk>/", views.tender_detail, name="tender"),
    path("tenders/<int:pk>/ask/", views.ask, name="ask"),
    path("tenders/<int:pk>/bid/", views.bid_submit, name="bid"),
    path("tenders/<int:pk>/complaint/", views.complaint_file, name="complaint"),
    path("bids/<int:pk>/withdraw/", views.bid_withdraw, name="withdraw"),
    path("projects/<str:code>/", views.project_procurement, name="project"),
]
