"""The invariants every case keeps, checked by replaying its timeline through the state machine.

The services keep them by construction; the seed generator's bulk history is checked against the same
rules (tests/seeds), so generated history is exactly what the services would have produced.
"""

from collections.abc import Iterable

from services.states import CASE_MOVES, OPEN_TASK_STATES, TASK_MOVES, VERDICT_ACTIONS
from tracker.models import Case, CaseEvent, Feedback, Task

Kind = CaseEvent.Kind
_CASE_MOVE_BY_EVENT = {move.event: move for move in CASE_MOVES.values()}
_TASK_MOVE_BY_EVENT = {move.event: move for move in TASK_MOVES.values()}
_VERDICT_EVENTS = {
    CASE_MOVES[action].event: source_and_verdict for source_and_verdict, action in VERDICT_ACTIONS.items()
}


def case_violations(case: Case, events: list[CaseEvent], tasks: list[Task], feedback: list[Feedback]) -> list[str]:
    """Every broken invariant of one case, as readable lines (empty when the case is sound)."""
    problems: list[str] = []
    where = case.number

    def bad(message: str) -> None:
        problems.append(f"{where}: {message}")

    events = sorted(events, key=lambda e: (e.created_at, e.pk))
    if not events or events[0].kind != Kind.SUBMITTED or events[0].to_status != Case.Status.SUBMITTED:
        bad("the first event is not the submission")
        return problems
    if case.version != 1 + len(events):
        bad(f"version {case.version} but {len(events)} events")
    if events[0].created_at != case.submitted_at:
        bad("submitted_at differs from the submission event")

    tasks_by_id = {task.pk: task for task in tasks}
    task_status: dict[int, str] = {}
    status = Case.Status.SUBMITTED
    verdicts = []
    previous_at = events[0].created_at
    for event in events[1:]:
        if event.created_at < previous_at:
            bad(f"event {event.pk} goes back in time")
        previous_at = event.created_at
        if event.task_id is not None:
            if event.task_id not in tasks_by_id:
                bad(f"event {event.pk} names a task of another case")
                continue
            current = task_status.get(event.task_id, "")
            if event.kind == Kind.TASK_CREATED:
                if current or event.to_status != Task.Status.PENDING:
                    bad(f"task {event.task_id} created twice or not pending")
                task_status[event.task_id] = Task.Status.PENDING
                if status != Case.Status.IN_PROGRESS:
                    bad(f"task {event.task_id} created while the case was {status}")
            elif event.kind in _TASK_MOVE_BY_EVENT:
                move = _TASK_MOVE_BY_EVENT[event.kind]
                if current not in move.sources or event.from_status != current or event.to_status != move.target:
                    bad(f"task {event.task_id}: illegal {event.kind} from {current!r}")
                task_status[event.task_id] = move.target
            continue
        if event.kind in _CASE_MOVE_BY_EVENT:
            move = _CASE_MOVE_BY_EVENT[event.kind]
            if status not in move.sources or event.from_status != status or event.to_status != move.target:
                bad(f"illegal {event.kind} from {status!r} (event says {event.from_status!r}→{event.to_status!r})")
            if event.kind == Kind.RESOLVED:
                still_open = [pk for pk, s in task_status.items() if s in OPEN_TASK_STATES]
                if still_open:
                    bad(f"resolved while tasks {still_open} were open")
            if event.kind in _VERDICT_EVENTS:
                verdicts.append(_VERDICT_EVENTS[event.kind])
            status = move.target
    if status != case.status:
        bad(f"timeline ends at {status!r} but the case is {case.status!r}")
    for pk, task in tasks_by_id.items():
        if task_status.get(pk) != task.status:
            bad(f"task {pk} is {task.status!r} but its events end at {task_status.get(pk)!r}")

    feedback = sorted(feedback, key=lambda f: (f.created_at, f.pk))
    if [(f.source, f.verdict) for f in feedback] != verdicts:
        bad("feedback rows do not match the verdict events")
    if any(f.verdict == Feedback.Verdict.CONFIRM and f.rating is None for f in feedback):
        bad("a confirmation without a rating")
    if case.status == Case.Status.CLOSED and (case.closed_at is None or not feedback):
        bad("closed without closed_at or a verdict")
    if case.status == Case.Status.RESOLVED and (case.verdict_due_on is None or not case.answer):
        bad("resolved without an answer or a verdict deadline")
    if (case.accepted_at is None) == any(e.kind == Kind.ACCEPTED for e in events):
        bad("accepted_at and the acceptance event disagree")
    return problems


def violations(cases: Iterable[Case] | None = None) -> list[str]:
    """Check many cases at once with a fixed number of queries."""
    queryset = Case.objects.all() if cases is None else cases
    if not hasattr(queryset, "prefetch_related"):
        queryset = Case.objects.filter(pk__in=[c.pk for c in queryset])
    problems: list[str] = []
    for case in queryset.prefetch_related("events", "tasks", "feedback").order_by("pk"):
        problems += case_violations(case, list(case.events.all()), list(case.tasks.all()), list(case.feedback.all()))
    return problems
