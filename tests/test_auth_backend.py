"""Signing in with a username or a mobile number (tracker/auth.py), through Django's authenticate and the
lock-out backend in front of it."""

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory

from tests.factories import EnterpriseUserFactory, UserFactory
from tracker.auth import lockout_username

PASSWORD = "pass-123456"


def sign_in(username, password=PASSWORD):
    """Who `authenticate` lets in, as the portal's login form would ask (the lock-out backend needs a request)."""
    return authenticate(request=RequestFactory().post("/portal/login/"), username=username, password=password)


@pytest.fixture
def wang(db):
    return EnterpriseUserFactory(username="wang_jl", phone="13812345678")


def test_a_user_signs_in_with_their_username(wang):
    assert sign_in("wang_jl") == wang
    assert sign_in("  wang_jl  ") == wang


@pytest.mark.parametrize("typed", ["13812345678", "+8613812345678", "138-1234-5678", "138 1234 5678", " 13812345678 "])
def test_a_user_signs_in_with_their_mobile_number_however_it_is_typed(wang, typed):
    assert sign_in(typed) == wang


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("wang_jl", "wrong-password"),
        ("13812345678", "wrong-password"),
        ("13899999999", PASSWORD),  # nobody's number
        ("nobody", PASSWORD),
        ("", PASSWORD),
        (None, PASSWORD),
        ("wang_jl", None),
        ("1381234", PASSWORD),  # a different, shorter number
    ],
)
def test_a_wrong_password_or_an_unknown_name_signs_in_nobody(wang, username, password):
    assert sign_in(username, password) is None


def test_a_number_shared_by_two_active_users_signs_in_neither(wang):
    # Given a second active user with the same mobile number
    colleague = UserFactory(username="li_staff", phone="13812345678")
    # When either signs in with the number and their own (correct) password
    # Then neither is let in; each may still use their username
    assert sign_in("13812345678") is None
    assert sign_in("wang_jl") == wang and sign_in("li_staff") == colleague


def test_a_number_shared_with_a_deactivated_account_signs_in_the_active_one(wang):
    EnterpriseUserFactory(username="wang_old", phone="13812345678", is_active=False)
    assert sign_in("13812345678") == wang


def test_a_deactivated_user_cannot_sign_in_either_way(wang):
    # Given the user's account deactivated
    wang.is_active = False
    wang.save(update_fields=["is_active"])
    # Then neither the username nor the number lets them in
    assert sign_in("wang_jl") is None
    assert sign_in("13812345678") is None


def test_a_username_that_looks_like_a_number_is_still_a_username(db):
    # Given a user whose username is a mobile number, and another user who has that number as their phone
    owner = UserFactory(username="13900000000")
    UserFactory(username="zhao", phone="13900000000")
    # Then the number signs in the user whose username it is
    assert sign_in("13900000000") == owner


# ---- lock-out after repeated failures --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "counted_as"),
    [
        ("13812345678", "13812345678"),
        (" +86 138-1234-5678 ", "13812345678"),
        ("1-3-8-1-2-3-4-5-6-7-8", "13812345678"),
        (" wang_jl ", "wang_jl"),
        ("", None),
    ],
)
def test_failures_are_counted_once_per_number_however_it_is_typed(typed, counted_as):
    request = RequestFactory().post("/portal/login/", {"username": typed})
    assert lockout_username(request, {"username": typed}) == counted_as
    assert lockout_username(request) == counted_as


def _fail_in_every_format(limit: int) -> list[str]:
    """`limit` failed sign-ins with the number, each typed differently."""
    formats = [f"138{'-' * n}12345678" for n in range(limit)]
    for typed in formats:
        assert sign_in(typed, "wrong-password") is None
    return formats


def test_a_number_locked_after_repeated_failures_stays_locked_however_it_is_typed(wang, settings):
    # Given the lock-out counting failures under lockout_username
    settings.AXES_USERNAME_CALLABLE = "tracker.auth.lockout_username"
    # When someone fails as many times as allowed, typing the number differently each time
    _fail_in_every_format(settings.AXES_FAILURE_LIMIT)
    # Then the right password, however the number is typed, no longer signs in
    for typed in ("13812345678", "138 1234 5678", "+8613812345678"):
        assert sign_in(typed) is None


def test_the_lock_out_is_configured_to_count_a_number_once(wang, settings):
    _fail_in_every_format(settings.AXES_FAILURE_LIMIT)
    assert sign_in("13812345678") is None
