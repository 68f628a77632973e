from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "minsheng.feedback"
    label = "feedback"
    verbose_name = _("群众诉求")
