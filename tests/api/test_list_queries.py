"""Every list costs the same number of SQL queries whether it holds 20 rows or 200 (no query per row).

Each list is read once to warm up (the token's `last_used_at` is written on its first use), then measured at
20 rows and at 200, all on one page (`?page_size=200`). Rows are built through the services where that is cheap
enough, so the lists hold what production would: cases in several states with tasks, events of several kinds.
"""

import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.delivery import webhooks
from tests.factories import (
    AttachmentFactory,
    CategoryFactory,
    DepartmentFactory,
    EnterpriseFactory,
    EnterpriseUserFactory,
    ProjectFactory,
    TaskForceFactory,
    TierFactory,
    make_case,
)
from tracker.models import (
    Case,
    Category,
    Department,
    Enterprise,
    Project,
    Task,
    TaskForce,
    WebhookDelivery,
    WebhookSubscription,
)

pytestmark = pytest.mark.django_db

CS = Case.Status
SIZES = (20, 200)


class Rows:
    """Grows each kind of row to a given number, varied the way real rows vary."""

    def __init__(self, zone):
        self.zone = zone
        tiers = [TierFactory(code="hnte", name="高新技术企业"), TierFactory(code="srdi", name="专精特新")]
        self.enterprise_users = [zone.enterprise_user]
        for n in range(3):
            enterprise = EnterpriseFactory(
                concierge=zone.concierge, backup_concierge=zone.backup, linked_leader=zone.leader if n else None
            )
            enterprise.tiers.set(tiers[: n % 3])
            self.enterprise_users.append(EnterpriseUserFactory(enterprise=enterprise))
        self.projects = [ProjectFactory(enterprise=user.enterprise) for user in self.enterprise_users]
        self._case = None
        self._subscription = None

    # Cases, each with one task given to the task force (so the concierge, the member and the officer see them)
    def cases(self, n: int) -> None:
        statuses = itertools.cycle([CS.IN_PROGRESS, CS.RESOLVED, CS.CLOSED, CS.IN_PROGRESS])
        users = itertools.cycle(self.enterprise_users)
        zone = self.zone
        for i in range(Case.objects.count(), n):
            user = next(users)
            case = make_case(
                status=next(statuses),
                enterprise_user=user,
                concierge=zone.concierge,
                category=zone.category,
                unit=zone.task_force,
                worker=zone.member,
                title=f"诉求{i}",
            )
            if i % 2:  # some about a project, some with a named assignee, some urgent
                project = next(p for p in self.projects if p.enterprise_id == user.enterprise_id)
                Case.objects.filter(pk=case.pk).update(project=project, urgency=Case.Urgency.URGENT)
                Task.objects.filter(case=case).update(assignee=zone.member)

    def tasks(self, n: int) -> None:
        self.cases(n)
        assert Task.objects.count() == n

    def enterprises(self, n: int) -> None:
        zone = self.zone
        for i in range(Enterprise.objects.count(), n):
            enterprise = EnterpriseFactory(
                concierge=zone.concierge if i % 3 else None, backup_concierge=zone.backup if i % 2 else None
            )
            enterprise.tiers.set(list(enterprise.tiers.model.objects.all()[: i % 3]))

    def projects_(self, n: int) -> None:
        enterprises = itertools.cycle([user.enterprise for user in self.enterprise_users])
        for i in range(Project.objects.count(), n):
            enterprise = next(enterprises)
            ProjectFactory(enterprise=enterprise, concierge=enterprise.concierge if i % 2 else None)

    def categories(self, n: int) -> None:
        for _ in range(Category.objects.count(), n):
            CategoryFactory()

    def departments(self, n: int) -> None:
        for _ in range(Department.objects.count(), n):
            DepartmentFactory()

    def task_forces(self, n: int) -> None:
        departments = list(Department.objects.all())
        for i in range(TaskForce.objects.count(), n):
            force = TaskForceFactory(lead_department=departments[i % len(departments)], members=[self.zone.member])
            force.assisting_departments.set(departments[: i % 3])

    # The timeline and the files of one case
    def case(self) -> Case:
        if self._case is None:
            zone = self.zone
            self._case = make_case(
                status=CS.IN_PROGRESS,
                enterprise_user=zone.enterprise_user,
                concierge=zone.concierge,
                category=zone.category,
                unit=zone.task_force,
                worker=zone.member,
            )
        return self._case

    def events(self, n: int) -> None:
        zone, case = self.zone, self.case()
        for i in range(case.events.count(), n):
            if i % 3 == 0:
                case_services.add_case_info(actor=zone.enterprise_user, case=case, note=f"补充材料{i}")
            elif i % 3 == 1:
                case_services.add_case_info(actor=zone.concierge, case=case, note=f"走访记录{i}")
            else:
                unit = {"task_force": zone.task_force} if i % 2 else {"department": zone.other_department}
                task_services.decompose_case(
                    actor=zone.concierge, case=case, tasks=[TaskSpec(title=f"事项{i}", **unit)]
                )
        assert case.events.count() == n

    def attachments(self, n: int) -> None:
        zone, case = self.zone, self.case()
        uploaders = itertools.cycle([zone.enterprise_user, zone.concierge])
        for i in range(case.attachments.count(), n):
            AttachmentFactory(case=case, uploaded_by=next(uploaders), original_name=f"材料{i}.pdf", sha256=f"{i:064x}")

    # Webhooks
    def subscriptions(self, n: int) -> None:
        zone = self.zone
        for i in range(WebhookSubscription.objects.count(), n):
            webhooks.create_subscription(
                actor=zone.admin,
                name=f"订阅{i}",
                url=f"https://example.com/hook/{i}",
                event_types=["case.submitted", "task.overdue"][: 1 + i % 2],
                owner=zone.integration if i % 2 else zone.admin,
            )

    def subscription(self) -> WebhookSubscription:
        if self._subscription is None:
            self._subscription = webhooks.create_subscription(
                actor=self.zone.admin, name="热线", url="https://example.com/hook", event_types=["case.submitted"]
            )
        return self._subscription

    def deliveries(self, n: int) -> None:
        subscription = self.subscription()
        start = subscription.deliveries.count()
        now = timezone.now()
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                subscription=subscription,
                event_type="case.submitted",
                dedupe_key=f"event:{i}",
                payload={"event": i, "case": {"number": f"GX-2026-{i:06d}"}},
                status=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.DELIVERED][i % 2],
                attempts=i % 3,
                next_attempt_at=now + timedelta(minutes=i) if i % 2 == 0 else None,
                delivered_at=now if i % 2 else None,
            )
            for i in range(start, n)
        )


