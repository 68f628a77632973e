from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelemetryConfig(AppConfig):
    name = "minsheng.telemetry"
    label = "telemetry"
    verbose_name = _("物联监测")

    def ready(self) -> None:
        from minsheng.telemetry import anchoring

        anchoring.register()
