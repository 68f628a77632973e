from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProcurementConfig(AppConfig):
    name = "minsheng.procurement"
    label = "procurement"
    verbose_name = _("招标采购与合同")

    def ready(self) -> None:
        from minsheng.procurement import anchoring

        anchoring.register()
