from django.urls import path

from minsheng.finance import views

app_name = "finance"
urlpatterns = [
    path("projects/<int:pk>/budget/", views.budget, name="budget"),
    path("projects/<int:pk>/budget/versions/", views.version_create, name="version_create"),
    path("projects/<int:pk>/budget/funding/", views.funding_commit, name="funding_commit"),
    path("budget-versions/<int:pk>/lines/", views.line_add, name="line_add"),
    path("budget-versions/<int:pk>/submit/", views.version_submit, name="version_submit"),
    path("budget-versions/<int:pk>/decision/", views.version_decide, name="version_decide"),
    path("budget-versions/<int:pk>/copy/", views.version_copy, name="version_copy"),
    path("budget-versions/<int:pk>/adjustments/", views.adjustment_request, name="adjustment_request"),
    path("budget-lines/<int:pk>/", views.line_update, name="line_update"),
    path("budget-lines/<int:pk>/delete/", views.line_remove, name="line_remove"),
    path("budget-adjustments/<int:pk>/decision/", views.adjustment_decide, name="adjustment_decide"),
    path("funding/<int:pk>/arrivals/", views.funding_arrive, name="funding_arrive"),
    path("projects/<int:pk>/payments/", views.project_payments, name="payments"),
    path("projects/<int:pk>/payments/new/", views.payment_create, name="payment_create"),
    path("payments/", views.payment_list, name="payment_list"),
    path("payments/signoff/", views.payment_signoffs, name="payment_signoffs"),
    path("payments/<int:pk>/", views.payment_detail, name="payment"),
    path("payments/<int:pk>/signoff/", views.payment_signoff, name="payment_signoff"),
    path("payments/<int:pk>/decision/", views.payment_decide, name="payment_decide"),
    path("payments/<int:pk>/paid/", views.payment_paid, name="payment_paid"),
    path("projects/<int:pk>/evm/", views.evm, name="evm"),
    path("evm/", views.rollup, name="rollup"),
]
