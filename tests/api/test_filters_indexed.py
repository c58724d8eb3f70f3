"""List filters and orderings (tracker/api/filters.py and the viewsets' `ordering_fields`).

Each filter and each ordering works on a column some index of its model starts with: read from the FilterSets'
declared filters and the routed viewsets, so a new filter or ordering without an index fails here. Filters that
run a method name their columns in METHOD_FILTER_COLUMNS. Then each filter is exercised over HTTP: it returns
exactly the rows it names, a bad value answers 400 naming the parameter, and cursor pages return each row once.
"""

from datetime import timedelta

import pytest
from django.db.models import ForeignObjectRel, UniqueConstraint
from django.utils import timezone
from rest_framework.filters import OrderingFilter

from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from tests.factories import CategoryFactory, EnterpriseFactory, ProjectFactory, make_case
from tracker.api import filters
from tracker.api.urls import router
from tracker.models import Case, Enterprise, Project, Task
from tracker.models.zone import Industry

pytestmark = pytest.mark.django_db

CS = Case.Status
FILTERSETS = {
    "cases": filters.CaseFilter,
    "tasks": filters.TaskFilter,
    "enterprises": filters.EnterpriseFilter,
    "projects": filters.ProjectFilter,
}

# Filters that run a method: the columns their queries narrow on, as (model, leading columns of the index used).
METHOD_FILTER_COLUMNS = {
    # EXISTS (task of this case given to the department)
    (filters.CaseFilter, "department"): [(Task, ("department",)), (Task, ("case",))],
    # submitted past accept_due_on, resolved past verdict_due_on, or an open task of the case past its due date
    (filters.CaseFilter, "overdue"): [
        (Case, ("status", "accept_due_on")),
        (Case, ("status", "verdict_due_on")),
        (Task, ("case", "status")),
    ],
    # open and past due_on
    (filters.TaskFilter, "overdue"): [(Task, ("status", "due_on"))],
}


# Indexes ------------------------------------------------------------------------------------------------------


def index_heads(model) -> set[tuple[str, ...]]:
    """The column lists (by field name) of the model's indexes: a single indexed field (primary key, unique,
    db_index, a ForeignKey's own index), Meta.indexes, unconditional unique constraints and unique_together."""
    opts = model._meta
    heads = {(f.name,) for f in opts.concrete_fields if f.primary_key or f.unique or f.db_index}
    heads |= {tuple(name.lstrip("-") for name in index.fields) for index in opts.indexes if index.fields}
    heads |= {
        tuple(c.fields)
        for c in opts.constraints
        if isinstance(c, UniqueConstraint) and c.fields and c.condition is None
    }
    heads |= {tuple(fields) for fields in opts.unique_together}
    return heads


def starts_an_index(model, columns: tuple[str, ...]) -> bool:
    columns = tuple(model._meta.get_field(name).name for name in columns)  # attname ("case_id") → name ("case")
    return any(head[: len(columns)] == columns for head in index_heads(model))


def unindexed_hops(model, path: str) -> list[str]:
    """Walk a lookup path ("category__code"); each column it reads must start an index of its table."""
    missing = []
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.many_to_many:  # the link table's foreign key to this side
            through = field.through if isinstance(field, ForeignObjectRel) else field.remote_field.through
            link = next(f for f in through._meta.concrete_fields if f.is_relation and f.related_model is model)
            if not starts_an_index(through, (link.name,)):
                missing.append(f"{through.__name__}.{link.name}")
        elif isinstance(field, ForeignObjectRel):  # a reverse relation reads the other table's foreign key
            if not starts_an_index(field.related_model, (field.field.name,)):
                missing.append(f"{field.related_model.__name__}.{field.field.name}")
        elif not starts_an_index(model, (field.name,)):
            missing.append(f"{model.__name__}.{field.name}")
        if field.is_relation:
            model = field.related_model
    return missing


def model_of(viewset):
    if getattr(viewset, "queryset", None) is not None:
        return viewset.queryset.model
    if getattr(viewset, "filterset_class", None) is not None:
        return viewset.filterset_class._meta.model
    return viewset.serializer_class.Meta.model


