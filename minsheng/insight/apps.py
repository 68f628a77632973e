from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightConfig(AppConfig):
    name = "minsheng.insight"
    label = "insight"
    verbose_name = _("风险线索与抽查")

    def ready(self) -> None:
        # insight sits above procurement and finance (decision 0004): it reacts to their events on commit.
        from minsheng.insight import handlers  # noqa: F401  (subscribes red-flag handlers)
        from minsheng.procurement.ocds import handlers as ocds_handlers  # noqa: F401  (subscribes the publisher)
