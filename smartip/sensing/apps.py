from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensingConfig(AppConfig):
    name = "smartip.sensing"
    label = "sensing"
    verbose_name = _("Citizen sensing")
