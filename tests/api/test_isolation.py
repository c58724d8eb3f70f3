"""Tenant isolation over HTTP (docs/states-and-roles.md): another enterprise's data is never shown, counted or
confirmed to exist. Every endpoint and method the API exposes is read from its OpenAPI schema, so a new one fails the
coverage test until it is in the matrix below. For each, a person probes the objects of a tenant they must not see, and
the same request is sent again naming objects that do not exist (a "ghost" tenant). Each probe must:

- answer what the matrix expects: 404 `not_found` on the other tenant's objects (never 403, never 200), lists
  empty or holding only the actor's own rows, figures counting only their own (webhook subscriptions are no
  tenant's: a person who may not manage them is refused 403 whatever the id, and reads them as 404);
- answer exactly what the ghost probe answers (same status, same body up to digits), so nothing is confirmed;
- change nothing in the database or on disk;
- never carry the other tenant's case numbers and titles, enterprise name and USCC, project or file names.
"""

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from services import api_tokens
from services.cases import tasks as task_services
from services.cases.attachments import add_attachment
from services.cases.tasks import TaskSpec
from services.delivery import webhooks
from tests.factories import PDF, ProjectFactory, TaskForceFactory, UserFactory, client_for, make_case
from tracker.api.urls import router
from tracker.models import (
    ApiToken,
    Attachment,
    Case,
    CaseEvent,
    Extension,
    Feedback,
    IdempotencyRecord,
    Project,
    Task,
    TaskForce,
    WebhookDelivery,
    WebhookSubscription,
)

pytestmark = pytest.mark.django_db

CS = Case.Status
TS = Task.Status
GHOST_PK = 900_000_000
METHODS = ("get", "post", "put", "patch", "delete")


# The two tenants ----------------------------------------------------------------------------------------------


@dataclass
class Tenant:
    """One enterprise's world: its person, cases in several states, tasks, files, projects, a case's task force."""

    label: str
    enterprise: object
    user: object
    concierge: object
    cases: dict  # by status
    tasks: list
    attachments: list  # (case, attachment)
    project: object
    unlinked_project: object
    task_force: object  # formed for one of its cases

    @property
    def case_ids(self) -> set[int]:
        return {case.pk for case in self.cases.values()}

    @property
    def task_ids(self) -> set[int]:
        return {task.pk for task in self.tasks}

    def secrets(self) -> list[str]:
        """What must never reach someone outside the tenant."""
        found = [self.enterprise.name, self.enterprise.uscc, self.project.name, self.unlinked_project.name]
        found += [self.task_force.name]
        found += [text for case in self.cases.values() for text in (case.number, case.title)]
        found += [attachment.original_name for _, attachment in self.attachments]
        found += [task.title for task in self.tasks if self.label in task.title]
        return found


def build_tenant(zone, *, label, enterprise, user, concierge) -> Tenant:
    walk = {"enterprise_user": user, "concierge": concierge, "category": zone.category, "unit": zone.task_force}
    cases = {
        status: make_case(status=status, worker=zone.member, title=f"{label}诉求{status}", **walk)
        for status in (CS.SUBMITTED, CS.ACCEPTED, CS.IN_PROGRESS, CS.RESOLVED, CS.CLOSED)
    }
    # The case in progress gets a second task, started: so there is a task in each working state.
    (started,) = task_services.decompose_case(
        actor=concierge,
        case=cases[CS.IN_PROGRESS],
        tasks=[TaskSpec(title=f"{label}核实", task_force=zone.task_force)],
    )
    task_services.start_task(actor=zone.member, task=started)
    attachments = []
    for status in (CS.SUBMITTED, CS.IN_PROGRESS, CS.RESOLVED):
        upload = ContentFile(PDF, name=f"{label}材料{status}.pdf")
        attachments.append((cases[status], add_attachment(actor=user, case=cases[status], upload=upload)))
    project = ProjectFactory(enterprise=enterprise, name=f"{label}扩产项目")
    unlinked_project = ProjectFactory(enterprise=enterprise, name=f"{label}储备项目", concierge=None)
    task_force = TaskForceFactory(
        name=f"{label}临时专班", is_standing=False, case=cases[CS.IN_PROGRESS], lead_department=zone.department
    )
    return Tenant(
        label=label,
        enterprise=enterprise,
        user=user,
        concierge=concierge,
        cases={status: Case.objects.get(pk=case.pk) for status, case in cases.items()},
        tasks=list(Task.objects.filter(case__enterprise=enterprise).order_by("pk")),
        attachments=attachments,
        project=project,
        unlinked_project=unlinked_project,
        task_force=task_force,
    )


