from django.urls import path

from minsheng.procurement import console_views as views

app_name = "procurement_console"
urlpatterns = [
    path("tenders/", views.tender_list, name="tenders"),
    path("projects/<int:project_pk>/tenders/new/", views.tender_create, name="tender_create"),
    path("tenders/<int:pk>/", views.tender_detail, name="tender"),
    path("tenders/<int:pk>/publish/", views.tender_publish, name="publish"),
    path("tenders/<int:pk>/share/", views.share_confirm, name="share_confirm"),
    path("tenders/<int:pk>/cancel/", views.tender_cancel, name="cancel"),
    path("tenders/<int:pk>/open/", views.tender_open, name="open"),
    path("tenders/<int:pk>/panel/", views.panel_add, name="panel_add"),
    path("tenders/<int:pk>/evaluate/", views.evaluate, name="evaluate"),
    path("tenders/<int:pk>/declare/", views.declare, name="declare"),
    path("tenders/<int:pk>/finish/", views.evaluation_finish, name="finish"),
    path("tenders/<int:pk>/award/", views.award_make, name="award"),
    path("tenders/<int:pk>/contract/", views.contract_sign, name="contract_sign"),
    path("clarifications/<int:pk>/answer/", views.clarification_answer, name="answer"),
    path("bids/<int:pk>/score/", views.score, name="score"),
    path("bids/<int:pk>/disqualify/", views.bid_disqualify, name="disqualify"),
    path("complaints/<int:pk>/resolve/", views.complaint_resolve, name="resolve"),
    path("contracts/", views.contract_list, name="contracts"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("contracts/<int:pk>/variations/", views.variation_propose, name="variation_propose"),
    path("variations/<int:pk>/decision/", views.variation_decide, name="variation_decide"),
    path("suppliers/", views.supplier_list, name="suppliers"),
    path("suppliers/new/", views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier"),
    path("suppliers/<int:pk>/edit/", views.supplier_edit, name="supplier_edit"),
    path("suppliers/<int:pk>/users/", views.supplier_link, name="supplier_link"),
    path("suppliers/<int:pk>/users/<int:user_pk>/remove/", views.supplier_unlink, name="supplier_unlink"),
]
