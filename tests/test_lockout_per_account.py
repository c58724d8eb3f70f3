"""The sign-in lock counts failures per account, whatever identifier was typed (username or mobile number, any
spelling), in the portal and the admin alike; a name nobody has is locked the same way."""

import re

import pytest
from axes.models import AccessAttempt

from tests.factories import EnterpriseUserFactory
from tests.portal.conftest import PASSWORD, html

pytestmark = pytest.mark.django_db

PORTAL_LOGIN = "/portal/login/"
ADMIN_LOGIN = "/admin/login/"
PHONE = "13912345678"
LOCKED = "连续 5 次登录失败"


@pytest.fixture
def ent_user(zone):
    """The enterprise user, with a mobile number on file."""
    zone.enterprise_user.phone = PHONE
    zone.enterprise_user.save(update_fields=["phone"])
    return zone.enterprise_user


def _login(client, username: str, password: str = PASSWORD, url: str = PORTAL_LOGIN):
    return client.post(url, {"username": username, "password": password})


def _fail(client, typed: list[str], url: str = PORTAL_LOGIN) -> None:
    """A failed sign-in for each name typed; the one that reaches the limit is answered with the lock page."""
    for username in typed:
        _login(client, username, "wrong-password", url)


@pytest.mark.parametrize(
    ("failed_as", "then_typed"),
    [
        (["ent_user"] * 5, PHONE),
        ([PHONE] * 5, "ent_user"),
        (["+86 139-1234-5678"] * 5, " ent_user "),
    ],
)
def test_failures_under_one_identifier_lock_the_account_under_every_other(client, ent_user, failed_as, then_typed):
    # Given as many failed sign-ins as allowed, typed one way
    _fail(client, failed_as)
    # When the right password is typed with another identifier of the same account
    response = _login(client, then_typed)
    # Then the account is locked: 429 and the lock page, nobody signed in
    assert response.status_code == 429 and LOCKED in html(response)
    assert not response.wsgi_request.user.is_authenticated


def test_every_spelling_of_an_account_counts_towards_one_limit(client, ent_user):
    # Given five failures, each with a different spelling of the same account
    _fail(client, ["ent_user", PHONE, "+86" + PHONE, " 139 1234 5678 ", "ENT_USER"])
    # Then the sixth attempt, with the right password, is refused
    assert _login(client, "ent_user").status_code == 429
    assert AccessAttempt.objects.get().username == "ent_user"


def test_four_failures_in_mixed_spellings_still_let_the_owner_in(client, ent_user):
    _fail(client, ["ent_user", PHONE, "+86" + PHONE, "Ent_User"])
    assert _login(client, PHONE).status_code == 302


def test_a_locked_account_does_not_lock_another(client, zone, ent_user):
    # Given the enterprise user locked by failures with the phone number
    _fail(client, [PHONE] * 5)
    # Then a colleague (with a phone number of their own) still signs in either way
    zone.other_enterprise_user.phone = "13700000000"
    zone.other_enterprise_user.save(update_fields=["phone"])
    assert _login(client, "other_ent_user").status_code == 302
    client.post("/portal/logout/")
    assert _login(client, "13700000000").status_code == 302


def test_the_lock_holds_in_the_admin_for_an_account_failed_in_the_portal(client, zone):
    # Given a staff member with a mobile number, failed five times in the portal by that number
    zone.concierge.phone = "13600000000"
    zone.concierge.save(update_fields=["phone"])
    _fail(client, ["136-0000-0000"] * 5)
    # When they sign in to the admin with their username and the right password
    response = _login(client, "concierge", url=ADMIN_LOGIN)
    # Then the admin refuses too
    assert response.status_code == 429 and "15 分钟" in html(response)


def test_the_lock_holds_in_the_portal_for_an_account_failed_in_the_admin(client, ent_user):
    _fail(client, ["ent_user"] * 5, url=ADMIN_LOGIN)
    assert _login(client, "+86 " + PHONE).status_code == 429


@pytest.mark.parametrize(("known", "unknown"), [("ent_user", "nobody_here"), (PHONE, "13900000000")])
def test_an_unknown_name_is_counted_and_locked_like_a_known_one(client, ent_user, known, unknown):
    # Given four failures on a known account and on a name nobody has, each in mixed spellings
    spell = (str.upper, str.lower, lambda s: f"  {s} ", lambda s: s)
    if known == PHONE:
        spell = (lambda s: "+86" + s, lambda s: f"{s[:3]}-{s[3:7]}-{s[7:]}", lambda s: f" {s} ", lambda s: s)
    answers = {name: [_login(client, f(name), "wrong-password") for f in spell] for name in (known, unknown)}
    # Then every failure got the same answer, one count per name
    for name in (known, unknown):
        assert [r.status_code for r in answers[name]] == [200] * 4
    assert AccessAttempt.objects.count() == 2
    assert {a.failures_since_start for a in AccessAttempt.objects.all()} == {4}
    # And the fifth failure locks both alike, with the same page
    fifth = {name: _login(client, name, "wrong-password") for name in (known, unknown)}
    after = {name: _login(client, name) for name in (known, unknown)}
    assert after[known].status_code == after[unknown].status_code == 429
    assert fifth[known].status_code == fifth[unknown].status_code
    assert _without_csrf_token(after[known]) == _without_csrf_token(after[unknown])


def _without_csrf_token(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html(response))


def test_failures_from_several_addresses_count_together(client, ent_user):
    # Rotating addresses buys no fresh guesses: the count is the account's
    for n in range(5):
        client.post(PORTAL_LOGIN, {"username": PHONE, "password": "wrong"}, REMOTE_ADDR=f"203.0.113.{n}")
    assert client.post(PORTAL_LOGIN, {"username": "ent_user", "password": PASSWORD}).status_code == 429


def test_a_username_that_is_another_accounts_number_names_only_its_owner(client, db):
    # Given a user whose username is a mobile number, and another user who has that number as their phone
    owner = EnterpriseUserFactory(username="13900000000")
    owner.set_password("owner-secret-1")
    owner.save(update_fields=["password"])
    EnterpriseUserFactory(username="zhao", phone="13900000000")
    # When the number is typed with zhao's password, it does not sign zhao in (the number names the owner)
    assert _login(client, "13900000000").status_code == 200
    # And failures typed so lock the owner, not zhao
    _fail(client, ["13900000000"] * 4)
    assert AccessAttempt.objects.get().username == owner.username
    assert _login(client, "zhao").status_code == 302
