"""A case walks the whole loop: submit → accept → decompose → work → resolve → reopen → resolve → confirm."""

from services.cases import invariants as audit
from services.cases import steps as case_services
from services.cases import tasks as task_services
from services.cases.tasks import TaskSpec
from services.cases.timeline import timeline_lines
from tracker.models import Case, CaseEvent, Feedback, Task

Kind = CaseEvent.Kind


def test_one_case_walks_the_whole_loop(zone):
    # Given an enterprise user of a key enterprise with a linked concierge
    # When the enterprise submits an issue
    case = case_services.submit_case(
        actor=zone.enterprise_user,
        enterprise=zone.enterprise,
        category=zone.category,
        title="新厂房用地指标",
        description="扩产需要新增用地约30亩，希望协调用地指标。",
    )
    # Then it is numbered, given the linked concierge, and due to be accepted
    assert case.number.startswith("GX-") and case.status == Case.Status.SUBMITTED
    assert case.concierge == zone.concierge and case.channel == Case.Channel.PORTAL

    # When the concierge accepts it and gives two pieces to a task force and a department
    case_services.accept_case(actor=zone.concierge, case=case)
    land, power = task_services.decompose_case(
        actor=zone.concierge,
        case=case,
        tasks=[
            TaskSpec(title="落实用地指标", task_force=zone.task_force),
            TaskSpec(title="核实用电容量", department=zone.other_department),
        ],
    )
    # And the units work them: one done, one returned then re-dispatched and done
    task_services.start_task(actor=zone.member, task=land)
    task_services.complete_task(actor=zone.member, task=land, result="已纳入年度供地计划")
    task_services.return_task(actor=zone.other_officer, task=power, reason="用电容量由规划部门先行核定")
    task_services.redispatch_task(actor=zone.concierge, task=power, department=zone.department)
    task_services.start_task(actor=zone.officer, task=power)
    task_services.complete_task(actor=zone.officer, task=power, result="容量核定为2000kVA")
    case_services.resolve_case(actor=zone.concierge, case=case, answer="用地指标已落实，用电容量已核定。")

    # And the enterprise rejects the answer, the concierge reopens a task, and resolves again
    case_services.reopen_case(actor=zone.enterprise_user, case=case, reason="供地时间不明确")
    task_services.reopen_task(actor=zone.concierge, task=land, note="请明确供地时间")
    task_services.start_task(actor=zone.member, task=land)
    task_services.complete_task(actor=zone.member, task=land, result="预计明年3月挂牌")
    case_services.resolve_case(actor=zone.concierge, case=case, answer="预计明年3月挂牌供地。")
    case_services.confirm_case(actor=zone.enterprise_user, case=case, rating=Feedback.Rating.SATISFIED)

    # Then the case is closed, verified by the enterprise itself, with a complete and ordered timeline
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED and case.closed_at is not None
    assert list(case.feedback.values_list("verdict", "source")) == [
        (Feedback.Verdict.REOPEN, Feedback.Source.ENTERPRISE),
        (Feedback.Verdict.CONFIRM, Feedback.Source.ENTERPRISE),
    ]
    kinds = list(case.events.order_by("created_at", "id").values_list("kind", flat=True))
    assert kinds == [
        Kind.SUBMITTED,
        Kind.ACCEPTED,
        Kind.DECOMPOSED,
        Kind.TASK_CREATED,
        Kind.TASK_CREATED,
        Kind.TASK_STARTED,
        Kind.TASK_COMPLETED,
        Kind.TASK_RETURNED,
        Kind.TASK_REDISPATCHED,
        Kind.TASK_STARTED,
        Kind.TASK_COMPLETED,
        Kind.RESOLVED,
        Kind.REOPENED,
        Kind.TASK_REOPENED,
        Kind.TASK_STARTED,
        Kind.TASK_COMPLETED,
        Kind.RESOLVED,
        Kind.CONFIRMED,
    ]
    assert set(Task.objects.filter(case=case).values_list("status", flat=True)) == {Task.Status.DONE}
    assert audit.violations([case]) == []
    lines = timeline_lines(case)
    assert "张三 受理了诉求" in lines[1]
    assert "重新交办给 规划建设局" in lines[8]
    assert "确认办结，评价：满意" in lines[-1]
