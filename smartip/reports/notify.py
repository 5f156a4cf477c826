"""Notifiers: who hears about a public update, through a backend chosen by name in settings.NOTIFIER.

"email" (default) sends through Django's default mailer (settings.MAILERS) and logs, never raises, when the mail
server fails (an update is saved whether or not its email goes out), "console" logs, "memory" keeps messages in
`MemoryNotifier.sent` for tests. A new channel (SMS, push) is one more class registered in NOTIFIERS.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.utils.translation import gettext as _

from smartip.reports.models import Report, ReportUpdate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Notifier(Protocol):
    def send(self, messages: list[Message]) -> None: ...


class EmailNotifier:
    def send(self, messages: list[Message]) -> None:
        if not messages:
            return
        emails = [EmailMessage(subject=m.subject, body=m.body, to=[m.to]) for m in messages]
        try:
            with mailers.default as connection:
                connection.send_messages(emails)
        except OSError:  # smtplib.SMTPException is an OSError: server down, refused, timed out
            log.exception("could not send %d notification email(s)", len(emails))


class ConsoleNotifier:
    def send(self, messages: list[Message]) -> None:
        for m in messages:
            log.info("notify %s: %s", m.to, m.subject)


class MemoryNotifier:
    sent: list[Message] = []

    def send(self, messages: list[Message]) -> None:
        MemoryNotifier.sent.extend(messages)


NOTIFIERS: dict[str, type[Notifier]] = {
    "email": EmailNotifier,
    "console": ConsoleNotifier,
    "memory": MemoryNotifier,
}


def get_notifier() -> Notifier:
    name = getattr(settings, "NOTIFIER", "email")
    try:
        return NOTIFIERS[name]()
    except KeyError:
        raise ValueError(f"unknown NOTIFIER {name!r}; use one of {sorted(NOTIFIERS)}") from None


def recipients_for(report: Report, update: ReportUpdate) -> list[str]:
    """Reporter and supporters, without the author, each once. A contact email given with the report wins
    over the reporting account's: an Open311 app posts with its own key on behalf of the person who wrote."""
    emails: list[str] = []
    if report.contact_email:
        emails.append(report.contact_email)
    elif report.reporter is not None and report.reporter.email:
        emails.append(report.reporter.email)
    emails += [u.email for u in report.supporters.all() if u.email]
    author_email = update.author.email if update.author is not None else None
    return [e for i, e in enumerate(emails) if e and e != author_email and e not in emails[:i]]


def notify_update(report: Report, update: ReportUpdate, recipients: list[str]) -> int:
    """Send one message per recipient about a public update; returns how many were sent."""
    if not update.is_public or not recipients:
        return 0
    subject = _("Update on your report #%(id)s: %(name)s") % {"id": report.pk, "name": report.category.name}
    lines = [update.text] if update.text else []
    if update.new_status:
        lines.insert(0, _("Status: %(status)s") % {"status": report.get_status_display()})
    body = "\n\n".join(lines)
    get_notifier().send([Message(to=r, subject=subject, body=body) for r in recipients])
    return len(recipients)
