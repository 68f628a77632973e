from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "minsheng.finance"
    label = "finance"
    verbose_name = _("资金")

    def ready(self) -> None:
        from minsheng.finance import anchoring

        anchoring.register()