def test_every_filter_reads_an_indexed_column():
    # Given every filter the API's FilterSets declare
    problems = []
    for filterset in FILTERSETS.values():
        model = filterset._meta.model
        for name, declared in filterset.base_filters.items():
            where = f"{filterset.__name__}.{name}"
            if declared.method:
                # Then a method filter names the columns it narrows on, and each starts an index
                columns = METHOD_FILTER_COLUMNS.get((filterset, name))
                if columns is None:
                    problems.append(f"{where}: a method filter; name its columns in METHOD_FILTER_COLUMNS")
                    continue
                problems += [
                    f"{where}: no index of {m.__name__} starts with {cols}"
                    for m, cols in columns
                    if not starts_an_index(m, cols)
                ]
            else:
                # Then a field filter's column (and each column of its joins) starts an index
                problems += [
                    f"{where} ({declared.field_name}): {hop} starts no index"
                    for hop in unindexed_hops(model, declared.field_name)
                ]

    # And the table names no filter that is gone
    declared_methods = {(fs, n) for fs in FILTERSETS.values() for n, f in fs.base_filters.items() if f.method}
    assert set(METHOD_FILTER_COLUMNS) == declared_methods
    assert not problems, "\n".join(problems)


def test_every_ordering_reads_an_indexed_column():
    # Given every routed viewset that lets callers choose the order
    problems = []
    for prefix, viewset, _ in router.registry:
        backends = viewset.filter_backends
        if not any(issubclass(backend, OrderingFilter) for backend in backends):
            continue
        ordering_fields = getattr(viewset, "ordering_fields", None)
        # Then it lists what may be ordered on (without a list DRF allows any serializer field)
        if not isinstance(ordering_fields, list | tuple):
            problems.append(f"{viewset.__name__} ({prefix}): ordering_fields = {ordering_fields!r}; list them")
            continue
        # And each of those starts an index
        model = model_of(viewset)
        for name in ordering_fields:
            problems += [
                f"{viewset.__name__}.ordering_fields {name!r}: {hop} starts no index"
                for hop in unindexed_hops(model, name.lstrip("-"))
            ]
    assert not problems, "\n".join(problems)


# Behaviour over HTTP ------------------------------------------------------------------------------------------