def ghost_of(tenant: Tenant, pk: Callable[[int], object] = lambda n: GHOST_PK + n) -> Tenant:
    """The same shape with objects that do not exist (pks nobody has, a USCC nobody has)."""
    counter = iter(range(1, 10_000))

    def ghost(obj, **more):
        return SimpleNamespace(pk=pk(next(counter)), version=getattr(obj, "version", 1), **more)

    return Tenant(
        label="ghost",
        enterprise=ghost(tenant.enterprise, uscc="91320583000000000X", name="不存在的企业"),
        user=ghost(tenant.user),
        concierge=ghost(tenant.concierge),
        cases={status: ghost(case) for status, case in tenant.cases.items()},
        tasks=[ghost(task) for task in tenant.tasks],
        attachments=[(ghost(case), ghost(attachment)) for case, attachment in tenant.attachments],
        project=ghost(tenant.project),
        unlinked_project=ghost(tenant.unlinked_project),
        task_force=ghost(tenant.task_force),
    )


@dataclass
class World:
    zone: object
    a: Tenant  # zone.enterprise
    b: Tenant  # zone.other_enterprise
    subscription: WebhookSubscription  # an integration account's
    root: Path


@pytest.fixture
def world(zone, private_media) -> World:
    subscription = webhooks.create_subscription(
        actor=zone.admin,
        name="热线系统订阅",
        url="https://hotline.example.com/hook",
        event_types=["case.submitted", "case.status_changed"],
        owner=zone.integration,
    )
    a = build_tenant(
        zone, label="精密", enterprise=zone.enterprise, user=zone.enterprise_user, concierge=zone.concierge
    )
    b = build_tenant(
        zone,
        label="恒远",
        enterprise=zone.other_enterprise,
        user=zone.other_enterprise_user,
        concierge=zone.other_concierge,
    )
    assert WebhookDelivery.objects.filter(subscription=subscription).exists()
    return World(zone=zone, a=a, b=b, subscription=subscription, root=private_media)


# Probes and what they must answer -------------------------------------------------------------------------------


@dataclass
class Probe:
    label: str
    method: str
    url: str
    body: dict | Callable[[], dict] | None = None
    multipart: bool = False
    headers: dict = field(default_factory=dict)
    expect: Callable = None  # (response) -> None, raises AssertionError

    def send(self, client):
        body = self.body() if callable(self.body) else self.body
        kwargs = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in self.headers.items()}
        if self.method == "get":
            return client.get(self.url, **kwargs)
        return getattr(client, self.method)(
            self.url, body or {}, format="multipart" if self.multipart else "json", **kwargs
        )


def body_of(response):
    return response.json() if response.get("Content-Type", "").startswith("application/json") else None


def raw_of(response) -> bytes:
    """The body's bytes, a streamed file's included (read once, kept on the response)."""
    if not hasattr(response, "raw_bytes"):
        response.raw_bytes = b"".join(response.streaming_content) if response.streaming else response.content
    return response.raw_bytes


def hidden(response):
    assert response.status_code == 404, (response.status_code, body_of(response))
    assert body_of(response)["code"] == "not_found", body_of(response)


def shown(response):
    assert response.status_code == 200, (response.status_code, body_of(response))


def refused(response):
    """Not an object of the tenant: the caller may not do this at all (non-managers and webhooks)."""
    assert response.status_code == 403, (response.status_code, body_of(response))
    assert body_of(response)["code"] == "not_permitted", body_of(response)


