"""The deterministic generator of a realistic zone (README.md, Seeds).

One *block* is a whole zone: 806 key enterprises with valid credit codes, 218 investment projects, the staff
who serve them, enterprise users, ~1,500 closed cases over two years and open cases at every stage. Block 0 is
the demo zone; `--scale N` adds blocks 1..N-1 for benchmarks. The same seed, block and day give the same zone.

History is written in bulk for speed, but every case is walked through the services' own transition table
(`services.states`) with the same event kinds, notes and data the services write, so `services.cases.invariants` finds
the generated timelines indistinguishable from real ones (tests/seeds checks this).
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone
from faker import Faker

from seeds import texts
from services.cases.steps import reserve_case_numbers
from services.cases.tasks import extension_event_data, task_event_data
from services.register.uscc import generate_uscc
from services.roles import Role
from services.states import OPEN_TASK_STATES, VERDICT_ACTIONS, legal_move
from services.time.calendar import WorkingCalendar
from services.units import unit_name
from tracker.models import (
    Case,
    CaseEvent,
    Category,
    Department,
    Enterprise,
    Extension,
    Feedback,
    Project,
    Task,
    TaskForce,
    Tier,
    User,
    Visit,
)
from tracker.models.zone import Industry

Kind = CaseEvent.Kind
SEED = 20261121
ENTERPRISES = 806
PROJECTS = 218
CLOSED_CASES = 1500
CONCIERGES = 130
LEADERS = 8
OFFICERS_PER_DEPARTMENT = 3
MEMBERS_PER_TASK_FORCE = 3
# Open cases per stage: (the stage to stop at, how many).
OPEN_CASES = [
    ("submitted", 16),
    ("accepted", 10),
    ("in_progress", 60),
    ("resolved", 20),
    ("reopened", 8),
]
HISTORY_DECLINED = 40
HISTORY_WITHDRAWN = 30
DEMO_PASSWORD = "demo12345"


def block_prefix(block: int) -> str:
    return "" if block == 0 else f"s{block}_"


def marker_username(block: int) -> str:
    """The username whose presence says a block is loaded (all of a block is written in one transaction)."""
    return f"{block_prefix(block)}concierge001"


@dataclass
class Staff:
    concierges: list[User] = field(default_factory=list)
    leaders: list[User] = field(default_factory=list)
    officers: dict[str, list[User]] = field(default_factory=dict)  # department code → officers
    members: dict[str, list[User]] = field(default_factory=dict)  # task force name → members
    hotline: User | None = None
    admin: User | None = None


class Clock:
    """Moves a case's clock forward through working hours (09:00-17:30 on working days)."""

    def __init__(self, rng: random.Random, calendar: WorkingCalendar, now: datetime):
        self.rng = rng
        self.calendar = calendar
        self.now = now
        self.tz = timezone.get_current_timezone()

    def at(self, day: date, minutes: int) -> datetime:
        return datetime.combine(day, time(9, 0), tzinfo=self.tz) + timedelta(minutes=minutes)

    def working_moment(self, day: date) -> datetime:
        return self.at(self.calendar.next_working_day(day), self.rng.randint(0, 510))

    def after(self, moment: datetime, working_days: int = 0, *, hours: tuple[float, float] = (0.2, 6)) -> datetime:
        local = timezone.localtime(moment, self.tz)
        day = self.calendar.add_working_days(local.date(), working_days).date if working_days else local.date()
        candidate = (local if day == local.date() else self.at(day, 0)) + timedelta(
            minutes=self.rng.randint(int(hours[0] * 60), int(hours[1] * 60))
        )
        if candidate.time() > time(17, 30) or not self.calendar.is_working_day(candidate.date()):
            next_day = self.calendar.add_working_days(candidate.date(), 1).date
            candidate = self.at(next_day, self.rng.randint(0, 240))
        return min(max(candidate, moment), self.now)