@pytest.fixture
def scene(zone):
    """Named rows whose filters each pick out a known subset. Times are fixed relative to now."""
    today = timezone.localdate()
    now = timezone.now()
    power = CategoryFactory(code="power", name="用电保障")
    Enterprise.objects.filter(pk=zone.other_enterprise.pk).update(industry=Industry.GREEN_ECONOMY)
    far = EnterpriseFactory(name="苏州远景生物有限公司", industry=Industry.LIFE_HEALTH)
    pa1 = ProjectFactory(
        enterprise=zone.enterprise, stage=Project.Stage.STARTED, level=Project.Level.KUNSHAN, concierge=zone.concierge
    )
    pa2 = ProjectFactory(
        enterprise=zone.enterprise, stage=Project.Stage.SIGNED, level=Project.Level.PROVINCIAL, concierge=None
    )
    pb = ProjectFactory(
        enterprise=zone.other_enterprise,
        stage=Project.Stage.PRODUCING,
        level=Project.Level.SUZHOU,
        concierge=zone.other_concierge,
    )

    def case(status, side, category=zone.category, unit=zone.task_force, worker=zone.member):
        user, concierge = (
            (zone.enterprise_user, zone.concierge)
            if side == "a"
            else (zone.other_enterprise_user, zone.other_concierge)
        )
        return make_case(
            status=status,
            enterprise_user=user,
            concierge=concierge,
            category=category,
            unit=unit,
            worker=worker,
        )

    cases = {
        "a1": case(CS.SUBMITTED, "a"),
        "a2": case(CS.IN_PROGRESS, "a"),
        "a3": case(CS.RESOLVED, "a", category=power, unit=zone.department, worker=zone.officer),
        "b1": case(CS.SUBMITTED, "b", category=power),
        "b2": case(CS.IN_PROGRESS, "b", unit=zone.other_department, worker=zone.other_officer),
        "b3": case(CS.CLOSED, "b"),
        "b4": case(CS.WITHDRAWN, "b"),
    }
    (extra,) = task_services.decompose_case(
        actor=zone.concierge, case=cases["a2"], tasks=[TaskSpec(title="供电接入", department=zone.other_department)]
    )
    task_services.start_task(actor=zone.other_officer, task=extra)
    tasks = {
        "ta2": cases["a2"].tasks.get(task_force=zone.task_force),
        "ta2b": extra,
        "ta3": cases["a3"].tasks.get(),
        "tb2": cases["b2"].tasks.get(),
        "tb3": cases["b3"].tasks.get(),
    }
    Case.objects.filter(pk=cases["a1"].pk).update(
        urgency=Case.Urgency.URGENT, channel=Case.Channel.HOTLINE, accept_due_on=today - timedelta(days=3)
    )
    Case.objects.filter(pk=cases["b1"].pk).update(
        urgency=Case.Urgency.CRITICAL, accept_due_on=today + timedelta(days=1)
    )
    Case.objects.filter(pk=cases["a3"].pk).update(verdict_due_on=today - timedelta(days=1))
    Case.objects.filter(pk=cases["a2"].pk).update(project=pa1)
    Case.objects.filter(pk=cases["b2"].pk).update(project=pb)
    Task.objects.filter(pk=tasks["ta2"].pk).update(assignee=zone.member)
    for name, days in {"ta2": 10, "ta2b": 3, "ta3": -5, "tb2": -1, "tb3": -20}.items():
        Task.objects.filter(pk=tasks[name].pk).update(due_on=today + timedelta(days=days))
    # Distinct times, one hour apart in the order named: submitted, then updated
    base = now - timedelta(days=10)
    for i, name in enumerate(cases):
        Case.objects.filter(pk=cases[name].pk).update(
            submitted_at=base + timedelta(hours=i), updated_at=base + timedelta(days=1, hours=i)
        )
    for i, name in enumerate(tasks):
        Task.objects.filter(pk=tasks[name].pk).update(updated_at=base + timedelta(hours=i))
    enterprises = {"A": zone.enterprise, "B": zone.other_enterprise, "C": far}
    for i, name in enumerate(enterprises):
        Enterprise.objects.filter(pk=enterprises[name].pk).update(updated_at=base + timedelta(hours=i))
    projects = {"PA1": pa1, "PA2": pa2, "PB": pb}
    for i, name in enumerate(projects):
        Project.objects.filter(pk=projects[name].pk).update(updated_at=base + timedelta(hours=i))

    objects = {**cases, **tasks, **enterprises, **projects}
    times = {
        "T_a3_submitted": base + timedelta(hours=2),
        "T_a3_updated": base + timedelta(days=1, hours=2),
        "T_ta2b_updated": base + timedelta(hours=1),
        "T_B_updated": base + timedelta(hours=1),
        "T_PA2_updated": base + timedelta(hours=1),
    }
    return {"zone": zone, "objects": objects, "times": times, "today": today}


def value_of(scene, value):
    """A parameter as the table writes it: scene rows ("@a2,@b2"), zone people and units ("zone.member"),
    times ("T_a3_submitted"), days from today ("day-1"), a scene enterprise's USCC ("uscc:B"); else as is."""
    if isinstance(value, list):
        return [value_of(scene, v) for v in value]
    if value.startswith("T_"):
        return scene["times"][value].isoformat()
    if value.startswith("day"):
        return (scene["today"] + timedelta(days=int(value[3:]))).isoformat()
    if value.startswith("uscc:"):
        return scene["objects"][value[5:]].uscc
    parts = value.split(",")
    if all(part.startswith(("@", "zone.")) for part in parts):
        return ",".join(
            str(scene["objects"][part[1:]].pk if part.startswith("@") else getattr(scene["zone"], part[5:]).pk)
            for part in parts
        )
    return value


