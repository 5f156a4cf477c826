"""Domain errors raised by services; each interface maps them once to its own error format.

Messages are English templates with ``%(name)s`` placeholders and keyword parameters, so that every interface
can show them in the reader's language: ``message`` translates the template when it is read (in the request's
language) and then fills the parameters. Mark a template for the translators with :func:`gettext_noop`; this
module imports no Django (pure cores raise these errors too): the core app installs Django's ``gettext`` as the
translator at start-up, and until then messages stay in English.
"""

from collections.abc import Callable

_translate: Callable[[str], str] = str


def set_translator(translate: Callable[[str], str]) -> None:
    """Install the function that translates message templates (Django's ``gettext``, at start-up)."""
    global _translate
    _translate = translate


def gettext_noop(message: str) -> str:
    """Mark an error template for extraction into the .po files; translated later, when it is shown."""
    return message


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "error"

    def __init__(self, message: str = "", *, field: str | None = None, **params: object) -> None:
        self.template = str(message or self.__class__.__name__)
        self.params = params
        self.field = field
        super().__init__(self._render(self.template))

    def _render(self, text: str) -> str:
        return text % self.params if self.params else text

    @property
    def message(self) -> str:
        """The message in the active language, parameters filled in."""
        return self._render(_translate(self.template))

    def as_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class Invalid(DomainError):
    """Bad input: which field, and why."""

    status = 400
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"