def invalid(field_name):
    def check(response):
        assert response.status_code == 400, (response.status_code, body_of(response))
        body = body_of(response)
        assert body["code"] == "invalid" and field_name in body["fields"], body

    return check


def listing(ids):
    """A 200 list holding exactly `ids` (on one page)."""

    def check(response):
        assert response.status_code == 200, (response.status_code, body_of(response))
        body = body_of(response)
        assert body["next"] is None, "the probe's list should fit on one page"
        assert {row["id"] for row in body["results"]} == set(ids), body["results"]

    return check


def including(ids):
    """A 200 list holding at least `ids` (shared reference data)."""

    def check(response):
        assert response.status_code == 200, (response.status_code, body_of(response))
        got = {row["id"] for row in body_of(response)["results"]}
        assert set(ids) <= got, got

    return check


def figures_of(tenant: Tenant):
    """/stats/ counts the tenant's own cases, tasks, verdicts and projects, nothing of the other's."""

    def check(response):
        assert response.status_code == 200, (response.status_code, body_of(response))
        data = body_of(response)
        own_cases = Case.objects.filter(enterprise=tenant.enterprise)
        statuses = Counter(own_cases.values_list("status", flat=True))
        assert {row["status"]: row["count"] for row in data["cases_by_status"]} == {
            status: statuses.get(status, 0) for status in CS.values
        }
        assert sum(row["count"] for row in data["cases_by_category"]) == own_cases.count()
        assert data["satisfaction"]["verdicts"] == Feedback.objects.filter(case__enterprise=tenant.enterprise).count()
        done = Task.objects.filter(case__enterprise=tenant.enterprise, status=TS.DONE).count()
        assert data["on_time"]["completed"] == done
        unlinked = Project.objects.filter(enterprise=tenant.enterprise, concierge=None).count()
        assert data["coverage"]["projects_without_concierge"] == unlinked == 1

    return check


def webhook_body():
    return {"name": "订阅", "url": "https://example.com/hook", "event_types": ["case.submitted"]}


# The matrix: every operation of the schema, and how to probe it ---------------------------------------------------
# Each entry takes (world, own tenant, target tenant) and returns its probes. `target` is the tenant the actor
# must not see, or its ghost; everything the actor may see comes from `own` or the zone.

CASE_ACTION_BODIES = {
    "accept": lambda zone: {"note": "已联系企业"},
    "decline": lambda zone: {"reason": "不属于服务范围"},
    "decompose": lambda zone: {"tasks": [{"title": "协调", "task_force": zone.task_force.pk}]},
    "resolve": lambda zone: {"answer": "已办结"},
    "confirm": lambda zone: {"rating": 5, "comment": "满意"},
    "reopen": lambda zone: {"reason": "未解决", "rating": 2},
    "withdraw": lambda zone: {"reason": "已自行解决"},
    "callback": lambda zone: {"verdict": "confirm", "rating": 4, "comment": "电话回访"},
    "add_info": lambda zone: {"note": "补充说明"},
    "request_info": lambda zone: {"note": "请补充营业执照"},
    "resume_clock": lambda zone: {"note": "企业已电话说明"},
}
TASK_ACTION_BODIES = {
    "start": lambda zone: {},
    "complete": lambda zone: {"result": "已办结"},
    "return": lambda zone: {"reason": "不属于本单位"},
    "extend": lambda zone: {"requested_due_on": (timezone.localdate() + timedelta(days=60)).isoformat(), "reason": "x"},
}


def case_action(action):
    def probes(w, own, target):
        out = []
        for status, case in target.cases.items():
            url = f"/api/v1/cases/{case.pk}/{action}/"
            body = CASE_ACTION_BODIES[action](w.zone)
            out += [
                Probe(f"{action} {status}", "post", url, body, expect=hidden),
                Probe(f"{action} {status} +version", "post", url, {**body, "version": case.version}, expect=hidden),
                Probe(
                    f"{action} {status} stale If-Match", "post", url, body, headers={"If-Match": '"99"'}, expect=hidden
                ),
            ]
        return out

    return probes