ALL_CASES = {"a1", "a2", "a3", "b1", "b2", "b3", "b4"}
ALL_TASKS = {"ta2", "ta2b", "ta3", "tb2", "tb3"}
# (list, filter) → [(parameters, names of the rows returned)]
FILTER_CASES = {
    ("cases", "status"): [
        ({"status": "submitted"}, {"a1", "b1"}),
        ({"status": ["submitted", "in_progress"]}, {"a1", "b1", "a2", "b2"}),
    ],
    ("cases", "category"): [({"category": "power"}, {"a3", "b1"}), ({"category": "land,power"}, ALL_CASES)],
    ("cases", "enterprise"): [({"enterprise": "@A"}, {"a1", "a2", "a3"}), ({"enterprise": "@A,@B"}, ALL_CASES)],
    ("cases", "project"): [({"project": "@PA1"}, {"a2"}), ({"project": "@PA1,@PB"}, {"a2", "b2"})],
    ("cases", "concierge"): [({"concierge": "zone.other_concierge"}, {"b1", "b2", "b3", "b4"})],
    ("cases", "department"): [
        ({"department": "zone.department"}, {"a3"}),
        ({"department": "zone.other_department"}, {"a2", "b2"}),
    ],
    ("cases", "urgency"): [({"urgency": "urgent"}, {"a1"}), ({"urgency": "critical"}, {"b1"})],
    ("cases", "channel"): [({"channel": "hotline"}, {"a1"}), ({"channel": "portal"}, ALL_CASES - {"a1"})],
    ("cases", "overdue"): [({"overdue": "true"}, {"a1", "a3", "b2"}), ({"overdue": "false"}, {"a2", "b1", "b3", "b4"})],
    ("cases", "created_after"): [({"created_after": "T_a3_submitted"}, {"a3", "b1", "b2", "b3", "b4"})],
    ("cases", "created_before"): [({"created_before": "T_a3_submitted"}, {"a1", "a2"})],
    ("cases", "updated_after"): [({"updated_after": "T_a3_updated"}, {"a3", "b1", "b2", "b3", "b4"})],
    ("cases", "updated_before"): [({"updated_before": "T_a3_updated"}, {"a1", "a2"})],
    ("tasks", "status"): [
        ({"status": "pending"}, {"ta2", "tb2"}),
        ({"status": ["done", "in_progress"]}, {"ta3", "tb3", "ta2b"}),
    ],
    ("tasks", "case"): [({"case": "@a2"}, {"ta2", "ta2b"}), ({"case": "@a2,@b2"}, {"ta2", "ta2b", "tb2"})],
    ("tasks", "department"): [
        ({"department": "zone.department"}, {"ta3"}),
        ({"department": "zone.other_department"}, {"tb2", "ta2b"}),
    ],
    ("tasks", "task_force"): [({"task_force": "zone.task_force"}, {"ta2", "tb3"})],
    # ta2 was given to zone.member; tb3, given to the task force, became theirs when they signed for it
    ("tasks", "assignee"): [({"assignee": "zone.member"}, {"ta2", "tb3"})],
    ("tasks", "overdue"): [({"overdue": "true"}, {"tb2"}), ({"overdue": "false"}, ALL_TASKS - {"tb2"})],
    ("tasks", "due_after"): [({"due_after": "day3"}, {"ta2", "ta2b"})],
    ("tasks", "due_before"): [({"due_before": "day-1"}, {"ta3", "tb2", "tb3"})],
    ("tasks", "updated_after"): [({"updated_after": "T_ta2b_updated"}, ALL_TASKS - {"ta2"})],
    ("tasks", "updated_before"): [({"updated_before": "T_ta2b_updated"}, {"ta2"})],
    ("enterprises", "uscc"): [({"uscc": "uscc:B"}, {"B"})],
    ("enterprises", "name"): [({"name": "昆山恒远"}, {"B"}), ({"name": "昆山"}, {"A", "B"})],
    ("enterprises", "industry"): [({"industry": "green_economy"}, {"B"})],
    ("enterprises", "concierge"): [
        ({"concierge": "zone.concierge"}, {"A"}),
        ({"concierge": "zone.concierge,zone.other_concierge"}, {"A", "B"}),
    ],
    ("enterprises", "updated_after"): [({"updated_after": "T_B_updated"}, {"B", "C"})],
    ("projects", "enterprise"): [({"enterprise": "@A"}, {"PA1", "PA2"})],
    ("projects", "stage"): [({"stage": "signed"}, {"PA2"})],
    ("projects", "level"): [({"level": "suzhou"}, {"PB"})],
    ("projects", "concierge"): [({"concierge": "zone.concierge"}, {"PA1"})],
    ("projects", "updated_after"): [({"updated_after": "T_PA2_updated"}, {"PA2", "PB"})],
}


def test_every_filter_has_a_behaviour_and_a_bad_value_below():
    # Given every declared filter, then each is exercised below: by what it returns, and by a value it refuses
    declared = {(path, name) for path, fs in FILTERSETS.items() for name in fs.base_filters}
    assert set(FILTER_CASES) == declared
    assert set(BAD_VALUES) | ANY_TEXT == declared


