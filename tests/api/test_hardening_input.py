"""Input an attacker or a careless client sends — nested too deep, lone surrogates, NUL, forged cursors — is a
400 or 404 in the API's error shape, never a 500, and writes nothing."""

from base64 import b64encode

import pytest

from tests.factories import case_at
from tracker.models import Case, CaseEvent

pytestmark = pytest.mark.django_db

SUBMIT = '{"category": "land", "title": "道路积水", "description": "厂区门口积水"%s}'
NESTED = "[" * 1000 + "]" * 1000  # 2 KB


def _refused(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) >= {"code", "message", "fields"}, body
    return body


# Deeply nested JSON -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", [NESTED, SUBMIT % (', "ignored": ' + NESTED)], ids=["the whole body", "inside an ignored field"]
)
def test_json_nested_a_thousand_deep_is_refused_as_malformed(zone, api, raw):
    # When a client posts a 2 KB body of a thousand nested arrays
    response = api(zone.enterprise_user).post("/api/v1/cases/", raw, content_type="application/json")

    # Then it is a 400 in the API's shape, and nothing is written
    body = _refused(response)
    assert body["code"] == "malformed" and "嵌套" in body["message"]
    assert not Case.objects.exists()


def test_json_nested_a_few_levels_is_still_accepted(zone, api):
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/", SUBMIT % ', "ignored": [[[{"a": [1]}]]]', content_type="application/json"
    )
    assert response.status_code == 201, response.json()


# Lone surrogates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_key", [True, False], ids=["with an Idempotency-Key", "without"])
@pytest.mark.parametrize(
    "extra", [', "title": "\\ud800"', ', "ignored": {"deep": ["\\udfff"]}'], ids=["in a field", "in an ignored field"]
)
def test_a_lone_surrogate_in_a_submission_is_a_400_naming_where(zone, api, with_key, extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": "surrogate-1"} if with_key else {}
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/", SUBMIT % extra, content_type="application/json", **headers
    )
    body = _refused(response)
    assert body["code"] == "invalid"
    assert any("代理项" in message for messages in body["fields"].values() for message in messages), body
    assert not Case.objects.exists()


def test_a_lone_surrogate_in_add_info_is_a_400_and_adds_nothing(zone, api):
    case = case_at(zone, Case.Status.IN_PROGRESS)
    events = CaseEvent.objects.filter(case=case).count()
    response = api(zone.enterprise_user).post(
        f"/api/v1/cases/{case.pk}/add_info/",
        '{"note": "补充\\ud800说明"}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="add-info-1",
    )
    body = _refused(response)
    assert list(body["fields"]) == ["note"]
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_surrogate_pair_is_an_ordinary_character(zone, api):
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/",
        SUBMIT % ', "ignored": "\\ud83d\\ude00"',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="emoji-1",
    )
    assert response.status_code == 201, response.json()


def test_fingerprinting_survives_a_lone_surrogate():
    # Given a request whose parsed data holds a lone surrogate (a parser that let one through)
    from types import SimpleNamespace

    from tracker.api.views.base import _fingerprint

    # Then fingerprinting it does not fail
    assert len(_fingerprint(SimpleNamespace(data={"note": "\ud800"}))) == 64


# NUL in JSON and form values ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "multipart"])
def test_a_nul_in_category_is_a_400_naming_it(zone, api, fmt):
    payload = {"category": "la\x00nd", "title": "道路积水", "description": "厂区门口积水"}
    response = api(zone.enterprise_user).post("/api/v1/cases/", payload, format=fmt)
    body = _refused(response)
    assert body["code"] == "invalid" and list(body["fields"]) == ["category"], body
    assert not Case.objects.exists()


def test_a_nul_nested_in_a_list_is_named_by_its_path(zone, api):
    response = api(zone.enterprise_user).post(
        "/api/v1/cases/", SUBMIT % ', "tasks": [{"title": "a\\u0000"}]', content_type="application/json"
    )
    assert list(_refused(response)["fields"]) == ["tasks[0].title"]


def test_a_nul_in_the_query_string_is_a_400_naming_the_parameter(zone, api):
    response = api(zone.leader).get("/api/v1/cases/", {"q": "x\x00"})
    body = _refused(response)
    assert body["code"] == "invalid" and list(body["fields"]) == ["q"]


def test_a_nul_in_an_api_path_is_a_404_in_the_api_shape(zone, api):
    body = _refused(api(zone.leader).get("/api/v1/cases/%00/"), 404)
    assert body["code"] == "not_found"


# Forged cursors -----------------------------------------------------------------------------------------------


def _cursor(text: str) -> str:
    return b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("ordering", "position"),
    [
        (None, "p=abc"),
        (None, "p=2024-01-01"),
        ("updated_at", "p=2024-13-45"),
        ("updated_at", "p=abc"),
        ("submitted_at", "p=1"),
        (None, "p=1%00"),
        (None, "o=-5&p=abc"),
    ],
)
def test_a_forged_cursor_is_a_404_in_the_api_shape(zone, api, ordering, position):
    case_at(zone, Case.Status.SUBMITTED)
    params = {"cursor": _cursor(position), **({"ordering": ordering} if ordering else {})}
    body = _refused(api(zone.enterprise_user).get("/api/v1/cases/", params), 404)
    assert body["code"] == "not_found" and "游标" in body["message"]


def test_a_genuine_cursor_still_pages(zone, api):
    for _ in range(3):
        case_at(zone, Case.Status.SUBMITTED)
    client = api(zone.enterprise_user)
    first = client.get("/api/v1/cases/", {"page_size": 2, "ordering": "updated_at"}).json()
    second = client.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1


@pytest.mark.parametrize("position", ["p=abc", "p=2024-13-45"])
def test_a_forged_cursor_on_a_case_timeline_is_a_404_too(zone, api, position):
    case = case_at(zone, Case.Status.IN_PROGRESS)
    response = api(zone.enterprise_user).get(f"/api/v1/cases/{case.pk}/events/", {"cursor": _cursor(position)})
    assert _refused(response, 404)["code"] == "not_found"


# Digits that are not digits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["²", '"²"', "٣", '"1²"'])
def test_an_if_match_of_unicode_digits_is_refused_naming_the_header(zone, api, tag):
    # "²" is a digit to str.isdigit() and not to int(); "٣" is one to both: neither is an ETag of ours
    case = case_at(zone, Case.Status.SUBMITTED)
    response = api(zone.concierge).post(f"/api/v1/cases/{case.pk}/accept/", {}, format="json", HTTP_IF_MATCH=tag)
    assert list(_refused(response)["fields"]) == ["If-Match"]
    assert Case.objects.get(pk=case.pk).status == Case.Status.SUBMITTED


def test_a_rating_of_unicode_digits_is_refused_by_the_service(zone):
    from services.cases import steps as case_services
    from services.errors import InvalidInput

    case = case_at(zone, Case.Status.RESOLVED)
    with pytest.raises(InvalidInput) as refused:
        case_services.confirm_case(actor=zone.enterprise_user, case=case, rating="²")
    assert "rating" in refused.value.fields
