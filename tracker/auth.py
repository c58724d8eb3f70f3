"""Sign-in with a username or a mobile number, one password either way."""

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


def _digits(value: str) -> str:
    return value.removeprefix("+86").replace("-", "").replace(" ", "")


def _looks_like_phone(value: str) -> bool:
    digits = _digits(value)
    return digits.isdigit() and 7 <= len(digits) <= 15