class CaseWalk:
    """One case walked through the transition table in memory, collecting its rows for bulk insert."""

    def __init__(self, gen: "ZoneGenerator", case: Case):
        self.gen = gen
        self.case = case
        self.events: list[CaseEvent] = []
        self.tasks: list[Task] = []
        self.feedback: list[Feedback] = []
        self.extensions: list[Extension] = []
        self.visit: Visit | None = None
        self.workers: dict[int, User] = {}  # the person in the unit who works each task

    def event(self, kind, at, actor, *, task=None, from_status="", to_status="", note="", data=None):
        self.events.append(
            CaseEvent(
                case=self.case,
                task=task,
                actor=actor,
                kind=kind,
                from_status=from_status,
                to_status=to_status,
                note=note,
                data=data or {},
                created_at=at,
            )
        )
        self.case.version += 1
        self.case.updated_at = max(self.case.updated_at, at)

    def move(self, obj, action, at, actor, *, note="", data=None, changes=None):
        step = legal_move(obj, action)  # an IllegalTransition here is a generator bug
        from_status = obj.status
        obj.status = step.target
        for name, value in (changes or {}).items():
            setattr(obj, name, value)
        if isinstance(obj, Task):
            obj.version += 1
            obj.updated_at = at
        self.event(
            step.event,
            at,
            actor,
            task=obj if isinstance(obj, Task) else None,
            from_status=from_status,
            to_status=step.target,
            note=note,
            data=data,
        )

    # The steps, mirroring services.cases.steps and services.cases.tasks.

    def submit(self, at):
        c = self.case
        self.event(
            Kind.SUBMITTED,
            at,
            c.submitted_by,
            to_status=Case.Status.SUBMITTED,
            data={"channel": c.channel, "accept_due_on": c.accept_due_on.isoformat()},
        )

    def accept(self, at):
        self.move(self.case, "accept", at, self.case.concierge, changes={"accepted_at": at})

    def decline(self, at, reason):
        self.move(self.case, "decline", at, self.case.concierge, note=reason)

    def withdraw(self, at, actor, reason):
        self.move(self.case, "withdraw", at, actor, note=reason)
        for task in self.tasks:
            if task.status in OPEN_TASK_STATES:
                self.move(task, "cancel", at, actor, note="企业已撤回诉求", data={"task": task.title})

    def decompose(self, at, units):
        if self.case.status == Case.Status.ACCEPTED:
            self.move(self.case, "decompose", at, self.case.concierge, data={"tasks": len(units)})
        due = self.gen.calendar.add_working_days(timezone.localdate(at), self.case.category.task_days)
        basis = {"due_counted_from": timezone.localdate(at), "due_working_days": self.case.category.task_days}
        created = []
        for task_force, department, title in units:
            task = Task(
                case=self.case,
                task_force=task_force,
                department=department,
                assignee=self.gen.worker_for(task_force, department) if self.gen.rng.random() < 0.6 else None,
                title=title,
                description="",
                due_on=due.date,
                due_is_provisional=due.used_fallback,
                **basis,
                created_by=self.case.concierge,
                created_at=at,
                updated_at=at,
            )
            self.tasks.append(task)
            created.append(task)
            self.event(
                Kind.TASK_CREATED,
                at,
                self.case.concierge,
                task=task,
                to_status=Task.Status.PENDING,
                data=task_event_data(task),
            )
        return created

    def worker(self, task):
        if task.assignee:
            return task.assignee
        return self.workers.setdefault(id(task), self.gen.worker_for(task.task_force, task.department))

    def start(self, task, at):
        worker = self.worker(task)
        data, changes = {"task": task.title}, {"started_at": at}
        if task.assignee is None:  # whoever signs for a task given to the unit becomes its 承办人
            data["assignee"] = worker.display_name
            changes["assignee"] = worker
        self.move(task, "start", at, worker, data=data, changes=changes)

    def complete(self, task, at, result):
        self.move(
            task,
            "complete",
            at,
            self.worker(task),
            note=result,
            data={"task": task.title},
            changes={"result": result, "completed_at": at},
        )

    def return_(self, task, at, reason):
        self.move(task, "return", at, self.worker(task), note=reason, data={"task": task.title})

    def redispatch(self, task, at, task_force, department):
        due = self.gen.calendar.add_working_days(timezone.localdate(at), self.case.category.task_days)
        previous = unit_name(task.task_force, task.department)
        self.workers.pop(id(task), None)
        assignee = self.gen.worker_for(task_force, department) if self.gen.rng.random() < 0.6 else None
        self.move(
            task,
            "redispatch",
            at,
            self.case.concierge,
            data={
                "task": task.title,
                "from_unit": previous,
                "unit": unit_name(task_force, department),
                "due_on": due.date.isoformat(),
            },
            changes={
                "task_force": task_force,
                "department": department,
                "assignee": assignee,
                "due_on": due.date,
                "due_is_provisional": due.used_fallback,
                "due_counted_from": timezone.localdate(at),
                "due_working_days": self.case.category.task_days,
                "started_at": None,
            },
        )

    def reopen_task(self, task, at, note):
        due = self.gen.calendar.add_working_days(timezone.localdate(at), self.case.category.task_days)
        self.move(
            task,
            "reopen",
            at,
            self.case.concierge,
            note=note,
            data={"task": task.title, "due_on": due.date.isoformat()},
            changes={
                "due_on": due.date,
                "due_is_provisional": due.used_fallback,
                "due_counted_from": timezone.localdate(at),
                "due_working_days": self.case.category.task_days,
                "started_at": None,
                "completed_at": None,
            },
        )
        self.case.redo_due_on = None

    def request_extension(self, task, at, days):
        requested = self.gen.calendar.add_working_days(task.due_on, days).date
        extension = Extension(
            task=task,
            requested_by=self.worker(task),
            previous_due_on=task.due_on,
            requested_due_on=requested,
            reason="涉及多部门会商，需延长办理时间。",
            created_at=at,
        )
        self.extensions.append(extension)
        self.event(
            Kind.EXTENSION_REQUESTED,
            at,
            extension.requested_by,
            task=task,
            note=extension.reason,
            data=extension_event_data(task, extension, extension_ref=extension),  # the id once inserted
        )
        return extension

    def approve_extension(self, extension, at, leader):
        task = extension.task
        data = extension_event_data(task, extension, extension_ref=extension)
        extension.status = Extension.Status.APPROVED
        extension.decided_by = leader
        extension.decided_at = at
        task.due_on = extension.requested_due_on
        task.due_is_provisional = False
        task.due_counted_from = min(timezone.localdate(at), task.due_on)  # as services.cases.tasks counts an extension
        task.due_working_days = self.gen.calendar.working_days_between(task.due_counted_from, task.due_on)
        task.version += 1
        task.updated_at = at
        self.event(Kind.EXTENSION_APPROVED, at, leader, task=task, data=data)

    def resolve(self, at, answer):
        due = self.gen.calendar.add_working_days(timezone.localdate(at), self.case.category.verdict_days)
        self.move(
            self.case,
            "resolve",
            at,
            self.case.concierge,
            note=answer,
            data={"verdict_due_on": due.date.isoformat()},
            changes={
                "answer": answer,
                "resolved_at": at,
                "verdict_due_on": due.date,
                "redo_due_on": None,
                "deadline_counted_from": timezone.localdate(at),
                "deadline_working_days": self.case.category.verdict_days,
            },
        )

    def verdict(self, at, *, source, verdict, rating, comment):
        actor = (
            self.case.concierge
            if source == Feedback.Source.CALLBACK
            else self.gen.enterprise_user[self.case.enterprise_id]
        )
        action = VERDICT_ACTIONS[(source, verdict)]
        closing = verdict == Feedback.Verdict.CONFIRM
        data = {"verdict": verdict, "rating": rating, "source": source}
        contact = {}
        if source == Feedback.Source.CALLBACK:  # whom the concierge spoke to; early only if history caught up with now
            enterprise = self.case.enterprise
            early = timezone.localdate(at) <= self.case.verdict_due_on
            contact = {"contact_name": enterprise.contact_name, "contact_phone": enterprise.contact_phone[:30]}
            comment = comment or (texts.CALLBACK_NOTE if early else "")
            data.update(early=early, **contact)
            contact["early"] = early
        if closing:
            changes = {"closed_at": at}
        else:
            redo_due = self.gen.calendar.add_working_days(timezone.localdate(at), self.case.category.accept_days)
            changes = {
                "verdict_due_on": None,
                "resolved_at": None,
                "redo_due_on": redo_due.date,
                "deadline_counted_from": timezone.localdate(at),
                "deadline_working_days": self.case.category.accept_days,
            }
            data["redo_due_on"] = redo_due.date.isoformat()
        self.move(self.case, action, at, actor, note=comment, data=data, changes=changes)
        self.feedback.append(
            Feedback(
                case=self.case,
                verdict=verdict,
                rating=rating,
                comment=comment,
                source=source,
                recorded_by=actor,
                created_at=at,
                **contact,
            )
        )


