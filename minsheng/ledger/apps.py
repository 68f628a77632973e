from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "minsheng.ledger"
    label = "ledger"
    verbose_name = _("证据日志")

    def ready(self) -> None:
        from minsheng.ledger import events, registry  # noqa: F401  (subscribes handlers)

        registry.register_projects()