def decompose_probes(w, own, target):
    """Their cases, and the actor's own case given to a task force formed for one of theirs (whose name the
    answer would show): refused as if that task force did not exist."""
    url = f"/api/v1/cases/{own.cases[CS.IN_PROGRESS].pk}/decompose/"
    body = {"tasks": [{"title": "协调", "task_force": target.task_force.pk}]}
    return [
        *case_action("decompose")(w, own, target),
        Probe("own case, their task force", "post", url, body, expect=invalid("tasks[0].task_force")),
    ]


def task_action(action):
    def probes(w, own, target):
        out = []
        for task in target.tasks:
            url = f"/api/v1/tasks/{task.pk}/{action}/"
            body = TASK_ACTION_BODIES[action](w.zone)
            out += [
                Probe(f"{action} task {task.pk}", "post", url, body, expect=hidden),
                Probe(f"{action} stale If-Match", "post", url, body, headers={"If-Match": '"99"'}, expect=hidden),
            ]
            if action != "extend":
                out.append(Probe(f"{action} +version", "post", url, {**body, "version": task.version}, expect=hidden))
        return out

    return probes


def each_case(template):
    def probes(w, own, target):
        return [
            Probe(status, "get", template.format(case=case.pk), expect=hidden) for status, case in target.cases.items()
        ]

    return probes


