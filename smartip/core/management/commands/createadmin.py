import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from smartip.accounts.models import User


class Command(BaseCommand):
    help = "Create a platform administrator (superuser with access to /admin and every city)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="read from the prompt when absent")

    def handle(self, *args: Any, username: str, email: str, password: str | None, **opts: Any) -> None:
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists")
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("give --password when not on a terminal")
            password = getpass.getpass("Password: ")
        if len(password) < 8:
            raise CommandError("the password needs at least 8 characters")
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(f"administrator {username} created")
