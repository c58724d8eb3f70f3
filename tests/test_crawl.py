"""The crawl: every page the workbench (/admin/) and the portal (/portal/) offer, opened as every role.

The addresses are derived, not listed. The URL resolver is walked; each pattern's values are filled with the ids
of objects that exist (the objects each role may see, and one it may not where that role sees none); the admin
registry says which model each admin address belongs to; each list's own filter, sort and date links are
followed. A page added tomorrow is crawled without anyone remembering it, and an address that takes a value the
crawl does not know how to fill fails the test until a filler is added to FILLERS below.

It fails on any server error (5xx); on Django's scaffolding left on a page (its default headings "选择诉求查看",
"查看 诉求", its history button); and on any page a role reaches that its menu does not offer: a model's list
answering 200 must be in the role's sidebar (WorkbenchSite.get_app_list), a page of the workbench's own
(dashboard, inbox: WorkbenchSite.get_urls) linked from its menu. Conversely everything the menu offers must open,
with rows in it. The API (/api/) has its own tests (schema fuzzing included) and is not crawled as HTML.

The count of (address, role) pairs opened is printed: `pytest tests/test_crawl.py -q` shows it.
"""

import functools
import html
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import date_hierarchy, result_headers
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import get_language, gettext
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, SolarSchedule

from services import api_tokens
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.delivery import webhooks
from services.register import reference
from services.roles import Role
from services.selectors import cases_visible_to, notifications_visible_to
from services.time.schedules import ensure_periodic_tasks
from tests.factories import (
    AttachmentFactory,
    HolidayOverrideFactory,
    ProjectFactory,
    TierFactory,
    UserFactory,
    VisitFactory,
    make_case,
)
from tracker.models import (
    Attachment,
    Case,
    HolidayYear,
    Notification,
    PushDelivery,
    Reminder,
    WebhookAttempt,
    WebhookDelivery,
)

pytestmark = pytest.mark.django_db

# The crawl must keep covering at least this many (address, role) pairs: a change that silently drops pages
# (a resolver walk that stops early, objects that vanish) fails here.
MIN_PAIRS = 2500

# Server errors found in other helpers' areas, by address name: reported, and the test marked xfail while any of
# these (and nothing else) fails. Remove an entry when its page is fixed.
KNOWN_5XX: dict[str, str] = {}

SITE = admin.site

# Objects opened per role on the pages that change with an object's state (cases, tasks: each state's buttons)
OBJECTS_PER_STATE = 12


# ---- the zone crawled: every model with a row each role may see ------------------------------------------------


@dataclass
class Crawled:
    roles: dict[str, object]  # role name -> user
    outsider_case: Case  # another enterprise's case: seen by nobody in the zone but leaders and administrators


@pytest.fixture
def crawled(zone, private_media) -> Crawled:
    return build_crawled(zone)


