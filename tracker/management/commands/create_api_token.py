"""`manage.py create_api_token USERNAME [--name ...] [--days N]`: issue a token and print its key once."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from services import api_tokens
from services.errors import ServiceError
from tracker.models import User


class Command(BaseCommand):
    help = "Issue an API token for a user and print the key (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for (shown in the admin)")
        parser.add_argument("--days", type=int, default=None, help="expire after this many days (default: never)")

    def handle(self, *args, username, name, days, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            token, key = api_tokens.create_token(actor=None, user=user, name=name, expires_at=expires_at)
        except ServiceError as error:
            raise CommandError(f"{error.message} {error.fields}") from None
        self.stderr.write(
            f"Token {token.prefix}… for {user.username}"
            + (f", expires {timezone.localtime(expires_at):%Y-%m-%d %H:%M}" if expires_at else ", no expiry")
            + ". The key is shown only now:"
        )
        self.stdout.write(key)
