from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "smartip.core"
    label = "core"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from smartip.core.errors import set_translator

        set_translator(gettext)  # domain errors are shown in the reader's language
