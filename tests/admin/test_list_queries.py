"""Lists keep a constant number of queries as rows grow (docs/architecture.md): measured at 20 and at 200 rows."""

from datetime import timedelta

import pytest
from django.urls import reverse

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tracker.models import Case

pytestmark = pytest.mark.django_db

# Each page's ceiling: session, user, groups, the list query, its count, filter choices, the sidebar.
MAX_QUERIES = 25

PAGES = [
    ("admin:tracker_case_changelist", "?queue=mine"),
    ("admin:tracker_case_changelist", "?queue=mine&state=open"),
    ("admin:tracker_case_changelist", "?state=finished"),
    ("admin:tracker_case_changelist", "?deadline=overdue"),
    ("admin:tracker_task_changelist", "?queue=mine&state=open"),
    ("admin:tracker_task_changelist", "?deadline=red"),
    ("admin:tracker_task_changelist", "?deadline=yellow"),
    ("admin:tracker_caseevent_changelist", ""),
    ("admin:tracker_enterprise_changelist", ""),
    ("admin:tracker_extension_changelist", "?status__exact=pending"),
    ("admin:tracker_feedback_changelist", ""),
    ("admin:dashboard", ""),
]


def _grow_to(zone, total: int) -> None:
    """Submitted, accepted and in-progress cases with a task each, up to `total` cases."""
    for i in range(Case.objects.count(), total):
        case = case_services.submit_case(
            actor=zone.enterprise_user,
            enterprise=zone.enterprise,
            category=zone.category,
            title=f"诉求{i}",
            description="说明",
        )
        if i % 3:
            case_services.accept_case(actor=zone.concierge, case=case)
        if i % 3 == 2:
            (task,) = task_services.decompose_case(
                actor=zone.concierge, case=case, tasks=[TaskSpec(title=f"事项{i}", task_force=zone.task_force)]
            )
            task_services.request_extension(
                actor=zone.member,
                task=task,
                requested_due_on=task.due_on + timedelta(days=30),
                reason="等待批复",
            )


@pytest.mark.parametrize("who", ["concierge", "leader", "member"])
def test_lists_keep_a_constant_number_of_queries(client, zone, who, django_assert_max_num_queries):
    client.force_login(getattr(zone, who))
    counts = {}
    for rows in (20, 200):
        _grow_to(zone, rows)
        for name, query in PAGES:
            url = reverse(name) + query
            with django_assert_max_num_queries(MAX_QUERIES) as captured:
                response = client.get(url)
            assert response.status_code in (200, 403), url
            counts.setdefault(url, []).append(len(captured.captured_queries))
    # The same number of queries at 200 rows as at 20
    for url, (at_20, at_200) in counts.items():
        assert at_200 == at_20, f"{url}: {at_20} queries at 20 rows, {at_200} at 200"