@pytest.mark.parametrize(("path", "name"), list(FILTER_CASES), ids="{}".format)
def test_a_filter_returns_exactly_the_rows_it_names(scene, api, path, name):
    # Given the leader, who sees every row, and the named scene
    client = api(scene["zone"].leader)
    names_by_pk = {(type(obj), obj.pk): key for key, obj in scene["objects"].items()}
    model = FILTERSETS[path]._meta.model
    for params, expected in FILTER_CASES[path, name]:
        # When the list is filtered
        response = client.get(
            f"/api/v1/{path}/", {**{k: value_of(scene, v) for k, v in params.items()}, "page_size": 200}
        )

        # Then it holds exactly the rows named, no more
        assert response.status_code == 200, response.json()
        got = {names_by_pk.get((model, row["id"]), row["id"]) for row in response.json()["results"]}
        assert got == expected, params


# A value each filter must refuse; the filters in ANY_TEXT take any text (a code, a prefix, a USCC).
BAD_VALUES = {
    **{("cases", n): v for n, v in [("status", "nonsense"), ("urgency", "nonsense"), ("channel", "fax")]},
    **{("cases", n): "abc" for n in ("enterprise", "project", "concierge", "department")},
    **{("cases", n): "yesterday" for n in ("created_after", "created_before", "updated_after", "updated_before")},
    ("cases", "overdue"): "maybe",
    ("tasks", "status"): "nonsense",
    **{("tasks", n): "abc" for n in ("case", "department", "task_force", "assignee")},
    ("tasks", "overdue"): "maybe",
    ("tasks", "due_after"): "yesterday",
    ("tasks", "due_before"): "2026-13-45",
    **{("tasks", n): "yesterday" for n in ("updated_after", "updated_before")},
    ("enterprises", "industry"): "steel",
    ("enterprises", "concierge"): "abc",
    ("enterprises", "updated_after"): "yesterday",
    ("projects", "enterprise"): "abc",
    ("projects", "stage"): "dreaming",
    ("projects", "level"): "global",
    ("projects", "concierge"): "1,abc",
    ("projects", "updated_after"): "yesterday",
}
ANY_TEXT = {("cases", "category"), ("enterprises", "uscc"), ("enterprises", "name")}


@pytest.mark.parametrize(("path", "name"), list(BAD_VALUES), ids="{}".format)
def test_a_bad_filter_value_answers_400_naming_the_parameter(zone, api, path, name):
    # Given a list, when a filter is given a value it cannot mean
    response = api(zone.leader).get(f"/api/v1/{path}/", {name: BAD_VALUES[path, name]})

    # Then the answer is 400 `invalid` with the parameter named in `fields`
    assert response.status_code == 400, (response.status_code, response.json())
    body = response.json()
    assert body["code"] == "invalid" and list(body["fields"]) == [name], body


@pytest.mark.parametrize("ordering", [None, "updated_at", "-submitted_at", "id"])
def test_following_next_over_cursor_pages_returns_every_case_once(zone, api, ordering):
    # Given six cases of the enterprise, updated in an order unlike their ids
    cases = [
        make_case(
            status=status,
            enterprise_user=zone.enterprise_user,
            concierge=zone.concierge,
            category=zone.category,
            unit=zone.task_force,
            worker=zone.member,
        )
        for status in [CS.SUBMITTED, CS.IN_PROGRESS, CS.RESOLVED, CS.CLOSED, CS.ACCEPTED, CS.SUBMITTED]
    ]
    base = timezone.now() - timedelta(days=1)
    for i, case in enumerate(reversed(cases)):
        Case.objects.filter(pk=case.pk).update(updated_at=base + timedelta(minutes=i))
    client = api(zone.enterprise_user)

    # When the enterprise follows `next` from the first page, two at a time
    params = {"page_size": 2, **({"ordering": ordering} if ordering else {})}
    body = client.get("/api/v1/cases/", params).json()
    pages = [body["results"]]
    while body["next"]:
        body = client.get(body["next"]).json()
        pages.append(body["results"])

    # Then three pages hold every case exactly once, in the order asked for
    ids = [row["id"] for page in pages for row in page]
    assert [len(page) for page in pages] == [2, 2, 2]
    assert sorted(ids) == sorted(case.pk for case in cases)
    assert ids == list(Case.objects.filter(pk__in=ids).order_by(ordering or "-id").values_list("pk", flat=True))