def build_crawled(zone) -> Crawled:
    """Give the conftest's zone a row of every registered model, each role something in each list it is offered
    (used by the crawl and by the form fuzzer, tests/test_form_fuzz.py)."""
    lead = UserFactory(username="tf_lead", full_name="郑组长", roles=[Role.TASK_FORCE_MEMBER])
    zone.task_force.lead = lead
    zone.task_force.save()
    zone.enterprise.tiers.add(TierFactory(name="专精特新"))
    ProjectFactory(enterprise=zone.enterprise, name="精密制造二期")
    common = {"enterprise_user": zone.enterprise_user, "concierge": zone.concierge, "category": zone.category}
    cases = {}
    for status, label in Case.Status.choices:  # one case at each status
        unit, worker = (
            (zone.task_force, zone.member) if status == Case.Status.IN_PROGRESS else (zone.department, zone.officer)
        )
        cases[status] = make_case(status=status, unit=unit, worker=worker, title=f"{label}的诉求", **common)
    task = cases[Case.Status.IN_PROGRESS].tasks.get()
    task_services.request_extension(
        actor=zone.member, task=task, requested_due_on=task.due_on + timedelta(days=30), reason="等待批复"
    )
    # 重办: a verdict sent back; and a task a unit returned (退回) to the concierge
    redo = make_case(
        status=Case.Status.RESOLVED, unit=zone.department, worker=zone.officer, title="重办的诉求", **common
    )
    case_services.reopen_case(actor=zone.enterprise_user, case=redo, reason="问题没有解决", rating=2)
    returned = make_case(
        status=Case.Status.IN_PROGRESS, unit=zone.department, worker=zone.officer, title="事项被退回的诉求", **common
    )
    task_services.return_task(actor=zone.officer, task=returned.tasks.get(), reason="不属于本部门职责")
    # 挂起: a case waiting for the enterprise's information, its clocks stopped (恢复计时 offered)
    paused = make_case(
        status=Case.Status.IN_PROGRESS, unit=zone.department, worker=zone.officer, title="挂起的诉求", **common
    )
    case_services.request_case_info(actor=zone.concierge, case=paused, note="请补充用电负荷清单")
    # A category's threshold changed by an administrator (设置变更记录), and a tier added (审计日志 records both)
    reference.change_category_limits(actor=zone.admin, category=zone.category, yellow_after_days=3)
    reference.save_tier(actor=zone.admin, tier=None, values={"code": "unicorn", "name": "独角兽"})
    outsider = make_case(
        status=Case.Status.SUBMITTED,
        enterprise_user=zone.other_enterprise_user,
        concierge=zone.other_concierge,
        category=zone.category,
        unit=zone.department,
        worker=zone.officer,
        title="另一家企业的诉求",
    )
    for case in (cases[Case.Status.SUBMITTED], cases[Case.Status.IN_PROGRESS], outsider):
        AttachmentFactory(case=case, uploaded_by=case.submitted_by)
    AttachmentFactory(case=task.case, task=task, uploaded_by=zone.member, staff_only=True, original_name="内部复函.pdf")
    Reminder.objects.create(
        kind=Reminder.Kind.TASK_OVERDUE, item_key=f"task:{task.pk}", deadline=task.due_on, case=task.case, task=task
    )
    VisitFactory(enterprise=zone.enterprise, concierge=zone.concierge)
    HolidayOverrideFactory()
    HolidayYear.objects.create(year=2027, completed_by=zone.admin, completed_at=timezone.now())
    api_tokens.create_token(actor=zone.admin, user=zone.integration, name="12345 热线对接", expires_at=None)
    subscription = webhooks.create_subscription(
        actor=zone.admin, name="一网通办", url="https://example.org/hook", event_types=["case.submitted"]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, event_type="case.submitted", dedupe_key="k", payload={"id": "1", "data": {}}
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=500, error="服务器错误")
    roles = {
        "administrator": zone.admin,
        "leader": zone.leader,
        "concierge": zone.concierge,
        "task_force_lead": lead,
        "task_force_member": zone.member,
        "department_officer": zone.officer,
        "enterprise_user": zone.enterprise_user,
        "integration": zone.integration,
    }
    for user in roles.values():  # a notice in every inbox
        Notification.objects.create(recipient=user, kind=Notification.Kind.CASE_FILED, case=cases["submitted"])
    PushDelivery.objects.create(
        dedupe_key="crawl",
        channel=PushDelivery.Channel.choices[0][0],
        recipient=zone.concierge,
        address="concierge@example.org",
        subject="提醒",
        body="有一件诉求待受理",
    )
    ensure_periodic_tasks()
    CrontabSchedule.objects.get_or_create(minute="0", hour="8")
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    SolarSchedule.objects.create(event="sunrise", latitude=31.38, longitude=120.98)
    seen = {"user_agent": "crawl", "ip_address": "127.0.0.1", "username": "x", "http_accept": "*/*"}
    AccessAttempt.objects.create(**seen, path_info="/admin/login/", get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen, path_info="/admin/login/")
    AccessFailureLog.objects.create(**seen, path_info="/admin/login/")
    empty = [model._meta.label for model in SITE._registry if not model._default_manager.exists()]
    assert not empty, f"give the crawl a row of {empty} (a page with no object to open is not crawled)"
    return Crawled(roles=roles, outsider_case=outsider)


