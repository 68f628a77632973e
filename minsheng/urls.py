from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve as static_serve

from minsheng.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("console/ledger/", include("minsheng.ledger.console_urls")),
    path("console/feedback/", include("minsheng.feedback.console_urls")),
    path("console/finance/", include("minsheng.finance.console_urls")),
    path("console/insight/", include("minsheng.insight.console_urls")),
    path("console/procurement/", include("minsheng.procurement.console_urls")),
    path("console/", include("minsheng.construction.console_urls")),
    path("console/", include("minsheng.telemetry.console_urls")),
    path("console/", include("minsheng.console.urls")),
    path("ledger/", include("minsheng.ledger.urls")),
    path("feedback/", include("minsheng.feedback.urls")),
    path("open311/v2/", include("minsheng.feedback.open311_urls")),
    path("ocds/v1/", include("minsheng.procurement.ocds.urls")),
    path("procurement/", include("minsheng.procurement.urls")),
    path("", include("minsheng.portal.urls")),
]

if not settings.PRODUCTION:
    # Uploaded files in development; in production the front web server serves MEDIA_ROOT.
    urlpatterns.append(path("media/<path:path>", static_serve, {"document_root": settings.MEDIA_ROOT}))
