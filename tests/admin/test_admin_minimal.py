"""The minimal admin: every model can be looked at; case data cannot be changed here (only through services)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import make_case
from tracker.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, zone):
    zone.admin.is_superuser = True
    zone.admin.save()
    client.force_login(zone.admin)
    return client


def test_every_registered_model_has_a_working_list_page(superuser_client, zone):
    # Given some real case data
    make_case(
        status=Case.Status.CLOSED,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
    )
    # Then every list page of the admin opens
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert superuser_client.get(url).status_code == 200, url


def test_case_page_shows_the_timeline_in_plain_language_and_offers_no_edit(superuser_client, zone):
    case = make_case(
        status=Case.Status.RESOLVED,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
    )
    page = superuser_client.get(reverse("admin:tracker_case_change", args=[case.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "张三 受理了诉求" in text and "作出办结答复" in text
    assert 'name="_save"' not in text  # read-only: no save button


def test_events_cannot_be_added_changed_or_deleted_in_the_admin(superuser_client, zone):
    case = make_case(
        status=Case.Status.ACCEPTED,
        enterprise_user=zone.enterprise_user,
        concierge=zone.concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
    )
    event = case.events.first()
    assert superuser_client.get(reverse("admin:tracker_caseevent_add")).status_code == 403
    delete = superuser_client.post(reverse("admin:tracker_caseevent_delete", args=[event.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_case_list_keeps_a_constant_number_of_queries(superuser_client, zone, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            make_case(
                status=Case.Status.IN_PROGRESS,
                enterprise_user=zone.enterprise_user,
                concierge=zone.concierge,
                category=zone.category,
                unit=zone.task_force,
                worker=zone.member,
            )

    url = reverse("admin:tracker_case_changelist")
    make(3)
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200
    make(20)
    with django_assert_max_num_queries(12):
        assert superuser_client.get(url).status_code == 200


def test_a_concierge_sees_only_linked_cases_and_cannot_open_another(client, zone):
    # Given a case of the concierge's enterprise and one of another concierge's enterprise
    kwargs = {"category": zone.category, "unit": zone.department, "worker": zone.officer}
    mine = make_case(
        status=Case.Status.ACCEPTED, enterprise_user=zone.enterprise_user, concierge=zone.concierge, **kwargs
    )
    theirs = make_case(
        status=Case.Status.ACCEPTED,
        enterprise_user=zone.other_enterprise_user,
        concierge=zone.other_concierge,
        title="另一家企业的诉求",
        **kwargs,
    )
    client.force_login(zone.concierge)
    # When the concierge opens the case list
    page = client.get(reverse("admin:tracker_case_changelist")).content.decode()
    # Then only their case is listed
    assert mine.number in page and theirs.number not in page
    # And the other case cannot be opened: the admin answers as for a case that does not exist
    response = client.get(reverse("admin:tracker_case_change", args=[theirs.pk]), follow=True)
    assert theirs.title not in response.content.decode()
    assert response.redirect_chain and response.redirect_chain[0][0] == reverse("admin:index")
    # Nor its timeline: the event list is not a concierge's (their cases' pages carry the timelines), and an event
    # of the other case is answered as one that does not exist
    assert client.get(reverse("admin:tracker_caseevent_changelist")).status_code == 403
    event = theirs.events.first()
    response = client.get(reverse("admin:tracker_caseevent_change", args=[event.pk]), follow=True)
    assert response.redirect_chain and theirs.number not in response.content.decode()