# ---- the addresses: the resolver's patterns, each with the values it takes ------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None  # for reverse(), namespaced: "admin:tracker_case_change"
    route: str  # the pattern as written, for messages
    params: frozenset[str]
    model_admin: admin.ModelAdmin | None  # the admin whose address this is, if any


def routes() -> list[Route]:
    """Every pattern of the project's URLconf, outside /api/."""
    admin_prefix = reverse("admin:index").lstrip("/")
    model_prefixes = {
        f"{admin_prefix}{model._meta.app_label}/{model._meta.model_name}/": model_admin
        for model, model_admin in SITE._registry.items()
    }
    found = []

    def walk(patterns, prefix: str, namespace: str | None, params: frozenset, model_admin):
        for pattern in patterns:
            here = prefix + str(pattern.pattern)
            names = params | frozenset(pattern.pattern.regex.groupindex)
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
                if inner == "api":
                    continue  # the API: JSON, its own tests
                walk(pattern.url_patterns, here, inner, names, model_prefixes.get(here, model_admin))
            elif isinstance(pattern, URLPattern):
                name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else None
                found.append(Route(name=name, route=here, params=names, model_admin=model_admin))

    walk(get_resolver().url_patterns, "", None, frozenset(), None)
    return found


@dataclass
class Visitor:
    """What the crawl knows while it walks as one role."""

    role: str
    user: object
    crawled: Crawled
    client: Client
    statuses: dict[str, int] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # a list's address -> how many rows it showed the role

    def request(self, path: str = "/admin/"):
        request = RequestFactory().get(path)
        request.user = self.user
        request.session = {}
        return request

    def objects(self, model_admin, limit: int = 1) -> list:
        """Objects of the admin's model: those the role may see first (at most `limit`), else any one (the page
        must then answer 'not found', not fail)."""
        visible = list(model_admin.get_queryset(self.request())[:limit])
        return visible or list(model_admin.model._default_manager.order_by("pk")[:1])

    def case_numbers(self) -> list[str]:
        numbers = list(cases_visible_to(self.user).order_by("pk").values_list("number", flat=True))
        if not self.user.enterprise_id:
            numbers = numbers[:1]  # staff and integrations are turned away from the portal whatever the case
        return [*numbers, self.crawled.outsider_case.number]

    def notices(self) -> list[int]:
        return list(notifications_visible_to(self.user).values_list("pk", flat=True)[:1]) or [
            Notification.objects.first().pk
        ]


# Values for the patterns' parameters, by the set of parameter names (and, where one name means different things
# on different pages, by the address name). Each returns the keyword arguments to reverse() with.
Filler = Callable[[Visitor, Route], list[dict]]


def _objects(visitor: Visitor, route: Route) -> list[dict]:
    model_admin = route.model_admin
    changes_with_state = visitor.user.is_staff and getattr(model_admin, "object_actions", None)
    limit = OBJECTS_PER_STATE if changes_with_state else 1
    return [{"object_id": obj.pk} for obj in visitor.objects(model_admin, limit)]


def _object_actions(visitor: Visitor, route: Route) -> list[dict]:
    """Each action's page on the objects where the role may take it, and every action on the first object (the
    refusals: "you cannot …" or 403 for a button that takes no form)."""
    model_admin = route.model_admin
    objects = visitor.objects(model_admin, OBJECTS_PER_STATE if visitor.user.is_staff else 1)
    request = visitor.request()
    pairs = [(objects[0], name) for name in model_admin.object_actions]
    if visitor.user.is_staff:
        pairs += [(obj, name) for obj in objects[1:] for name in model_admin.actions_for(request, obj)]
    return [{"object_id": obj.pk, "action": name} for obj, name in dict.fromkeys(pairs)]