def each_attachment(suffix):
    def probes(w, own, target):
        own_case = own.cases[CS.SUBMITTED]
        out = []
        for case, attachment in target.attachments:
            out.append(Probe("its case", "get", f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/{suffix}"))
            # through a case the actor does see: the file must belong to the case named in the address
            out.append(Probe("own case", "get", f"/api/v1/cases/{own_case.pk}/attachments/{attachment.pk}/{suffix}"))
        for probe in out:
            probe.expect = hidden
        return out

    return probes


def upload_probes(w, own, target):
    def body(name):
        return lambda: {"file": SimpleUploadedFile(name, PDF, content_type="application/pdf")}

    return [
        Probe(status, "post", f"/api/v1/cases/{case.pk}/attachments/", body("补充.pdf"), multipart=True, expect=hidden)
        for status, case in target.cases.items()
    ]


def case_list_probes(w, own, target):
    page = "page_size=200"
    return [
        Probe("all", "get", f"/api/v1/cases/?{page}", expect=listing(own.case_ids)),
        Probe("enterprise", "get", f"/api/v1/cases/?{page}&enterprise={target.enterprise.pk}", expect=listing([])),
        Probe(
            "both enterprises",
            "get",
            f"/api/v1/cases/?{page}&enterprise={own.enterprise.pk},{target.enterprise.pk}",
            expect=listing(own.case_ids),
        ),
        Probe("project", "get", f"/api/v1/cases/?{page}&project={target.project.pk}", expect=listing([])),
        Probe("concierge", "get", f"/api/v1/cases/?{page}&concierge={target.concierge.pk}", expect=listing([])),
        Probe(
            "status and enterprise",
            "get",
            f"/api/v1/cases/?{page}&status=submitted&enterprise={target.enterprise.pk}",
            expect=listing([]),
        ),
    ]


def case_create_probes(w, own, target):
    base = {"category": w.zone.category.code, "title": "新诉求", "description": "需要协调。"}
    return [
        Probe("enterprise id", "post", "/api/v1/cases/", {**base, "enterprise": target.enterprise.pk}),
        Probe("enterprise uscc", "post", "/api/v1/cases/", {**base, "enterprise_uscc": target.enterprise.uscc}),
        Probe("project", "post", "/api/v1/cases/", {**base, "project": target.project.pk}, expect=invalid("project")),
    ]


def with_expect(expect, make):
    def probes(w, own, target):
        out = make(w, own, target)
        for probe in out:
            probe.expect = probe.expect or expect
        return out

    return probes


OPERATIONS: dict[tuple[str, str], Callable] = {
    # Cases
    ("get", "/api/v1/cases/"): case_list_probes,
    ("post", "/api/v1/cases/"): with_expect(invalid("enterprise"), case_create_probes),
    ("get", "/api/v1/cases/{id}/"): each_case("/api/v1/cases/{case}/"),
    **{
        ("post", f"/api/v1/cases/{{id}}/{action}/"): case_action(action)
        for action in CASE_ACTION_BODIES
        if action != "decompose"
    },
    ("post", "/api/v1/cases/{id}/decompose/"): decompose_probes,
    ("get", "/api/v1/cases/{id}/events/"): each_case("/api/v1/cases/{case}/events/"),
    ("get", "/api/v1/cases/{case_pk}/attachments/"): each_case("/api/v1/cases/{case}/attachments/"),
    ("post", "/api/v1/cases/{case_pk}/attachments/"): upload_probes,
    ("get", "/api/v1/cases/{case_pk}/attachments/{id}/"): each_attachment(""),
    ("get", "/api/v1/cases/{case_pk}/attachments/{id}/download/"): each_attachment("download/"),
    # Tasks
    ("get", "/api/v1/tasks/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/tasks/?page_size=200", expect=listing(own.task_ids)),
        Probe("case", "get", f"/api/v1/tasks/?case={target.cases[CS.IN_PROGRESS].pk}", expect=listing([])),
        Probe(
            "both cases",
            "get",
            f"/api/v1/tasks/?case={own.cases[CS.IN_PROGRESS].pk},{target.cases[CS.IN_PROGRESS].pk}",
            expect=listing({t.pk for t in own.tasks if t.case_id == own.cases[CS.IN_PROGRESS].pk}),
        ),
    ],
    ("get", "/api/v1/tasks/{id}/"): lambda w, own, target: [
        Probe(f"task {task.pk}", "get", f"/api/v1/tasks/{task.pk}/", expect=hidden) for task in target.tasks
    ],
    **{("post", f"/api/v1/tasks/{{id}}/{action}/"): task_action(action) for action in TASK_ACTION_BODIES},
    # The register
    ("get", "/api/v1/enterprises/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/enterprises/", expect=listing([own.enterprise.pk])),
        Probe("uscc", "get", f"/api/v1/enterprises/?uscc={target.enterprise.uscc}", expect=listing([])),
        Probe("name", "get", f"/api/v1/enterprises/?name={target.enterprise.name}", expect=listing([])),
        Probe("concierge", "get", f"/api/v1/enterprises/?concierge={target.concierge.pk}", expect=listing([])),
    ],
    ("get", "/api/v1/enterprises/{id}/"): lambda w, own, target: [
        Probe("enterprise", "get", f"/api/v1/enterprises/{target.enterprise.pk}/", expect=hidden)
    ],
    ("get", "/api/v1/projects/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/projects/", expect=listing([own.project.pk, own.unlinked_project.pk])),
        Probe("enterprise", "get", f"/api/v1/projects/?enterprise={target.enterprise.pk}", expect=listing([])),
        Probe("concierge", "get", f"/api/v1/projects/?concierge={target.concierge.pk}", expect=listing([])),
    ],
    ("get", "/api/v1/projects/{id}/"): lambda w, own, target: [
        Probe(label, "get", f"/api/v1/projects/{project.pk}/")
        for label, project in (("linked", target.project), ("unlinked", target.unlinked_project))
    ],
    ("get", "/api/v1/task-forces/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/task-forces/", expect=listing([w.zone.task_force.pk, own.task_force.pk]))
    ],
    ("get", "/api/v1/task-forces/{id}/"): lambda w, own, target: [
        Probe("formed for a case", "get", f"/api/v1/task-forces/{target.task_force.pk}/", expect=hidden),
        Probe("standing", "get", f"/api/v1/task-forces/{w.zone.task_force.pk}/", expect=shown),
    ],
    # Reference data: shared by everyone
    ("get", "/api/v1/categories/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/categories/", expect=including([w.zone.category.pk]))
    ],
    ("get", "/api/v1/categories/{id}/"): lambda w, own, target: [
        Probe("land", "get", f"/api/v1/categories/{w.zone.category.pk}/", expect=shown)
    ],
    ("get", "/api/v1/departments/"): lambda w, own, target: [
        Probe("all", "get", "/api/v1/departments/", expect=including([w.zone.department.pk]))
    ],
    ("get", "/api/v1/departments/{id}/"): lambda w, own, target: [
        Probe("planning", "get", f"/api/v1/departments/{w.zone.department.pk}/", expect=shown)
    ],
    # Figures
    ("get", "/api/v1/stats/"): lambda w, own, target: [
        Probe("dashboard", "get", "/api/v1/stats/", expect=figures_of(own))
    ],
    # Webhooks: managed by administrators and integration accounts only
    ("get", "/api/v1/webhooks/"): lambda w, own, target: [Probe("all", "get", "/api/v1/webhooks/", expect=listing([]))],
    ("post", "/api/v1/webhooks/"): lambda w, own, target: [
        Probe("subscribe", "post", "/api/v1/webhooks/", webhook_body(), expect=refused)
    ],
    ("get", "/api/v1/webhooks/{id}/"): lambda w, own, target: [
        Probe("subscription", "get", f"/api/v1/webhooks/{w.subscription.pk}/", expect=hidden)
    ],
    ("patch", "/api/v1/webhooks/{id}/"): lambda w, own, target: [
        Probe("rename", "patch", f"/api/v1/webhooks/{w.subscription.pk}/", {"name": "改名"}, expect=refused),
        Probe("rotate", "patch", f"/api/v1/webhooks/{w.subscription.pk}/", {"rotate_secret": True}, expect=refused),
    ],
    ("delete", "/api/v1/webhooks/{id}/"): lambda w, own, target: [
        Probe("remove", "delete", f"/api/v1/webhooks/{w.subscription.pk}/", expect=refused)
    ],
    ("get", "/api/v1/webhooks/{id}/deliveries/"): lambda w, own, target: [
        Probe("deliveries", "get", f"/api/v1/webhooks/{w.subscription.pk}/deliveries/", expect=hidden)
    ],
}
# Entries whose probes default to 404 when they set no expectation.
for _key, _make in list(OPERATIONS.items()):
    OPERATIONS[_key] = with_expect(hidden, _make)


