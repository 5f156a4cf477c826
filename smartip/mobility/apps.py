from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MobilityConfig(AppConfig):
    name = "smartip.mobility"
    label = "mobility"
    verbose_name = _("Citizen mobility")