def _model_pk(visitor: Visitor, route: Route) -> list[dict]:
    (name,) = route.params
    return [{name: obj.pk} for obj in visitor.objects(route.model_admin)]


def _import_kinds(visitor: Visitor, route: Route) -> list[dict]:
    from tracker.admin.zone import IMPORT_KINDS

    return [{"kind": kind} for kind in [*IMPORT_KINDS, "unknown"]]


def _app_labels(visitor: Visitor, route: Route) -> list[dict]:
    return [{"app_label": label} for label in sorted({model._meta.app_label for model in SITE._registry})]


def _view_on_site(visitor: Visitor, route: Route) -> list[dict]:
    case = visitor.crawled.outsider_case
    return [{"content_type_id": ContentType.objects.get_for_model(Case).pk, "object_id": case.pk}]


def _catch_all(visitor: Visitor, route: Route) -> list[dict]:
    return [{"url": "no-such-page/"}]


def _notice(visitor: Visitor, route: Route) -> list[dict]:
    return [{"pk": pk} for pk in visitor.notices()]


def _case_number(visitor: Visitor, route: Route) -> list[dict]:
    return [{"number": number} for number in visitor.case_numbers()]


def _case_file(visitor: Visitor, route: Route) -> list[dict]:
    """The files of the role's cases (a staff-only one among them), and one of another enterprise's case."""
    files = list(Attachment.objects.select_related("case").order_by("pk"))
    *numbers, outsider = visitor.case_numbers()
    chosen = [f for f in files if f.case.number in numbers] + [f for f in files if f.case.number == outsider][:1]
    return [{"number": f.case.number, "pk": f.pk} for f in chosen]


def _reset_token(visitor: Visitor, route: Route) -> list[dict]:
    uid = urlsafe_base64_encode(force_bytes(visitor.user.pk))
    return [{"uidb64": uid, "token": default_token_generator.make_token(visitor.user)}]


FILLERS: dict[frozenset | str, Filler] = {
    frozenset(): lambda visitor, route: [{}],
    frozenset({"object_id"}): _objects,
    frozenset({"object_id", "action"}): _object_actions,
    frozenset({"kind"}): _import_kinds,
    frozenset({"app_label"}): _app_labels,
    frozenset({"content_type_id", "object_id"}): _view_on_site,
    frozenset({"url"}): _catch_all,
    frozenset({"number"}): _case_number,
    frozenset({"number", "pk"}): _case_file,
    frozenset({"uidb64", "token"}): _reset_token,
    # <int:pk> is the admin's own model under a model's address (see fill), else a notice: inbox, portal messages
    "admin:open_notice": _notice,
    "portal:open_notification": _notice,
}


def fill(visitor: Visitor, route: Route) -> list[dict]:
    if route.name in FILLERS:
        return FILLERS[route.name](visitor, route)
    if route.model_admin is not None and len(route.params) == 1 and route.params <= {"pk", "id"}:
        return _model_pk(visitor, route)  # the admin's own model: a file's download, a user's password
    if route.params in FILLERS:
        return FILLERS[route.params](visitor, route)
    raise LookupError(f"the crawl cannot fill {sorted(route.params)} in {route.route} ({route.name}): add a filler")


def address(route: Route, kwargs: dict) -> str:
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    if set(kwargs) == {"url"}:  # the admin's unnamed catch-all
        return "/" + route.route.split("(?P<url>")[0] + kwargs["url"]
    # an unnamed path("<path:object_id>/", …): its converters filled in place
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(kwargs[match.group(1)]), route.route)


def pages(visitor: Visitor, all_routes: list[Route]) -> Iterator[tuple[Route, str]]:
    """Every address the visitor opens, with its pattern (a list's own filter and sort links aside)."""
    for route in all_routes:
        for kwargs in fill(visitor, route):
            yield route, address(route, kwargs)


# ---- the walk --------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    role: str
    url: str
    name: str | None
    problem: str


