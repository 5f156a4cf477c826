from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smartip.core"
    label = "core"
