from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConstructionConfig(AppConfig):
    name = "minsheng.construction"
    label = "construction"
    verbose_name = _("施工监理")

    def ready(self) -> None:
        from minsheng.construction import anchoring

        anchoring.register()
