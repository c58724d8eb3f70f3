"""Task work: decompose a case into tasks, and each task's steps — start, complete, return, re-dispatch,
reopen, cancel — plus deadline extensions (延期) requested by the unit and decided by a leader.

Every function locks the case, then the task, and records one event per transition on the case's timeline.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from services.cases.files import check_uploads, store_files
from services.cases.steps import files_event_data
from services.cases.transitions import apply_transition, record_event
from services.errors import Conflict, IllegalTransition, NotFound, NotPermitted
from services.locking import lock_case, lock_task
from services.permissions import can_decide_extension, can_handle_case, can_work_task
from services.roles import Role
from services.selectors import assignable_staff
from services.states import (
    WORKING_TASK_STATES,
    case_actions_allowed,
    check_version,
    require_case_step,
    task_actions_allowed,
)
from services.time import calendar
from services.units import unit_name
from services.validation import FieldErrors, require_text
from tracker.models import Case, CaseEvent, Department, Extension, Task, TaskForce, User

Kind = CaseEvent.Kind


@dataclass
class TaskSpec:
    """One task of a decomposition, as the interfaces hand it over."""

    title: str
    task_force: TaskForce | None = None
    department: Department | None = None
    assignee: User | None = None
    description: str = ""
    due_on: date | None = None


def task_forces_for_case(case: Case) -> QuerySet[TaskForce]:
    """The task forces a task of `case` may be given to: the active standing ones and those formed for this case
    (never another case's own task force), this case's first."""
    return TaskForce.objects.filter(Q(case__isnull=True) | Q(case=case), is_active=True).order_by(
        F("case_id").desc(nulls_last=True), "-is_standing", "name", "id"
    )


@dataclass
class UnitPeople:
    """Who may be named the assignee of a task given to each unit (`people_of_units`)."""

    people: dict[int, User]  # every person below, by id, ordered by name
    task_forces: dict[int, list[int]]  # task force id -> its lead and members, then its departments' officers
    departments: dict[int, list[int]]  # department id -> its officers

    def of(self, task_force: TaskForce | None, department: Department | None) -> list[int]:
        """The people of a task force and/or a department (a task may name both), without repeats."""
        ids = (self.task_forces.get(task_force.pk, []) if task_force else []) + (
            self.departments.get(department.pk, []) if department else []
        )
        return list(dict.fromkeys(ids))


def people_of_units(*, task_forces: Iterable[TaskForce], departments: Iterable[Department]) -> UnitPeople:
    """The people of each unit: a department's officers; a task force's lead and members, then the officers of
    its lead and assisting departments (they work its tasks too, `services.permissions.can_work_task`).

    Three queries whatever the number of units and staff."""
    task_forces, departments = list(task_forces), list(departments)
    forces = {tf.pk: tf for tf in task_forces}
    members: dict[int, list[int]] = {pk: [] for pk in forces}
    for tf_id, user_id in TaskForce.members.through.objects.filter(taskforce_id__in=forces).values_list(
        "taskforce_id", "user_id"
    ):
        members[tf_id].append(user_id)
    units_of_force = {pk: [tf.lead_department_id] for pk, tf in forces.items()}
    for tf_id, dept_id in TaskForce.assisting_departments.through.objects.filter(taskforce_id__in=forces).values_list(
        "taskforce_id", "department_id"
    ):
        units_of_force[tf_id].append(dept_id)
    department_ids = {d.pk for d in departments} | {d for ids in units_of_force.values() for d in ids}
    named = {tf.lead_id for tf in task_forces if tf.lead_id} | {u for ids in members.values() for u in ids}
    is_officer = Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=Role.DEPARTMENT_OFFICER))
    people = {
        user.pk: user
        for user in assignable_staff()
        .annotate(is_officer=is_officer)
        .filter(Q(pk__in=named) | Q(department_id__in=department_ids, is_officer=True))
        .select_related("department")
    }
    officers: dict[int, list[int]] = {}
    for user in people.values():  # in name order
        if user.is_officer and user.department_id in department_ids:
            officers.setdefault(user.department_id, []).append(user.pk)
    rank = {pk: n for n, pk in enumerate(people)}

    def force_people(tf: TaskForce) -> list[int]:
        ids = [tf.lead_id] if tf.lead_id else []
        ids += sorted((pk for pk in members[tf.pk] if pk in rank), key=rank.__getitem__)
        ids += [pk for dept in units_of_force[tf.pk] for pk in officers.get(dept, [])]
        return [pk for pk in dict.fromkeys(ids) if pk in people]

    return UnitPeople(
        people=people,
        task_forces={pk: force_people(tf) for pk, tf in forces.items()},
        departments={d.pk: officers.get(d.pk, []) for d in departments},
    )


def assignee_belongs_to_unit(assignee: User, task_force: TaskForce | None, department: Department | None) -> bool:
    """Whether `assignee` is one of the people of the task force or department (`people_of_units`)."""
    people = people_of_units(
        task_forces=[task_force] if task_force else [], departments=[department] if department else []
    )
    return assignee.pk in people.of(task_force, department)


def _check_unit(errors: FieldErrors, prefix: str, case: Case, task_force, department, assignee) -> None:
    if task_force is None and department is None:
        errors.add(f"{prefix}task_force", _("请选择承办专班或部门"))
        return
    if task_force is not None and task_force.case_id is not None and task_force.case_id != case.pk:
        errors.add(f"{prefix}task_force", _("该专班是为其他诉求组建的，不能承办本诉求的事项"))
    elif task_force is not None and not task_force.is_active:
        errors.add(f"{prefix}task_force", _("该专班已停用"))
    if department is not None and not department.is_active:
        errors.add(f"{prefix}department", _("该部门已停用"))
    if assignee is not None and not assignee_belongs_to_unit(assignee, task_force, department):
        errors.add(f"{prefix}assignee", _("承办人须为该专班或部门的在职人员"))


def _latest_due(today: date) -> date:
    """The latest deadline a task may be given today (settings.TASK_DUE_HORIZON_DAYS)."""
    return today + timedelta(days=settings.TASK_DUE_HORIZON_DAYS)


def _due_on(
    errors: FieldErrors, field: str, value, today: date, days: calendar.WorkingCalendar
) -> calendar.DueDate | None:
    """`value` as a task's deadline: none, or a date from today up to the horizon (else an error on `field`),
    moved to the next working day when it falls on a rest day (民法典 第二百零三条)."""
    value = errors.date_not_before(field, value, today)
    if value is None or not _within_horizon(errors, field, value, today):
        return None
    return days.add_working_days(value, 0)


def _within_horizon(errors: FieldErrors, field: str, value: date, today: date, *, moved: bool = False) -> bool:
    """Whether `value` is within the horizon; `moved` allows the working day after a horizon that is a rest day
    (where a date typed on it was moved to)."""
    latest = _latest_due(today)
    if moved:
        latest = calendar.WorkingCalendar.load(since=latest).next_working_day(latest)
    if value > latest:
        errors.add(field, _("不能晚于%(date)s") % {"date": latest.isoformat()})
        return False
    return True


def _due_basis(days: calendar.WorkingCalendar, today: date, due_on: date) -> dict:
    """What a deadline set today counts: its working days from today (from itself, for a date already past), so
    that `services.time.reschedule` can count it again once a year's holiday schedule is confirmed."""
    start = min(today, due_on)
    return {"due_counted_from": start, "due_working_days": days.working_days_between(start, due_on)}


def task_event_data(task: Task) -> dict:
    """What the timeline keeps of a task given out: a snapshot, so later renames do not rewrite history."""
    return {
        "task": task.title,
        "unit": unit_name(task.task_force, task.department),
        "assignee": task.assignee.display_name if task.assignee else "",
        "due_on": task.due_on.isoformat(),
    }


def extension_event_data(task: Task, extension: Extension, *, extension_ref=None) -> dict:
    """What the timeline keeps of an extension request or decision (`extension_ref` stands in for the id
    of an extension not yet inserted, as in the seed generator)."""
    return {
        "task": task.title,
        "extension": extension.pk if extension_ref is None else extension_ref,
        "due_on": task.due_on.isoformat(),
        "requested_due_on": extension.requested_due_on.isoformat(),
    }


def decompose_case(
    *, actor: User, case: Case | int, tasks: list[TaskSpec], expected_version: int | None = None
) -> list[Task]:
    """Give one or more tasks to task forces or departments. Due dates default to the category's limit.

    The first decomposition moves an accepted case to in progress; later ones add tasks to it.
    """
    with transaction.atomic():
        case = lock_case(actor, case)
        if not can_handle_case(actor, case):
            raise NotPermitted(_("您无权分解此诉求"))
        check_version(case, expected_version)
        require_case_step(case, "decompose")
        today = timezone.localdate()
        days = calendar.WorkingCalendar.load(since=today)
        errors = FieldErrors()
        if not tasks:
            errors.add("tasks", _("至少交办一个事项"))
        cleaned = []
        for i, spec in enumerate(tasks or []):
            prefix = f"tasks[{i}]."
            title = errors.text(f"{prefix}title", spec.title, max_length=200)
            description = errors.text(f"{prefix}description", spec.description, required=False, max_length=5000)
            _check_unit(errors, prefix, case, spec.task_force, spec.department, spec.assignee)
            due = _due_on(errors, f"{prefix}due_on", spec.due_on, today, days)
            cleaned.append((spec, title, description, due))
        errors.raise_if_any()

        now = timezone.now()
        if case.status == Case.Status.ACCEPTED:
            apply_transition(case, "decompose", actor=actor, data={"tasks": len(cleaned)}, at=now)
        _redo_taken_up(case)
        default_due = days.add_working_days(today, case.category.task_days)
        created = []
        for spec, title, description, due in cleaned:
            due = due or default_due
            task = Task.objects.create(
                case=case,
                task_force=spec.task_force,
                department=spec.department,
                assignee=spec.assignee,
                title=title,
                description=description,
                due_on=due.date,
                due_is_provisional=due.used_fallback,
                **_due_basis(days, today, due.date),
                created_by=actor,
                created_at=now,
                updated_at=now,
            )
            record_event(
                case=case,
                kind=Kind.TASK_CREATED,
                actor=actor,
                task=task,
                to_status=Task.Status.PENDING,
                note=description,
                data=task_event_data(task),
                at=now,
            )
            created.append(task)
    return created


def _redo_taken_up(case: Case) -> None:
    """The concierge has acted on a case sent back (重办): its redo deadline is met. Caller holds the case lock."""
    if case.redo_due_on is not None:
        case.redo_due_on = None
        Case.objects.filter(pk=case.pk).update(redo_due_on=None)


def _require_worker(actor: User, task: Task) -> None:
    if not can_work_task(actor, task):
        raise NotPermitted(_("此事项不是交办给您或您的单位的"))


def _require_handler(actor: User, task: Task) -> None:
    if not can_handle_case(actor, task.case):
        raise NotPermitted(_("只有该诉求的服务专员或领导可以执行此操作"))


def _require_case_in_progress(task: Task) -> None:
    if task.case.status != Case.Status.IN_PROGRESS:
        raise IllegalTransition(
            _("诉求“%(status)s”时不能调整事项") % {"status": task.case.get_status_display()},
            current=task.case.status,
            allowed=case_actions_allowed(task.case.status),
            code="case_not_in_progress",
        )


def start_task(*, actor: User, task: Task | int, expected_version: int | None = None) -> Task:
    """The unit signs for the task (签收) and starts work. A task given to the unit as a whole is then the signer's
    (承办人), when the signer belongs to the unit."""
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_worker(actor, task)
        check_version(task, expected_version)
        now = timezone.now()
        data = {"task": task.title}
        changes = {"started_at": now}
        if task.assignee_id is None and assignee_belongs_to_unit(actor, task.task_force, task.department):
            changes["assignee"] = actor
            data["assignee"] = actor.display_name
        apply_transition(task, "start", actor=actor, data=data, changes=changes, at=now)
    return task


def complete_task(
    *,
    actor: User,
    task: Task | int,
    result: str,
    expected_version: int | None = None,
    files=(),
    staff_only: bool = True,
) -> Task:
    """The unit reports the task done with its result and any files of it (a 复函, a 承诺函). The files are the
    unit's reply to the concierge and stay with staff unless the unit shares them (`staff_only=False`)."""
    files = list(files)
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_worker(actor, task)
        check_version(task, expected_version)
        errors = FieldErrors()
        result = errors.text("result", result, max_length=10000)
        check_uploads(errors, files, existing=task.case.attachments.count())
        errors.raise_if_any()
        now = timezone.now()
        apply_transition(
            task,
            "complete",
            actor=actor,
            note=result,
            data={"task": task.title, **files_event_data(files)},
            changes={"result": result, "completed_at": now},
            at=now,
        )
        store_files(actor=actor, case=task.case, task=task, uploads=files, staff_only=bool(staff_only), at=now)
    return task


def return_task(*, actor: User, task: Task | int, reason: str, expected_version: int | None = None, files=()) -> Task:
    """The unit hands the task back to the concierge: not theirs, or not doable as asked — with any papers that
    show why, which stay with staff."""
    files = list(files)
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_worker(actor, task)
        check_version(task, expected_version)
        errors = FieldErrors()
        reason = errors.text("reason", reason, max_length=2000)
        check_uploads(errors, files, existing=task.case.attachments.count())
        errors.raise_if_any()
        now = timezone.now()
        apply_transition(
            task, "return", actor=actor, note=reason, data={"task": task.title, **files_event_data(files)}, at=now
        )
        store_files(actor=actor, case=task.case, task=task, uploads=files, staff_only=True, at=now)
    return task


def redispatch_task(
    *,
    actor: User,
    task: Task | int,
    task_force: TaskForce | None = None,
    department: Department | None = None,
    assignee: User | None = None,
    due_on: date | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Task:
    """The concierge gives a returned task again — to another unit, or the same one with clearer terms."""
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_handler(actor, task)
        check_version(task, expected_version)
        _require_case_in_progress(task)
        errors = FieldErrors()
        _check_unit(errors, "", task.case, task_force, department, assignee)
        today = timezone.localdate()
        days = calendar.WorkingCalendar.load(since=today)
        due = _due_on(errors, "due_on", due_on, today, days)
        note = errors.text("note", note, required=False, max_length=5000)
        errors.raise_if_any()
        due = due or days.add_working_days(today, task.case.category.task_days)
        previous_unit = unit_name(task.task_force, task.department)
        changes = {
            "task_force": task_force,
            "department": department,
            "assignee": assignee,
            "due_on": due.date,
            "due_is_provisional": due.used_fallback,
            **_due_basis(days, today, due.date),
            "started_at": None,
        }
        apply_transition(
            task,
            "redispatch",
            actor=actor,
            note=note,
            data={
                "task": task.title,
                "from_unit": previous_unit,
                "unit": unit_name(task_force, department),
                "due_on": due.date.isoformat(),
            },
            changes=changes,
        )
    return task


def reopen_task(
    *,
    actor: User,
    task: Task | int,
    note: str,
    due_on: date | None = None,
    expected_version: int | None = None,
) -> Task:
    """After the enterprise rejects the result, the concierge sends a done task back to its unit."""
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_handler(actor, task)
        check_version(task, expected_version)
        _require_case_in_progress(task)
        errors = FieldErrors()
        note = errors.text("note", note, max_length=5000)
        today = timezone.localdate()
        days = calendar.WorkingCalendar.load(since=today)
        due = _due_on(errors, "due_on", due_on, today, days)
        errors.raise_if_any()
        due = due or days.add_working_days(today, task.case.category.task_days)
        _redo_taken_up(task.case)
        apply_transition(
            task,
            "reopen",
            actor=actor,
            note=note,
            data={"task": task.title, "due_on": due.date.isoformat()},
            changes={
                "due_on": due.date,
                "due_is_provisional": due.used_fallback,
                **_due_basis(days, today, due.date),
                "started_at": None,
                "completed_at": None,
            },
        )
    return task


def cancel_task(*, actor: User, task: Task | int, reason: str, expected_version: int | None = None) -> Task:
    """The concierge withdraws a task that is no longer needed (for example one a unit returned)."""
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_handler(actor, task)
        check_version(task, expected_version)
        _require_case_in_progress(task)
        reason = require_text("reason", reason, max_length=2000)
        apply_transition(task, "cancel", actor=actor, note=reason, data={"task": task.title})
    return task


def request_extension(*, actor: User, task: Task | int, requested_due_on: date, reason: str) -> Extension:
    """The unit asks to move an open task's deadline; a leader decides."""
    with transaction.atomic():
        task = lock_task(actor, task)
        _require_worker(actor, task)
        if task.status not in WORKING_TASK_STATES:
            raise IllegalTransition(
                _("事项“%(status)s”时不能申请延期") % {"status": task.get_status_display()},
                current=task.status,
                allowed=task_actions_allowed(task.status),
            )
        errors = FieldErrors()
        reason = errors.text("reason", reason, max_length=2000)
        earliest = max(task.due_on, timezone.localdate())
        if not isinstance(requested_due_on, date):
            errors.add("requested_due_on", _("应为日期"))
        elif _within_horizon(errors, "requested_due_on", requested_due_on, timezone.localdate()):
            # A rest day runs to the next working day (民法典 第二百零三条).
            requested_due_on = calendar.WorkingCalendar.load(since=requested_due_on).next_working_day(requested_due_on)
            if requested_due_on <= earliest:
                errors.add("requested_due_on", _("应晚于 %(date)s") % {"date": earliest.isoformat()})
        errors.raise_if_any()
        pending = task.extensions.filter(status=Extension.Status.PENDING).values_list("pk", flat=True).first()
        if pending is not None:
            raise Conflict(_("该事项已有待审批的延期申请"), code="extension_pending", data={"extension": pending})
        now = timezone.now()
        extension = Extension.objects.create(
            task=task,
            requested_by=actor,
            previous_due_on=task.due_on,
            requested_due_on=requested_due_on,
            reason=reason,
            created_at=now,
        )
        record_event(
            case=task.case,
            kind=Kind.EXTENSION_REQUESTED,
            actor=actor,
            task=task,
            note=reason,
            data=extension_event_data(task, extension),
            at=now,
        )
    return extension


def _decide_extension(*, actor: User, extension: Extension | int, approve: bool, note: str) -> Extension:
    pk = extension.pk if isinstance(extension, Extension) else extension
    with transaction.atomic():
        if not can_decide_extension(actor):
            raise NotPermitted(_("只有领导可以审批延期"))
        try:
            task_id = Extension.objects.values_list("task_id", flat=True).get(pk=pk)
        except (Extension.DoesNotExist, ValueError, TypeError):
            raise NotFound(_("延期申请不存在")) from None
        task = lock_task(actor, task_id)
        extension = Extension.objects.select_for_update().get(pk=pk)
        if extension.status != Extension.Status.PENDING:
            raise IllegalTransition(
                _("该延期申请已审批：%(status)s") % {"status": extension.get_status_display()},
                current=extension.status,
                allowed=[],
            )
        if approve and task.status not in WORKING_TASK_STATES:
            raise IllegalTransition(
                _("事项已“%(status)s”，不能批准延期，请驳回该申请") % {"status": task.get_status_display()},
                current=task.status,
                allowed=["reject"],
            )
        errors = FieldErrors()
        note = errors.text("note", note, required=not approve, max_length=2000)
        if approve and extension.requested_due_on <= task.due_on:
            errors.add(
                "requested_due_on",
                _("申请的日期 %(requested)s 已不晚于当前期限 %(due)s，请驳回该申请")
                % {"requested": extension.requested_due_on.isoformat(), "due": task.due_on.isoformat()},
            )
        elif approve:
            # Asked for before the horizon was narrowed, or under an older rule: refused as it would be today.
            _within_horizon(errors, "requested_due_on", extension.requested_due_on, timezone.localdate(), moved=True)
        errors.raise_if_any()
        now = timezone.now()
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REJECTED
        extension.decided_by = actor
        extension.decided_at = now
        extension.decision_note = note
        extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        data = extension_event_data(task, extension)
        if approve:
            today = timezone.localdate(now)
            days = calendar.WorkingCalendar.load(since=min(today, extension.requested_due_on))
            basis = _due_basis(days, today, extension.requested_due_on)
            task.due_on = extension.requested_due_on
            task.due_is_provisional = False
            task.due_counted_from, task.due_working_days = basis["due_counted_from"], basis["due_working_days"]
            task.version += 1
            task.updated_at = now
            task.save(
                update_fields=[
                    "due_on",
                    "due_is_provisional",
                    "due_counted_from",
                    "due_working_days",
                    "version",
                    "updated_at",
                ]
            )
        kind = Kind.EXTENSION_APPROVED if approve else Kind.EXTENSION_REJECTED
        record_event(case=task.case, kind=kind, actor=actor, task=task, note=note, data=data, at=now)
    return extension


def approve_extension(*, actor: User, extension: Extension | int, note: str = "") -> Extension:
    """A leader approves: the task's deadline moves to the requested date (and its reminders re-arm)."""
    return _decide_extension(actor=actor, extension=extension, approve=True, note=note)


def reject_extension(*, actor: User, extension: Extension | int, note: str) -> Extension:
    """A leader refuses, with a reason; the deadline stays."""
    return _decide_extension(actor=actor, extension=extension, approve=False, note=note)
