from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "minsheng.projects"
    label = "projects"
    verbose_name = _("项目")

    def ready(self) -> None:
        from minsheng.projects import events  # noqa: F401  (subscribes handlers)
