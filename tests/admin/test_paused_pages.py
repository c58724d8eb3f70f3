"""挂起 in the workbench: the concierge pauses while asking for information, everyone on the case sees it, and a
leader resumes the clock from the case page."""

from django.urls import reverse

from tests.factories import case_at
from tracker.models import Case, ClockPause

CS = Case.Status


def _action(case, action):
    return reverse("admin:tracker_case_action", args=[case.pk, action])


def test_asking_pauses_unless_unticked_and_the_pages_say_so(client, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    # Unticked, the request leaves the clocks running (a checkbox absent from the post is False)
    client.post(_action(case, "request_info"), {"note": "请补充营业执照"})
    assert Case.objects.get(pk=case.pk).clock_paused_at is None
    client.post(_action(case, "request_info"), {"note": "请补充用电负荷清单", "pause": "on"})
    assert Case.objects.get(pk=case.pk).clock_paused_at is not None
    page = client.get(reverse("admin:tracker_case_change", args=[case.pk])).content.decode()
    assert 'data-role="pause-note"' in page and _action(case, "resume_clock") in page
    # The unit sees, on its task, that its deadline stands still
    client.force_login(zone.member)
    task_page = client.get(reverse("admin:tracker_task_change", args=[case.tasks.get().pk])).content.decode()
    assert 'data-role="pause-note"' in task_page
    # And the case list filters paused cases
    client.force_login(zone.leader)
    listed = client.get(reverse("admin:tracker_case_changelist"), {"paused": "yes"}).content.decode()
    assert case.number in listed


def test_a_leader_resumes_from_the_case_page(client, zone):
    case = case_at(zone, CS.IN_PROGRESS)
    client.force_login(zone.concierge)
    client.post(_action(case, "request_info"), {"note": "请补充用电负荷清单", "pause": "on"})
    client.force_login(zone.leader)
    response = client.post(_action(case, "resume_clock"), {"note": "等待过久，先行办理"})
    assert response.status_code == 302
    pause = ClockPause.objects.get(case=case)
    assert (pause.ended_by, pause.end_reason) == (zone.leader, ClockPause.EndedBy.RESUMED)
    # Resuming again is not offered: the page no longer has the button
    page = client.get(reverse("admin:tracker_case_change", args=[case.pk])).content.decode()
    assert _action(case, "resume_clock") not in page
