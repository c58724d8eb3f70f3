"""Signing in and out of the portal: username or phone, no account enumeration, the lock after repeated failures,
who may use the portal, password change (reset by email: test_password_reset.py)."""

import pytest

from tests.portal.conftest import PASSWORD, html, messages_of

pytestmark = pytest.mark.django_db

LOGIN = "/portal/login/"
GENERIC_ERROR = "用户名（或手机号）与密码不匹配"


def _login(client, username: str, password: str = PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def _signed_in_as(client):
    """The user the portal sees on the next request (None when anonymous)."""
    response = client.get("/portal/")
    user = response.wsgi_request.user
    return user if user.is_authenticated else None


def test_an_enterprise_user_signs_in_with_the_username(client, zone):
    response = _login(client, "ent_user")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert _signed_in_as(client) == zone.enterprise_user


@pytest.mark.parametrize("typed", ["13912345678", "+86 139-1234-5678"])
def test_an_enterprise_user_signs_in_with_the_phone_number(client, zone, typed):
    # Given a user whose mobile number is on file
    zone.enterprise_user.phone = "13912345678"
    zone.enterprise_user.save(update_fields=["phone"])
    # When they type the number (as it is, or written with the country code and dashes) and the password
    response = _login(client, typed)
    # Then they are in
    assert response.status_code == 302
    assert _signed_in_as(client) == zone.enterprise_user


def test_a_phone_number_shared_by_two_accounts_signs_in_neither(client, zone):
    for user in (zone.enterprise_user, zone.other_enterprise_user):
        user.phone = "13912345678"
        user.save(update_fields=["phone"])
    response = _login(client, "13912345678")
    assert response.status_code == 200 and GENERIC_ERROR in html(response)
    assert _signed_in_as(client) is None


def test_a_login_goes_back_to_the_page_asked_for(client, zone):
    response = client.post(LOGIN + "?next=/portal/notifications/", {"username": "ent_user", "password": PASSWORD})
    assert response["Location"] == "/portal/notifications/"


def test_a_login_never_goes_to_another_site(client, zone):
    response = client.post(LOGIN + "?next=https://evil.example.com/", {"username": "ent_user", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(client, zone):
    # When one person types a wrong password for a real account, and another a name nobody has
    known = _login(client, "ent_user", "wrong-password")
    unknown = _login(client, "nobody_here", "wrong-password")
    # Then both get the same page with the same generic message: nothing tells which accounts exist
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert GENERIC_ERROR in html(known) and GENERIC_ERROR in html(unknown)
    assert _signed_in_as(client) is None


def test_after_five_failures_even_the_right_password_is_locked_out(client, zone):
    # Given five failed attempts on one username
    for _attempt in range(4):
        assert _login(client, "ent_user", "wrong-password").status_code == 200
    _login(client, "ent_user", "wrong-password")
    # When the right password is typed the sixth time
    response = _login(client, "ent_user", PASSWORD)
    # Then the login is refused with 429 and the page says why and for how long
    assert response.status_code == 429
    assert "连续 5 次登录失败" in html(response) and "15 分钟" in html(response)
    assert _signed_in_as(client) is None


def test_an_unknown_username_is_locked_the_same_way(client, zone):
    # So a lock tells nobody whether the account exists
    for _attempt in range(5):
        _login(client, "nobody_here", "wrong-password")
    response = _login(client, "nobody_here", "wrong-password")
    assert response.status_code == 429 and "15 分钟" in html(response)


def test_the_lock_is_per_username_so_colleagues_still_sign_in(client, zone):
    for _attempt in range(6):
        _login(client, "ent_user", "wrong-password")
    assert _login(client, "other_ent_user").status_code == 302


def test_a_success_before_the_limit_clears_the_failures(client, zone):
    for _attempt in range(4):
        _login(client, "ent_user", "wrong-password")
    assert _login(client, "ent_user").status_code == 302
    client.post("/portal/logout/")
    for _attempt in range(4):
        _login(client, "ent_user", "wrong-password")
    assert _login(client, "ent_user").status_code == 302


def test_logout_is_a_post(portal):
    # A link (GET) cannot sign anybody out
    assert portal.get("/portal/logout/").status_code == 405
    assert _signed_in_as(portal) is not None
    # The button (POST) does, and goes back to the login page
    response = portal.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert _signed_in_as(portal) is None


def test_staff_are_shown_the_way_to_the_workbench(client, zone):
    client.force_login(zone.concierge)
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "此门户供企业用户使用" in html(response) and 'href="/admin/"' in html(response)


@pytest.mark.parametrize(
    "url", ["/portal/", "/portal/cases/new/", "/portal/notifications/", "/portal/password/", "/portal/?show=open"]
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, zone, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/portal/login/?next=/portal/")


def test_anonymous_visitor_of_a_case_is_sent_to_the_login_page_and_back(client, zone):
    response = client.get("/portal/cases/GX-2026-000001/")
    assert response["Location"] == "/portal/login/?next=/portal/cases/GX-2026-000001/"


def test_a_signed_in_user_on_the_login_page_goes_home(portal):
    response = portal.get(LOGIN)
    assert response.status_code == 302 and response["Location"] == "/portal/"


# ---- password change ------------------------------------------------------------------------------------------


def test_password_change(client, zone):
    # Given a signed-in enterprise user
    _login(client, "ent_user")
    # When they change their password
    response = client.post(
        "/portal/password/",
        {"old_password": PASSWORD, "new_password1": "Kunshan-new-2026", "new_password2": "Kunshan-new-2026"},
        follow=True,
    )
    # Then they are told so, still signed in, and from now on only the new password works
    assert "密码已修改" in messages_of(response)
    assert _signed_in_as(client) == zone.enterprise_user
    client.post("/portal/logout/")
    assert _login(client, "ent_user", PASSWORD).status_code == 200
    assert _login(client, "ent_user", "Kunshan-new-2026").status_code == 302


def test_password_change_needs_the_old_password(portal, zone):
    response = portal.post(
        "/portal/password/",
        {"old_password": "not-it", "new_password1": "Kunshan-new-2026", "new_password2": "Kunshan-new-2026"},
    )
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    zone.enterprise_user.refresh_from_db()
    assert zone.enterprise_user.check_password(PASSWORD)