@dataclass
class ListEndpoint:
    url: Callable[[Rows], str]
    grow: Callable[[Rows, int], None]
    viewers: tuple[str, ...]


# Cases and tasks are read by everyone who works on them; the other lists by whoever sees all their rows.
CASE_VIEWERS = ("leader", "concierge", "member", "officer", "enterprise_user")
CASE_LISTS = {
    "cases": ListEndpoint(lambda rows: "/api/v1/cases/", Rows.cases, CASE_VIEWERS),
    "tasks": ListEndpoint(lambda rows: "/api/v1/tasks/", Rows.tasks, CASE_VIEWERS),
}
OTHER_LISTS = {
    "enterprises": ListEndpoint(lambda rows: "/api/v1/enterprises/", Rows.enterprises, ("leader",)),
    "projects": ListEndpoint(lambda rows: "/api/v1/projects/", Rows.projects_, ("leader",)),
    "categories": ListEndpoint(lambda rows: "/api/v1/categories/", Rows.categories, ("leader",)),
    "departments": ListEndpoint(lambda rows: "/api/v1/departments/", Rows.departments, ("leader",)),
    "task-forces": ListEndpoint(lambda rows: "/api/v1/task-forces/", Rows.task_forces, ("leader",)),
    "events": ListEndpoint(lambda rows: f"/api/v1/cases/{rows.case().pk}/events/", Rows.events, ("leader",)),
    "attachments": ListEndpoint(
        lambda rows: f"/api/v1/cases/{rows.case().pk}/attachments/", Rows.attachments, ("leader",)
    ),
    "webhooks": ListEndpoint(lambda rows: "/api/v1/webhooks/", Rows.subscriptions, ("admin",)),
    "deliveries": ListEndpoint(
        lambda rows: f"/api/v1/webhooks/{rows.subscription().pk}/deliveries/", Rows.deliveries, ("admin",)
    ),
}


def rows_of(body) -> list:
    return body if isinstance(body, list) else body["results"]


def measure(client, url: str) -> tuple[int, list, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 200})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert isinstance(body, list) or body["next"] is None, "every row should be on the one page"
    return len(queries), rows_of(body), [query["sql"] for query in queries.captured_queries]


def repeated(sqls: list[str]) -> list[str]:
    """The statements run more than once (ids blanked): where a per-row query hides."""
    shapes = Counter(re.sub(r"\b\d+\b", "#", sql) for sql in sqls)
    return [f"{count}× {sql[:300]}" for sql, count in shapes.items() if count > 1]


def compare(zone, api, lists: dict[str, ListEndpoint]) -> list[str]:
    """Grow every list to 20 rows and measure each (list, viewer), then to 200 and measure again; return how
    each differs. Cases and tasks grow together, so the 200 cases are built once for every viewer."""
    rows = Rows(zone)
    reads = [(name, viewer) for name, endpoint in lists.items() for viewer in endpoint.viewers]
    measured = {}
    for size in SIZES:
        for endpoint in lists.values():
            endpoint.grow(rows, size)
        for name, viewer in reads:
            client, url = api(getattr(zone, viewer)), lists[name].url(rows)
            if size == SIZES[0]:
                client.get(url, {"page_size": 200})  # warm: the token's first use is written down
            measured[name, viewer, size] = measure(client, url)

    problems = []
    for name, viewer in reads:
        (small, small_rows, _), (large, large_rows, large_sql) = measured[name, viewer, 20], measured[name, viewer, 200]
        where = f"{lists[name].url(rows)} as {viewer}"
        if viewer in ("leader", "admin") and (len(small_rows), len(large_rows)) != SIZES:
            problems.append(f"{where}: {len(small_rows)} and {len(large_rows)} rows, not {SIZES}")
        if not 0 < len(small_rows) < len(large_rows):
            problems.append(f"{where}: {len(small_rows)} then {len(large_rows)} rows: the list did not grow")
        if small != large:
            problems.append(
                "\n    ".join(
                    [
                        f"{where}: {small} queries at {len(small_rows)} rows, {large} at {len(large_rows)}; repeated:",
                        *repeated(large_sql),
                    ]
                )
            )
    return problems


def test_case_and_task_lists_cost_the_same_queries_at_20_and_at_200_rows_for_everyone(zone, api):
    # Given 20 cases (each with a task), then 200, read by the leader, the concierge, the task force member, the
    # department officer and an enterprise user
    # When each reads /cases/ and /tasks/ at both sizes, then each read costs the same at 20 as at 200
    problems = compare(zone, api, CASE_LISTS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(OTHER_LISTS))
def test_a_list_costs_the_same_queries_at_20_and_at_200_rows(zone, api, private_media, name):
    # Given a list grown to 20 rows, then to 200, read by someone who sees every row
    # When it is read at both sizes, then both reads cost the same number of queries
    problems = compare(zone, api, {name: OTHER_LISTS[name]})
    assert not problems, "\n".join(problems)
