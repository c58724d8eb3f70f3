"""Sign-in with a username or a mobile number, one password either way."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tracker.models import User


class UsernameOrPhoneBackend(ModelBackend):
    """Django's model backend, also accepting the mobile number of exactly one active account.

    A number shared by several accounts signs in none of them (the user is asked for the username instead, by
    the same message as a wrong password, so nothing tells which numbers are registered).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = (username or kwargs.get(User.USERNAME_FIELD) or "").strip()
        if not username or password is None:
            return None
        user = super().authenticate(request, username=username, password=password)
        if user is not None or not _looks_like_phone(username):
            return user
        numbers = {username, _digits(username)}
        matches = list(User.objects.filter(phone__in=numbers, is_active=True)[:2])
        if len(matches) != 1:
            User().set_password(password)  # the same work as a real check, so timing does not tell either
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_username(request, credentials: dict | None = None) -> str | None:
    """The name django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE): a mobile number counts once
    however it is typed, or spaces, dashes and +86 would each buy a fresh set of guesses."""
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    value = (value or "").strip() if isinstance(value, str) else ""
    return (_digits(value) if _looks_like_phone(value) else value) or None


def _digits(value: str) -> str:
    return value.removeprefix("+86").replace("-", "").replace(" ", "")


def _looks_like_phone(value: str) -> bool:
    digits = _digits(value)
    return digits.isdigit() and 7 <= len(digits) <= 15