# Who probes whom ----------------------------------------------------------------------------------------------


ACTORS = {
    # the enterprise user of A against B's objects
    "enterprise_user": lambda w: (w.zone.enterprise_user, w.a, w.b),
    # a concierge linked to B only, against A's objects
    "unlinked_concierge": lambda w: (w.zone.other_concierge, w.b, w.a),
}


COUNTED = (CaseEvent, Attachment, Feedback, Extension, TaskForce, WebhookDelivery, IdempotencyRecord)


def snapshot(root: Path) -> dict:
    """What a refused request must leave as it was: each case's and task's state and version, the number of
    events, files, verdicts, extensions, task forces, deliveries and idempotency records, and the stored files."""
    counts = " UNION ALL ".join(f"SELECT COUNT(*) FROM {model._meta.db_table}" for model in COUNTED)
    with connection.cursor() as cursor:
        cursor.execute(counts)
        numbers = [row[0] for row in cursor.fetchall()]
    return {
        "cases": list(Case.objects.order_by("pk").values_list("pk", "status", "version", "updated_at", "concierge_id")),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", "status", "version", "due_on", "updated_at")),
        "subscriptions": list(WebhookSubscription.objects.order_by("pk").values_list("pk", "name", "secret")),
        "counts": dict(zip((model.__name__ for model in COUNTED), numbers, strict=True)),
        "files": sorted(str(path) for path in root.rglob("*") if path.is_file()) if root.exists() else [],
    }


def normalised(response) -> tuple:
    """Status and body with every digit run blanked: ids, versions and times differ between target and ghost."""
    body = body_of(response)
    text = json.dumps(body, sort_keys=True, ensure_ascii=False) if body is not None else repr(raw_of(response))
    return response.status_code, re.sub(r"\d+", "#", text)


def response_text(response) -> str:
    body = body_of(response)
    text = raw_of(response).decode("utf-8", "replace")
    return text + (json.dumps(body, ensure_ascii=False) if body is not None else "")