class ZoneGenerator:
    """Builds one block of the zone in memory and writes it in bulk."""

    def __init__(self, *, block: int = 0, today: date | None = None, seed: int = SEED):
        self.block = block
        self.prefix = block_prefix(block)
        self.rng = random.Random(seed * 1000 + block)
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed * 1000 + block)
        self.today = today or timezone.localdate()
        self.now = min(
            timezone.now(), datetime.combine(self.today, time(17, 30), tzinfo=timezone.get_current_timezone())
        )
        self.calendar = WorkingCalendar.load()
        self.clock = Clock(self.rng, self.calendar, self.now)
        self.password = make_password(DEMO_PASSWORD)
        self.staff = Staff()
        self.enterprise_user: dict[int, User] = {}
        self.counts: dict[str, int] = {}

    # People

    def _user(self, username, *, department=None, enterprise=None, title="", is_staff=True) -> User:
        return User(
            username=f"{self.prefix}{username}",
            full_name=self.fake.name(),
            phone=self.fake.phone_number(),
            email=f"{self.prefix}{username}@example.cn",
            title=title,
            department=department,
            enterprise=enterprise,
            is_staff=is_staff,
            password=self.password,
        )

    def make_staff(self) -> None:
        departments = {d.code: d for d in Department.objects.all()}
        investment = departments.get("investment_promotion")
        concierges = [
            self._user(f"concierge{n:03d}", department=investment, title="服务专员") for n in range(1, CONCIERGES + 1)
        ]
        leaders = [self._user(f"leader{n:02d}", title="挂钩领导") for n in range(1, LEADERS + 1)]
        officers = {
            code: [
                self._user(f"{code}{n}", department=dept, title="科长" if n == 1 else "经办人")
                for n in range(1, OFFICERS_PER_DEPARTMENT + 1)
            ]
            for code, dept in departments.items()
        }
        task_forces = list(TaskForce.objects.filter(is_standing=True).select_related("lead_department"))
        members = {
            tf.name: [
                self._user(f"tf{tf.pk}m{n}", department=tf.lead_department, title="专班成员")
                for n in range(1, MEMBERS_PER_TASK_FORCE + 1)
            ]
            for tf in task_forces
        }
        extra = []
        if self.block == 0:
            admin = self._user("admin", title="系统管理员")
            admin.is_superuser = True
            admin.full_name = "系统管理员"
            hotline = self._user("hotline12345", title="12345热线对接账号", is_staff=False)
            hotline.full_name = "12345政务服务热线"
            extra = [admin, hotline]
        everyone = concierges + leaders + [u for us in officers.values() for u in us]
        everyone += [u for us in members.values() for u in us] + extra
        User.objects.bulk_create(everyone, batch_size=500)
        groups = {g.name: g for g in Group.objects.all()}
        memberships = [(u, Role.CONCIERGE) for u in concierges] + [(u, Role.LEADER) for u in leaders]
        memberships += [(u, Role.DEPARTMENT_OFFICER) for us in officers.values() for u in us]
        memberships += [(u, Role.TASK_FORCE_MEMBER) for us in members.values() for u in us]
        if extra:
            memberships += [(extra[0], Role.ADMINISTRATOR), (extra[1], Role.INTEGRATION)]
        through = User.groups.through
        through.objects.bulk_create([through(user_id=u.pk, group_id=groups[role].pk) for u, role in memberships])
        for tf in task_forces:
            tf.members.add(*members[tf.name])
            if tf.lead_id is None and self.block == 0:
                tf.lead = members[tf.name][0]
                tf.save(update_fields=["lead"])
        if self.block == 0:
            for code, dept in departments.items():
                if dept.head_id is None:
                    dept.head = officers[code][0]
                    dept.save(update_fields=["head"])
            self.staff.admin, self.staff.hotline = extra
        else:
            self.staff.hotline = User.objects.filter(username="hotline12345").first() or leaders[0]
        self.staff.concierges, self.staff.leaders = concierges, leaders
        self.staff.officers, self.staff.members = officers, members
        self.departments = departments
        self.task_forces = {tf.name: tf for tf in task_forces}
        self.counts["staff"] = len(everyone)

    def worker_for(self, task_force: TaskForce | None, department: Department | None) -> User:
        if task_force is not None:
            return self.rng.choice(self.staff.members[task_force.name])
        return self.rng.choice(self.staff.officers[department.code])

    # Enterprises and projects

    def make_enterprises(self) -> None:
        tiers = list(Tier.objects.order_by("sort_order"))
        industries = list(Industry)
        parks, roads = texts.PARKS, texts.ROADS
        enterprises = []
        tier_links = []
        names: set[str] = set()  # unique within a block; blocks beyond the demo zone are for benchmarks
        for n in range(ENTERPRISES):
            industry = industries[n % len(industries)] if n < len(industries) else self.rng.choice(industries)
            name = ""
            while not name or name in names:
                word = self.rng.choice(texts.COMPANY_WORDS[industry.value])
                brand = "".join(self.rng.sample(texts.NAME_SYLLABLES, 2))
                name = f"昆山{brand}{word}有限公司"
            names.add(name)
            concierge = self.staff.concierges[n % CONCIERGES]
            backup = self.staff.concierges[(n + 7) % CONCIERGES]
            enterprise = Enterprise(
                name=name,
                uscc=generate_uscc(self.rng),
                uscc_checksum_ok=True,
                industry=industry.value,
                is_key=True,
                park=self.rng.choice(parks),
                address=f"昆山市{self.rng.choice(roads)}{self.rng.randint(1, 999)}号",
                contact_name=self.fake.name(),
                contact_phone=self.fake.phone_number(),
                contact_email=f"contact{n}@{self.prefix.strip('_') or 'demo'}.example.cn",
                concierge=concierge,
                backup_concierge=backup,
                linked_leader=self.staff.leaders[n % LEADERS],
            )
            enterprises.append(enterprise)
            held = [t for i, t in enumerate(tiers) if self.rng.random() < (0.55, 0.3, 0.12, 0.05, 0.015)[i % 5]]
            tier_links.append(held)
        Enterprise.objects.bulk_create(enterprises, batch_size=500)
        through = Enterprise.tiers.through
        through.objects.bulk_create(
            [
                through(enterprise_id=e.pk, tier_id=t.pk)
                for e, held in zip(enterprises, tier_links, strict=True)
                for t in held
            ],
            batch_size=1000,
        )
        users = [
            self._user(f"ent{n + 1:04d}", enterprise=e, title="企业联络员", is_staff=False)
            for n, e in enumerate(enterprises)
        ]
        User.objects.bulk_create(users, batch_size=500)
        self.enterprises = enterprises
        self.enterprise_user = {e.pk: u for e, u in zip(enterprises, users, strict=True)}
        self.counts.update(enterprises=len(enterprises), enterprise_users=len(users))

        projects = []
        owners = self.rng.sample(enterprises, k=170)
        for n in range(PROJECTS):
            owner = owners[n % len(owners)]
            investment = Decimal(self.rng.choice([5000, 12000, 30000, 50000, 100000, 200000, 500000]))
            investment += Decimal(self.rng.randint(0, 9999))
            projects.append(
                Project(
                    enterprise=owner,
                    name=f"{owner.name.removeprefix('昆山').removesuffix('有限公司')}{self.rng.choice(texts.PROJECT_KINDS)}",
                    total_investment=investment,
                    stage=self.rng.choice(Project.Stage.values),
                    level=self.rng.choices(Project.Level.values, weights=[1, 3, 6, 10])[0],
                    signed_on=self.today - timedelta(days=self.rng.randint(30, 1500)),
                    concierge=owner.concierge
                    if self.rng.random() < 0.8
                    else self.staff.concierges[(n * 13) % CONCIERGES],
                    backup_concierge=owner.backup_concierge,
                    linked_leader=owner.linked_leader,
                )
            )
        Project.objects.bulk_create(projects, batch_size=500)
        self.projects_by_enterprise: dict[int, list[Project]] = {}
        for p in projects:
            self.projects_by_enterprise.setdefault(p.enterprise_id, []).append(p)
        self.counts["projects"] = len(projects)

    # Cases

    def _new_case(self, submitted_at: datetime) -> tuple[Case, CaseWalk]:
        rng = self.rng
        category = rng.choices(self.categories, weights=[24, 20, 12, 16, 10, 10, 8])[0]
        enterprise = rng.choice(self.enterprises)
        projects = self.projects_by_enterprise.get(enterprise.pk, [])
        project = rng.choice(projects) if projects and rng.random() < 0.5 else None
        # Named, not Case.Channel.values: a channel added to the model must not shift the weights (or crash)
        channels = [Case.Channel.PORTAL, Case.Channel.API, Case.Channel.VISIT, Case.Channel.HOTLINE]
        channel = rng.choices(channels, weights=[55, 8, 25, 12])[0]
        if channel in (Case.Channel.PORTAL,):
            submitted_by = self.enterprise_user[enterprise.pk]
        elif channel == Case.Channel.VISIT:
            submitted_by = (project.concierge if project else None) or enterprise.concierge
        else:
            submitted_by = self.staff.hotline
        title, description = rng.choice(texts.ISSUES[category.code])
        accept_due = self.calendar.add_working_days(timezone.localdate(submitted_at), category.accept_days)
        case = Case(
            enterprise=enterprise,
            project=project,
            category=category,
            title=title,
            description=description,
            urgency=rng.choices(Case.Urgency.values, weights=[80, 17, 3])[0],
            channel=channel,
            status=Case.Status.SUBMITTED,
            concierge=(project.concierge if project else None) or enterprise.concierge,
            submitted_by=submitted_by,
            accept_due_on=accept_due.date,
            deadline_counted_from=timezone.localdate(submitted_at),
            deadline_working_days=category.accept_days,
            submitted_at=submitted_at,
            updated_at=submitted_at,
            version=1,
        )
        walk = CaseWalk(self, case)
        if channel == Case.Channel.VISIT:
            walk.visit = Visit(
                concierge=submitted_by,
                enterprise=enterprise,
                project=project,
                visited_on=timezone.localdate(submitted_at),
                people_met=f"{enterprise.contact_name}（总经理）",
                notes="走访了解企业生产经营情况，收集发展诉求。",
                created_at=submitted_at,
            )
        walk.submit(submitted_at)
        return case, walk

    def _units(self, category: Category) -> list[tuple]:
        tf_name, dept_codes = texts.UNITS[category.code]
        count = self.rng.choices([1, 2, 3], weights=[55, 35, 10])[0]
        units = []
        for i in range(count):
            # Each task of a case is its own: another verb than the tasks before it (a unit may take two).
            verb = self.rng.choice([v for v in texts.TASK_VERBS if v not in {u[2] for u in units}])
            if i == 0 and tf_name in self.task_forces and self.rng.random() < 0.6:
                units.append((self.task_forces[tf_name], None, verb))
            else:
                units.append((None, self.departments[self.rng.choice(dept_codes)], verb))
        return [(tf, dept, f"{verb}（{(tf or dept).name}）") for tf, dept, verb in units]

    def _work_tasks(self, walk: CaseWalk, tasks: list[Task], start_at: datetime, *, finish: bool) -> datetime:
        """Start (and, if `finish`, complete) each task; sometimes a unit returns one first. Returns the last time."""
        last = start_at
        category = walk.case.category
        for task in tasks:
            at = self.clock.after(start_at, self.rng.randint(0, 1))
            if self.rng.random() < 0.08:
                walk.return_(task, at, self.rng.choice(texts.RETURN_REASONS))
                at = self.clock.after(at, self.rng.randint(0, 1))
                dept_codes = texts.UNITS[category.code][1]
                walk.redispatch(task, at, None, self.departments[self.rng.choice(dept_codes)])
                at = self.clock.after(at, self.rng.randint(0, 1))
            walk.start(task, at)
            if finish:
                late = self.rng.random() < 0.12
                days = category.task_days + self.rng.randint(1, 6) if late else self.rng.randint(1, category.task_days)
                at = self.clock.after(at, days)
                walk.complete(task, at, self.rng.choice(texts.RESULTS))
            last = max(last, at)
        return last

    def _answer(self) -> str:
        return self.rng.choice(texts.ANSWERS).format(result=self.rng.choice(texts.RESULTS))

    def _rating(self) -> int:
        return self.rng.choices([5, 4, 3, 2, 1], weights=[55, 30, 10, 4, 1])[0]

    def closed_case(self, submitted_at: datetime) -> CaseWalk:
        case, walk = self._new_case(submitted_at)
        at = self.clock.after(submitted_at, self.rng.choice([0, 0, 0, 1]))
        walk.accept(at)
        at = self.clock.after(at, 0, hours=(0.5, 4))
        tasks = walk.decompose(at, self._units(case.category))
        at = self._work_tasks(walk, tasks, at, finish=True)
        at = self.clock.after(at, self.rng.randint(0, 1))
        walk.resolve(at, self._answer())
        roll = self.rng.random()
        if roll < 0.07:  # rejected once, reworked, then confirmed
            at = self.clock.after(at, self.rng.randint(1, 4))
            walk.verdict(
                at,
                source=Feedback.Source.ENTERPRISE,
                verdict=Feedback.Verdict.REOPEN,
                rating=None,
                comment=self.rng.choice(texts.REOPEN_REASONS),
            )
            at = self.clock.after(at, 0)
            task = self.rng.choice(tasks)
            walk.reopen_task(task, at, "企业对答复不满意，请进一步办理。")
            at = self._work_tasks(walk, [task], at, finish=True)
            at = self.clock.after(at, 1)
            walk.resolve(at, self._answer())
        if roll > 0.9:  # no verdict in time: the concierge calls back once the window has ended
            at = self.clock.after(at, case.category.verdict_days + self.rng.randint(1, 2))
            source = Feedback.Source.CALLBACK
        else:
            at = self.clock.after(at, self.rng.randint(0, case.category.verdict_days - 1))
            source = Feedback.Source.ENTERPRISE
        rating = self._rating()
        walk.verdict(
            at,
            source=source,
            verdict=Feedback.Verdict.CONFIRM,
            rating=rating,
            comment=self.rng.choice(texts.COMMENTS_BY_RATING[rating]),
        )
        return walk

    def ended_early(self, submitted_at: datetime, ending: str) -> CaseWalk:
        case, walk = self._new_case(submitted_at)
        at = self.clock.after(submitted_at, self.rng.choice([0, 1]))
        if ending == Case.Status.DECLINED:
            walk.decline(at, self.rng.choice(texts.DECLINE_REASONS))
        else:
            walk.withdraw(at, self.enterprise_user[case.enterprise_id], self.rng.choice(texts.WITHDRAW_REASONS))
        return walk

    def open_case(self, stage: str, submitted_at: datetime) -> CaseWalk:
        case, walk = self._new_case(submitted_at)
        if stage == "submitted":
            return walk
        at = self.clock.after(submitted_at, self.rng.choice([0, 0, 1]))
        walk.accept(at)
        if stage == "accepted":
            return walk
        at = self.clock.after(at, 0, hours=(0.5, 4))
        tasks = walk.decompose(at, self._units(case.category))
        if stage == "in_progress":
            # A realistic mix: untouched, started, returned, done, and an extension waiting for a leader.
            for task in tasks:
                roll = self.rng.random()
                step_at = self.clock.after(at, self.rng.randint(0, 2))
                if roll < 0.25:
                    continue
                if roll < 0.33:
                    walk.return_(task, step_at, self.rng.choice(texts.RETURN_REASONS))
                    continue
                walk.start(task, step_at)
                if roll < 0.45:
                    walk.request_extension(task, self.clock.after(step_at, 1), self.rng.randint(3, 10))
                elif roll < 0.6:
                    walk.complete(task, self.clock.after(step_at, 2), self.rng.choice(texts.RESULTS))
            return walk
        at = self._work_tasks(walk, tasks, at, finish=True)
        at = self.clock.after(at, 1)
        walk.resolve(at, self._answer())
        if stage == "reopened":
            at = self.clock.after(at, 1)
            walk.verdict(
                at,
                source=Feedback.Source.ENTERPRISE,
                verdict=Feedback.Verdict.REOPEN,
                rating=None,
                comment=self.rng.choice(texts.REOPEN_REASONS),
            )
            # Most are taken up again at once; some still wait on the concierge, past the redo deadline (重办期限).
            if self.rng.random() < 0.7:
                walk.reopen_task(self.rng.choice(tasks), self.clock.after(at, 0), "企业对答复不满意，请进一步办理。")
        return walk

    def _working_start(self, days_ago_range: tuple[int, int]) -> datetime:
        day = self.today - timedelta(days=self.rng.randint(*days_ago_range))
        return self.clock.working_moment(day)

    def make_cases(self) -> None:
        self.categories = list(Category.objects.order_by("sort_order"))
        walks = [self.closed_case(self._working_start((45, 730))) for _ in range(CLOSED_CASES)]
        walks += [
            self.ended_early(self._working_start((30, 730)), Case.Status.DECLINED) for _ in range(HISTORY_DECLINED)
        ]
        walks += [
            self.ended_early(self._working_start((30, 730)), Case.Status.WITHDRAWN) for _ in range(HISTORY_WITHDRAWN)
        ]
        ranges = {
            "submitted": (0, 3),
            "accepted": (2, 8),
            "in_progress": (5, 40),
            "resolved": (15, 40),
            "reopened": (20, 45),
        }
        for stage, count in OPEN_CASES:
            walks += [self.open_case(stage, self._working_start(ranges[stage])) for _ in range(count)]
        # An approved extension on some in-progress work, so the history has both outcomes.
        for walk in walks:
            for ext in walk.extensions[:1]:
                if self.rng.random() < 0.3:
                    walk.approve_extension(
                        ext, self.clock.after(ext.created_at, 1), self.rng.choice(self.staff.leaders)
                    )
        self._write(walks)

    def _write(self, walks: list[CaseWalk]) -> None:
        walks.sort(key=lambda w: w.case.submitted_at)
        by_year: dict[int, list[Case]] = {}
        for walk in walks:
            by_year.setdefault(timezone.localtime(walk.case.submitted_at).year, []).append(walk.case)
        for year, cases in sorted(by_year.items()):
            for case, number in zip(cases, reserve_case_numbers(year, len(cases)), strict=True):
                case.number = number
        visits = [w.visit for w in walks if w.visit]
        Visit.objects.bulk_create(visits, batch_size=1000)
        for walk in walks:
            walk.case.visit = walk.visit
        Case.objects.bulk_create([w.case for w in walks], batch_size=1000)
        Task.objects.bulk_create([t for w in walks for t in w.tasks], batch_size=1000)
        extensions = [e for w in walks for e in w.extensions]
        Extension.objects.bulk_create(extensions, batch_size=1000)
        events = [e for w in walks for e in w.events]
        for event in events:
            if isinstance(event.data.get("extension"), Extension):
                event.data = {**event.data, "extension": event.data["extension"].pk}
        CaseEvent.objects.bulk_create(events, batch_size=2000)
        Feedback.objects.bulk_create([f for w in walks for f in w.feedback], batch_size=1000)
        self.counts.update(
            cases=len(walks),
            closed_cases=sum(w.case.status == Case.Status.CLOSED for w in walks),
            open_cases=sum(
                w.case.status not in (Case.Status.CLOSED, Case.Status.DECLINED, Case.Status.WITHDRAWN) for w in walks
            ),
            tasks=sum(len(w.tasks) for w in walks),
            events=len(events),
            visits=len(visits),
        )

    def generate(self) -> dict[str, int]:
        """Write the whole block. The caller holds a transaction."""
        self.make_staff()
        self.make_enterprises()
        self.make_cases()
        return self.counts