@contextmanager
def quiet_request_logs() -> Iterator[None]:
    """Thousands of requests: no log line each (errors are collected by the crawl itself)."""
    loggers = [logging.getLogger(name) for name in ("django.request", "tracker.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def list_links(changelist, *, sorting: bool) -> list[str]:
    """The links a list page offers to itself: each filter choice, a search, and (with `sorting`) each column's
    sort and the date drill-down."""
    links = []
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            if "query_string" in choice:
                links.append(choice["query_string"])
            elif "parameter_name" in choice:  # a filter typed into a box
                links.append(f"?{choice['parameter_name']}=1")
                links.append(f"?{choice['parameter_name']}=昆山")
    if sorting:
        links += [header["url_primary"] for header in result_headers(changelist) if header.get("sortable")]
        hierarchy = date_hierarchy(changelist) if changelist.date_hierarchy else None
        links += [choice["link"] for choice in (hierarchy or {}).get("choices", []) if choice.get("link")]
    if changelist.search_fields:
        links.append("?q=昆山")
    return list(dict.fromkeys(link for link in links if link and link != "?"))


@functools.cache
def django_titles(language: str) -> frozenset[str]:
    """The headings Django gives the pages of the registered models and apps ("选择 诉求 来查看", "查看 诉求")."""
    titles = set()
    for model in SITE._registry:
        for text in ("Select %s to view", "Select %s to change", "View %s", "Change %s", "Add %s"):
            titles |= {gettext(text) % model._meta.verbose_name, gettext(text) % model._meta.verbose_name_plural}
    for app in {model._meta.app_config for model in SITE._registry}:
        titles.add(gettext("%(app)s administration") % {"app": app.verbose_name})
    return frozenset(titles)


def scaffolding(text: str) -> str | None:
    """Django's scaffolding left on a page: its default headings, its history button."""
    headings = {heading.strip() for heading in re.findall(r"<h1[^>]*>(.*?)</h1>", text, re.S)}
    found = headings & django_titles(get_language())
    if found:
        return f"Django's heading: {sorted(found)}"
    if 'class="historylink"' in text:
        return "Django's history button"
    return None


def crawl_as(visitor: Visitor, all_routes: list[Route], findings: list[Finding], sorted_lists: set[str]) -> int:
    """Open every address as the visitor; return how many were opened. A list's sort and date links are opened
    by the first role that opens the list (`sorted_lists`): their code does not depend on who asks; its filters,
    which do (the queue "mine"), by every role."""
    opened = 0

    def open_(url: str, name: str | None) -> object:
        nonlocal opened
        response = visitor.client.get(url)
        opened += 1
        visitor.statuses[url] = response.status_code
        visitor.content_types[url] = response.get("Content-Type", "")
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            problem = f"{response.status_code}: {error[1]!r}" if error else str(response.status_code)
            findings.append(Finding(visitor.role, url, name, problem))
        elif response.status_code == 200 and visitor.content_types[url].startswith("text/html"):
            problem = scaffolding(response.content.decode())
            if problem:
                findings.append(Finding(visitor.role, url, name, problem))
        return response

    for route, url in pages(visitor, all_routes):
        response = open_(url, route.name)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if response.status_code == 200 and changelist is not None and route.name.endswith("_changelist"):
            visitor.rows[url] = changelist.result_count
            sorting = url not in sorted_lists
            sorted_lists.add(url)
            for link in list_links(changelist, sorting=sorting):
                open_(url + link, route.name)
    return opened


def menu_of(visitor: Visitor) -> tuple[set[str], list[str], set[str]]:
    """What the role's menu offers: the lists in its sidebar, the links of its workbench navigation, and the
    addresses linked from its page of everything (/admin/?all=1: sidebar, navigation, user tools)."""
    request = visitor.request()
    lists = {entry["admin_url"] for app in SITE.get_app_list(request) for entry in app["models"] if entry["admin_url"]}
    links = (
        [url for _label, url in SITE.each_context(request).get("workbench_links", [])] if visitor.user.is_staff else []
    )
    page = visitor.client.get(reverse("admin:index") + "?all=1")
    hrefs = re.findall(r'href="([^"#]+)"', page.content.decode()) if page.status_code == 200 else []
    return lists, links, {urlsplit(html.unescape(href)).path for href in hrefs}


def workbench_pages(all_routes: list[Route]) -> list[Route]:
    """The site's own pages (dashboard, inbox…): WorkbenchSite's addresses that Django's AdminSite does not have."""
    django_names = {f"admin:{p.name}" for p in admin.AdminSite.get_urls(SITE) if getattr(p, "name", None)}
    return [
        r
        for r in all_routes
        if r.name and r.name.startswith("admin:") and r.model_admin is None and r.name not in django_names
    ]


def check_menu(visitor: Visitor, all_routes: list[Route], findings: list[Finding]) -> int:
    """A list the role opens is in its sidebar, a workbench page it opens is in its links; everything offered
    opens. Returns how many offered links were opened here (beyond the crawl)."""
    lists, links, linked = menu_of(visitor)
    opened = 1
    for route in all_routes:
        if route.model_admin is not None and route.name and route.name.endswith("_changelist"):
            url = reverse(route.name)
            if visitor.statuses.get(url) == 200 and url not in lists:
                findings.append(Finding(visitor.role, url, route.name, "opens, but the sidebar does not offer it"))
    link_paths = linked | {urlsplit(link).path for link in links}
    for route in workbench_pages(all_routes):
        if route.params:
            continue  # an address of one notice, not a page of the menu
        url = reverse(route.name)
        html = visitor.content_types.get(url, "").startswith("text/html")
        if visitor.statuses.get(url) == 200 and html and url not in link_paths:
            findings.append(Finding(visitor.role, url, route.name, "opens, but the navigation does not offer it"))
    for url in sorted(lists) + links:
        status = visitor.statuses.get(url)
        if status is None:
            status = visitor.client.get(url).status_code
            opened += 1
        if status != 200:
            findings.append(Finding(visitor.role, url, None, f"offered by the menu, answers {status}"))
        elif url in lists and not visitor.rows.get(url):
            # the crawl's zone must give every role something in each list it is offered, or its object pages
            # would only be crawled as "not found"
            findings.append(Finding(visitor.role, url, None, "offered list is empty for this role: add a row"))
    return opened


def test_every_page_opens_for_every_role_and_only_what_its_menu_offers(crawled, settings, capsys):
    # Given the zone with a row of every model, and the addresses the project offers
    settings.DEBUG = False  # the project's own error pages, as in production
    all_routes = routes()
    assert any(r.name == "admin:tracker_case_changelist" for r in all_routes)
    assert any(r.name == "portal:case" for r in all_routes)
    findings: list[Finding] = []
    pairs = 0
    sorted_lists: set[str] = set()
    started = time.monotonic()
    # When each role opens every one of them
    with quiet_request_logs():
        for role, user in crawled.roles.items():
            client = Client(raise_request_exception=False)
            client.force_login(user)
            visitor = Visitor(role=role, user=user, crawled=crawled, client=client)
            pairs += crawl_as(visitor, all_routes, findings, sorted_lists)
            pairs += check_menu(visitor, all_routes, findings)
    with capsys.disabled():
        print(f"\ncrawl: {pairs} address × role pairs opened in {time.monotonic() - started:.1f} s")
    # Then nothing fails, nothing is reached that the menu does not offer, and the crawl covered what it should
    known = [f for f in findings if f.problem[:1] == "5" and f.name in KNOWN_5XX]
    unknown = [f for f in findings if f not in known]
    assert not unknown, "\n".join(f"{f.role:20} {f.url}  {f.problem}" for f in unknown)
    assert pairs >= MIN_PAIRS, f"the crawl opened only {pairs} pairs"
    if known:
        reasons = sorted({f"{f.name}: {KNOWN_5XX[f.name]}" for f in known})
        pytest.xfail("known server errors in other areas: " + "; ".join(reasons))
