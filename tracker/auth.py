"""Sign-in with a username or a mobile number, one password either way; failed sign-ins counted per account."""

import unicodedata

from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tracker.models import User


class UsernameOrPhoneBackend(ModelBackend):
    """Django's model backend, also accepting the mobile number of exactly one active account.

    A number shared by several accounts signs in none of them (the user is asked for the username instead, by
    the same message as a wrong password, so nothing tells which numbers are registered). Text that is some
    account's username signs in that account only, never another whose phone it happens to be.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        username = (username or kwargs.get(User.USERNAME_FIELD) or "").strip()
        if not username or password is None:
            return None
        user = super().authenticate(request, username=username, password=password)
        if user is not None or not _looks_like_phone(username) or User.objects.filter(username=username).exists():
            return user
        user = _phone_owner(username)
        if user is None:
            User().set_password(password)  # the same work as a real check, so timing does not tell either
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


def lockout_account(request, credentials: dict | None = None) -> str | None:
    """The name django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE): the username of the account
    the typed text would sign in (username, mobile number, any case or spelling), so every way of naming one
    account shares one limit; text naming no account counts under its `lockout_username`, locked the same way."""
    typed = _typed(request, credentials)
    if not typed:
        return None
    account = _account_named(typed)
    return account.username if account is not None else lockout_username(request, credentials)


def lockout_username(request, credentials: dict | None = None) -> str | None:
    """The typed name reduced to one spelling: a mobile number to its digits (spaces, dashes and +86 dropped),
    anything else without case or surrounding space, so no variant buys a fresh set of guesses."""
    typed = unicodedata.normalize("NFKC", _typed(request, credentials))
    return (_digits(typed) if _looks_like_phone(typed) else typed.casefold()) or None


def _typed(request, credentials: dict | None) -> str:
    field = settings.AXES_USERNAME_FORM_FIELD
    value = credentials.get(field) if credentials else getattr(request, "data", request.POST).get(field)
    return value.strip() if isinstance(value, str) else ""


def _account_named(typed: str) -> User | None:
    """The account `typed` names, as the backend reads it: its username, the mobile number of exactly one active
    account, or its username in another case (which signs nobody in, but is no new name to guess under)."""
    account = User.objects.filter(username=typed).first()
    if account is None and _looks_like_phone(typed):
        account = _phone_owner(typed)
    if account is None:
        matches = list(User.objects.filter(username__iexact=typed)[:2])
        account = matches[0] if len(matches) == 1 else None
    return account


def _phone_owner(typed: str) -> User | None:
    matches = list(User.objects.filter(phone__in={typed, _digits(typed)}, is_active=True)[:2])
    return matches[0] if len(matches) == 1 else None


def _digits(value: str) -> str:
    return value.removeprefix("+86").replace("-", "").replace(" ", "")


def _looks_like_phone(value: str) -> bool:
    digits = _digits(value)
    return digits.isdigit() and 7 <= len(digits) <= 15