def changes(before: dict, after: dict) -> str:
    return ", ".join(key for key in before if before[key] != after[key])


def run_probes(client, world: World, make, own: Tenant, target: Tenant) -> list[str]:
    """Send each probe for the target and for its ghost; return what went wrong, one line each.

    Each pair runs in a savepoint rolled back afterwards, so a write that wrongly succeeds is reported once and
    does not spill into the probes after it."""
    problems = []
    secrets = target.secrets()
    ghost = ghost_of(target)
    probes, ghost_probes = make(world, own, target), make(world, own, ghost)
    assert probes and len(probes) == len(ghost_probes)
    for probe, ghost_probe in zip(probes, ghost_probes, strict=True):
        where = f"{probe.method.upper()} {probe.url} [{probe.label}]"
        with transaction.atomic():
            before = snapshot(world.root)
            response = probe.send(client)
            after = snapshot(world.root)
            ghost_response = ghost_probe.send(client)
            after_ghost = snapshot(world.root)
            transaction.set_rollback(True)
        if after != before:
            problems.append(f"{where}: changed {changes(before, after)}")
        if after_ghost != after:
            problems.append(f"{where} (ghost): changed {changes(after, after_ghost)}")
        try:
            probe.expect(response)
        except AssertionError as error:
            problems.append(f"{where}: {str(error)[:400]}")
        leaked = [secret for secret in secrets if secret in response_text(response)]
        if leaked:
            problems.append(f"{where}: the answer carries {leaked}")
        if normalised(response) != normalised(ghost_response):
            problems.append(
                f"{where}: answers {str(normalised(response))[:300]}"
                f" but for objects that do not exist {str(normalised(ghost_response))[:300]}"
            )
    return problems


# The tests ------------------------------------------------------------------------------------------------------


def schema_operations(client) -> set[tuple[str, str]]:
    schema = client.get("/api/schema/?format=json").json()
    return {(method, path) for path, item in schema["paths"].items() for method in item if method in METHODS}


def router_operations() -> set[tuple[str, str]]:
    """Every (method, path) the router serves, with the schema's names for path parameters."""
    ops = set()
    for url in router.urls:
        pattern = str(url.pattern).removeprefix("^").removesuffix("$")
        path = "/api/v1/" + re.sub(r"\(\?P<(\w+)>[^)]+\)", lambda m: "{id}" if m[1] == "pk" else f"{{{m[1]}}}", pattern)
        allowed = set(url.callback.cls.http_method_names)
        # (DRF adds "head" to a route's actions once it has served a GET; HEAD is GET, so it is left out)
        ops |= {(method, path) for method in url.callback.actions if method in allowed and method in METHODS}
    return ops


def test_every_endpoint_and_method_is_in_the_matrix(zone, api):
    # Given the API's schema and its router
    exposed = schema_operations(api(zone.leader))
    served = router_operations()

    # Then the schema documents everything the router serves, and the matrix probes everything the schema lists
    assert served - exposed == set(), "served but missing from the schema"
    assert {op for op in exposed if op[1].startswith("/api/v1/")} == set(OPERATIONS), (
        "add the new endpoint to OPERATIONS in tests/api/test_isolation.py"
    )


def client_of(user) -> APIClient:
    """A token client that answers a server error with a 500 response, so one probe does not stop the others."""
    client = client_for(user)
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("actor", list(ACTORS))
def test_nothing_of_another_tenant_is_shown_counted_or_confirmed(world, actor):
    # Given a person of one tenant, with a real token
    user, own, target = ACTORS[actor](world)
    client = client_of(user)

    # When they probe the other tenant's objects (and objects that do not exist) through every operation
    problems = []
    for (method, path), make in OPERATIONS.items():
        problems += [f"{method.upper()} {path}: {problem}" for problem in run_probes(client, world, make, own, target)]

    # Then every probe answers as for nothing, changes nothing and shows nothing of the other tenant
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("actor", list(ACTORS))
def test_a_malformed_id_is_not_found_like_a_missing_one(world, actor):
    # Given addresses naming objects by ids that are not numbers
    user, own, target = ACTORS[actor](world)
    client = client_of(user)
    malformed = ghost_of(target, pk=lambda n: f"x{n}")
    problems = []
    for (method, path), make in OPERATIONS.items():
        if "{" not in path:
            continue
        for probe in make(world, own, malformed):
            # When they are asked for
            response = probe.send(client)
            # Then each answers what it answers for a missing object: 404, never a server error
            try:
                probe.expect(response)
            except AssertionError as error:
                problems.append(f"{method.upper()} {probe.url} [{probe.label}]: {str(error)[:400]}")
    assert not problems, "\n".join(problems)


