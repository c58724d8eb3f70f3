"""A workbench form posted with values no page sends — a key that is no number, a number past any key, a "digit"
int() refuses — is answered (the form's error, or 400 for a tampered list), never with a server error, and
changes nothing. Found by the form fuzzer (tests/test_form_fuzz.py)."""

import pytest
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule

from services import api_tokens
from tests.factories import case_at
from tracker.models import ApiToken, Case, Category, Visit

pytestmark = pytest.mark.django_db

NOT_KEYS = [" ", "abc", "9" * 40, "²"]  # "²" is a digit to str.isdigit(), not to int()


@pytest.mark.parametrize("value", NOT_KEYS)
def test_the_intake_shows_an_enterprise_that_is_no_key_as_the_fields_error(client, zone, value):
    # Given a concierge registering a case (the enterprise is an autocomplete)
    client.force_login(zone.concierge)
    cases = Case.objects.count()

    # When the enterprise posted is no enterprise's key
    response = client.post(reverse("admin:tracker_case_add"), {"enterprise": value, "title": "积水"})

    # Then the form is shown again with the enterprise's error, and no case is registered
    assert response.status_code == 200
    assert "企业不存在或无权为其登记诉求" in response.content.decode()
    assert Case.objects.count() == cases


@pytest.mark.parametrize("value", [" ", "9" * 40])
def test_a_persons_department_that_is_no_key_is_the_fields_error(client, zone, value):
    client.force_login(zone.admin)
    url = reverse("admin:tracker_user_change", args=[zone.officer.pk])
    response = client.post(url, {"username": zone.officer.username, "department": value})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    zone.officer.refresh_from_db()
    assert zone.officer.department_id is not None


@pytest.mark.parametrize("value", NOT_KEYS)
def test_a_list_action_on_rows_that_are_no_keys_is_refused(client, zone, value):
    # Given an administrator on the API tokens, one of them active
    token, _key = api_tokens.create_token(actor=zone.admin, user=zone.integration, name="12345", expires_at=None)
    client.force_login(zone.admin)

    # When "revoke" is posted for a row that is no token's key (besides the real one)
    data = {"action": "revoke", "_selected_action": [str(token.pk), value], "index": "0"}
    response = client.post(reverse("admin:tracker_apitoken_changelist"), data)

    # Then the request is refused and the token stays active
    assert response.status_code == 400
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_an_editable_list_posted_for_a_row_past_any_key_is_refused(client, zone):
    client.force_login(zone.admin)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": "9" * 40,
        "form-0-accept_days": "9",
        "form-0-task_days": "9",
        "form-0-verdict_days": "9",
        "_save": "保存",
    }
    response = client.post(reverse("admin:tracker_category_changelist"), data)
    assert response.status_code == 400
    assert Category.objects.get(pk=zone.category.pk).accept_days != 9


def test_a_crontab_with_an_invalid_field_is_shown_again_with_its_error(client, zone):
    client.force_login(zone.admin)
    fields = {"hour": "*", "day_of_month": "*", "month_of_year": "*", "day_of_week": "*", "timezone": "Asia/Shanghai"}
    response = client.post(reverse("admin:django_celery_beat_crontabschedule_add"), {**fields, "minute": "-1"})
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not CrontabSchedule.objects.exists()


@pytest.mark.parametrize(
    ("name", "parameter"),
    [
        ("admin:tracker_case_changelist", "project"),
        ("admin:tracker_case_changelist", "enterprise"),
        ("admin:tracker_task_changelist", "unit_department"),
        ("admin:tracker_task_changelist", "task_force"),
        ("admin:tracker_case_add", "enterprise"),
        ("admin:tracker_case_intake_projects", "enterprise"),
    ],
)
@pytest.mark.parametrize("value", ["²", "9" * 17, "9" * 40])
def test_a_key_no_object_can_have_in_a_workbench_address_is_no_server_error(client, zone, name, parameter, value):
    case_at(zone, Case.Status.IN_PROGRESS)
    client.force_login(zone.concierge)
    assert client.get(reverse(name), {parameter: value}).status_code == 200


def test_the_enterprise_filter_still_finds_a_credit_code_of_eighteen_digits(client, zone):
    # Given a case of an enterprise whose credit code is all digits
    case_at(zone, Case.Status.IN_PROGRESS)
    zone.enterprise.uscc = "913205831234567890"
    zone.enterprise.save()
    client.force_login(zone.concierge)

    # When the case list is filtered by that code, then the case is listed
    response = client.get(reverse("admin:tracker_case_changelist"), {"enterprise": "913205831234567890"})
    assert response.status_code == 200
    assert response.context_data["cl"].result_count == 1


@pytest.mark.parametrize(
    ("name", "field"),
    [("admin:tracker_taskforce_change", "members"), ("admin:tracker_user_change", "user_permissions")],
)
def test_a_many_to_many_key_past_any_row_is_the_fields_error(client, zone, name, field):
    # Given an administrator on a page with a many-to-many field
    client.force_login(zone.admin)
    obj = zone.task_force if "taskforce" in name else zone.officer

    # When it is posted with a key no row can have
    response = client.post(reverse(name, args=[obj.pk]), {field: "9" * 40})

    # Then the form is shown again with its errors
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


def test_a_decomposition_posted_with_a_billion_rows_is_refused_without_building_them(client, zone):
    # Given a concierge decomposing an accepted case
    case = case_at(zone, Case.Status.ACCEPTED)
    client.force_login(zone.concierge)
    url = reverse("admin:tracker_case_action", args=[case.pk, "decompose"])

    # When the form claims a billion rows
    data = {"version": case.version, "tasks-TOTAL_FORMS": "999999999", "tasks-INITIAL_FORMS": "0"}
    response = client.post(url, data)

    # Then it is refused on the page, which shows no more rows than a decomposition may have
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errornote' in page
    assert page.count('name="tasks-') < 60 * 6
    assert not case.tasks.exists()


def test_a_visit_posted_with_a_billion_problems_is_refused_without_building_them(client, zone):
    client.force_login(zone.concierge)
    data = {"enterprise": zone.enterprise.pk, "problems-TOTAL_FORMS": "999999999", "problems-INITIAL_FORMS": "0"}
    response = client.post(reverse("admin:tracker_visit_add"), data)
    assert response.status_code == 200
    assert response.content.decode().count('name="problems-') < 60 * 4
    assert not Visit.objects.exists()


def test_an_action_posted_with_a_version_no_page_sends_says_why_it_is_refused(client, zone):
    # Given a concierge declining a submitted case
    case = case_at(zone, Case.Status.SUBMITTED)
    client.force_login(zone.concierge)

    # When the form comes back with a version that is no number
    url = reverse("admin:tracker_case_action", args=[case.pk, "decline"])
    response = client.post(url, {"version": "1e309", "reason": "不属于受理范围"})

    # Then the page says so (the version is a hidden field: its error has no place of its own) and nothing changed
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errornote' in page and "version" in page.split('class="errornote', 1)[1].split("</p>", 1)[0]
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