def concrete_url(path: str, world: World) -> str:
    """A real address for a schema path: the parameters filled with ids of objects that exist."""
    case, attachment = world.a.attachments[0]
    resource = path.split("/")[3]
    ids = {
        "stats": None,
        "cases": case.pk,
        "tasks": world.a.tasks[0].pk,
        "enterprises": world.a.enterprise.pk,
        "projects": world.a.project.pk,
        "categories": world.zone.category.pk,
        "departments": world.zone.department.pk,
        "task-forces": world.zone.task_force.pk,
        "webhooks": world.subscription.pk,
    }
    if "{case_pk}" in path:
        return path.replace("{case_pk}", str(case.pk)).replace("{id}", str(attachment.pk))
    return path.replace("{id}", str(ids[resource]))


def assert_every_operation_refuses(client, world, code: str) -> None:
    problems = []
    for method, path in sorted(OPERATIONS):
        url = concrete_url(path, world)
        before = snapshot(world.root)
        response = getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        body = body_of(response)
        if response.status_code != 401 or (body or {}).get("code") != code:
            problems.append(f"{method.upper()} {url}: {response.status_code} {body}")
        elif not response.get("WWW-Authenticate", "").startswith("Token"):
            problems.append(f"{method.upper()} {url}: no WWW-Authenticate header")
        if snapshot(world.root) != before:
            problems.append(f"{method.upper()} {url}: changed the database")
    assert not problems, "\n".join(problems)


def test_without_credentials_every_endpoint_answers_401(world):
    # Given a client that sends no credentials, then every operation answers 401 and asks for a token
    client = APIClient()
    client.raise_request_exception = False
    assert_every_operation_refuses(client, world, "not_authenticated")


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "inactive user"])
def test_a_token_that_no_longer_works_gets_401_everywhere(world, state):
    # Given a leader's token that was revoked, has expired, never existed, or whose user was deactivated
    user = UserFactory(username="leader2", roles=["leader"])
    token, key = api_tokens.create_token(actor=None, user=user, name="tests")
    if state == "revoked":
        api_tokens.revoke_token(actor=None, token=token)
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "unknown":
        key = key[:-4] + "AAAA"
    else:
        user.is_active = False
        user.save(update_fields=["is_active"])
    client = APIClient()
    client.raise_request_exception = False
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    # Then every operation answers 401, as for a wrong key
    assert_every_operation_refuses(client, world, "authentication_failed")


def test_an_integration_sees_only_its_own_webhook_subscriptions(world, zone):
    # Given a second integration account with its own subscription
    other = UserFactory(username="erp", is_staff=False, roles=["integration"])
    mine = webhooks.create_subscription(
        actor=other, name="ERP", url="https://erp.example.com/h", event_types=["task.overdue"]
    )
    client = client_for(other)

    # When it lists and probes the first integration's subscription
    listed = client.get("/api/v1/webhooks/").json()["results"]
    url = f"/api/v1/webhooks/{world.subscription.pk}/"
    before = snapshot(world.root)
    answers = [
        client.get(url),
        client.patch(url, {"name": "改名"}, format="json"),
        client.delete(url),
        client.get(f"{url}deliveries/"),
    ]

    # Then it sees only its own, and the other's answers 404 to everything and is left as it was
    assert [row["id"] for row in listed] == [mine.pk]
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(404, "not_found")] * 4
    assert snapshot(world.root) == before
    assert all("hotline.example.com" not in a.content.decode() for a in answers)
