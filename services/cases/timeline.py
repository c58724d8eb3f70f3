"""A case's timeline in plain language, for the admin, the portal and `manage.py case_timeline`."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from services.selectors import case_timeline
from tracker.models import Case, CaseEvent, Feedback

Kind = CaseEvent.Kind

_SENTENCES = {  # lazy: rendered in the language of whoever reads the timeline
    Kind.SUBMITTED: gettext_lazy("%(actor)s 提交了诉求"),
    Kind.ACCEPTED: gettext_lazy("%(actor)s 受理了诉求"),
    Kind.DECLINED: gettext_lazy("%(actor)s 不予受理：%(note)s"),
    Kind.WITHDRAWN: gettext_lazy("%(actor)s 撤回了诉求"),
    Kind.INFO_ADDED: gettext_lazy("%(actor)s 补充了材料"),
    Kind.INFO_REQUESTED: gettext_lazy("%(actor)s 请企业补充材料：%(note)s"),
    Kind.DECOMPOSED: gettext_lazy("%(actor)s 分解了诉求，开始办理"),
    Kind.TASK_CREATED: gettext_lazy("%(actor)s 将“%(task)s”交办给 %(unit)s，期限 %(due_on)s"),
    Kind.TASK_STARTED: gettext_lazy("%(actor)s 签收了“%(task)s”"),
    Kind.TASK_COMPLETED: gettext_lazy("%(actor)s 办结了“%(task)s”"),
    Kind.TASK_RETURNED: gettext_lazy("%(actor)s 退回了“%(task)s”：%(note)s"),
    Kind.TASK_REDISPATCHED: gettext_lazy("%(actor)s 将“%(task)s”重新交办给 %(unit)s，期限 %(due_on)s"),
    Kind.TASK_REOPENED: gettext_lazy("%(actor)s 要求重办“%(task)s”，期限 %(due_on)s"),
    Kind.TASK_CANCELLED: gettext_lazy("%(actor)s 撤销了“%(task)s”"),
    Kind.EXTENSION_REQUESTED: gettext_lazy("%(actor)s 申请将“%(task)s”延期至 %(requested_due_on)s"),
    Kind.EXTENSION_APPROVED: gettext_lazy("%(actor)s 批准“%(task)s”延期至 %(requested_due_on)s"),
    Kind.EXTENSION_REJECTED: gettext_lazy("%(actor)s 驳回了“%(task)s”的延期申请"),
    Kind.RESOLVED: gettext_lazy("%(actor)s 作出办结答复，等待企业验收"),
    Kind.CONFIRMED: gettext_lazy("%(actor)s 确认办结，评价：%(rating)s"),
    Kind.REOPENED: gettext_lazy("%(actor)s 对答复不满意，退回重办：%(note)s"),
    Kind.CALLBACK_CONFIRMED: gettext_lazy("%(actor)s 电话回访，企业确认办结，评价：%(rating)s"),
    Kind.CALLBACK_REOPENED: gettext_lazy("%(actor)s 电话回访，企业要求重办：%(note)s"),
    Kind.CONCIERGE_CHANGED: gettext_lazy("%(actor)s 将服务专员由 %(from)s 变更为 %(to)s"),
    Kind.DEADLINE_RESCHEDULED: gettext_lazy("按 %(year)s 年节假日安排，%(deadline)s由 %(from)s 调整为 %(to)s"),
    Kind.CLOCK_PAUSED: gettext_lazy("%(actor)s 将诉求挂起，办理时限暂停，等待企业补充材料"),
}


# Events whose sentence already says the note (so a page need not show it twice).
NOTE_IN_SENTENCE = frozenset(
    {
        Kind.DECLINED,
        Kind.TASK_RETURNED,
        Kind.REOPENED,
        Kind.CALLBACK_REOPENED,
        Kind.INFO_REQUESTED,
        Kind.DEADLINE_RESCHEDULED,  # its note is the move ("2027-02-09 → 2027-02-10"), which the sentence says
    }
)

# A pause ended (services.cases.clocks): how, how long, and which deadlines moved to when.
_RESUMED = {
    "answered": gettext_lazy("企业补充了材料，恢复计时（挂起 %(days)s 个工作日）"),
    "resumed": gettext_lazy("%(actor)s 恢复计时（挂起 %(days)s 个工作日）"),
    "closed": gettext_lazy("挂起结束（挂起 %(days)s 个工作日）"),
}
_RESUMED_SAME_DAY = {  # no working day passed: nothing moved, no count to give
    "answered": gettext_lazy("企业补充了材料，恢复计时"),
    "resumed": gettext_lazy("%(actor)s 恢复计时"),
    "closed": gettext_lazy("挂起结束"),
}
_MOVED = gettext_lazy("，期限顺延：%(moved)s")
_MOVED_ITEM = gettext_lazy("%(title)s 由 %(from)s 至 %(to)s")

_FILE_ADDED = gettext_lazy("%(actor)s 上传了附件 %(file)s")
# A case staff (or the hotline) filed on the enterprise's behalf: who registered it, from which channel.
_FILED = gettext_lazy("%(actor)s 登记了诉求（%(channel_label)s）")
# A callback before the enterprise's verdict window ended, and one that names whom staff spoke to.
_EARLY_CALLBACK = {
    Kind.CALLBACK_CONFIRMED: gettext_lazy(
        "%(actor)s 在企业验收期限内提前电话回访 %(contact)s，企业确认办结，评价：%(rating)s"
    ),
    Kind.CALLBACK_REOPENED: gettext_lazy("%(actor)s 在企业验收期限内提前电话回访 %(contact)s，企业要求重办：%(note)s"),
}
_CALLBACK_WITH_CONTACT = {
    Kind.CALLBACK_CONFIRMED: gettext_lazy("%(actor)s 电话回访 %(contact)s，企业确认办结，评价：%(rating)s"),
    Kind.CALLBACK_REOPENED: gettext_lazy("%(actor)s 电话回访 %(contact)s，企业要求重办：%(note)s"),
}
_CONTACT_WITH_PHONE = gettext_lazy("%(name)s（%(phone)s）")


def _contact(data: dict) -> str:
    name, phone = data.get("contact_name") or "", data.get("contact_phone") or ""
    if name and phone:
        return str(_CONTACT_WITH_PHONE) % {"name": name, "phone": phone}
    return name or phone


def describe_event(event: CaseEvent) -> str:
    """One sentence saying what happened, from the event's own snapshot (not today's names)."""
    values = {key: value for key, value in (event.data or {}).items() if isinstance(value, str | int)}
    rating = (event.data or {}).get("rating")
    values.update(
        actor=event.actor.display_name if event.actor else _("系统"),
        note=event.note,
        rating=Feedback.Rating(rating).label if rating in Feedback.Rating.values else "",
    )
    values.setdefault("task", "")
    values.setdefault("unit", "")
    values.setdefault("due_on", "")
    values.setdefault("requested_due_on", "")
    values.setdefault("from", "")
    values.setdefault("to", "")
    template = _SENTENCES.get(event.kind)
    if event.kind == Kind.INFO_ADDED and values.get("file"):
        template = _FILE_ADDED
    channel = (event.data or {}).get("channel")
    if event.kind == Kind.SUBMITTED and event.actor and not event.actor.enterprise_id and channel in Case.Channel:
        values["channel_label"] = Case.Channel(channel).label
        template = _FILED
    if event.kind == Kind.CLOCK_RESUMED:
        return _resumed(event.data or {}, values)
    if event.kind in _EARLY_CALLBACK:
        values["contact"] = _contact(event.data or {})
        if (event.data or {}).get("early"):
            template = _EARLY_CALLBACK[event.kind]
        elif values["contact"]:
            template = _CALLBACK_WITH_CONTACT[event.kind]
    return str(template) % values if template else str(event.get_kind_display())


def _resumed(data: dict, values: dict) -> str:
    templates = _RESUMED if data.get("days") else _RESUMED_SAME_DAY
    sentence = str(templates.get(data.get("how"), templates["resumed"])) % {**values, "days": data.get("days", 0)}
    moved = [m for m in data.get("moved") or [] if isinstance(m, dict)]
    if moved:
        items = [
            str(_MOVED_ITEM) % {"title": m.get("title", ""), "from": m.get("from", ""), "to": m.get("to", "")}
            for m in moved
        ]
        sentence += str(_MOVED) % {"moved": _("；").join(items)}
    return sentence


def timeline_lines(case: Case) -> list[str]:
    """The whole timeline as lines: local time, then the sentence."""
    return [
        f"{timezone.localtime(event.created_at):%Y-%m-%d %H:%M}  {describe_event(event)}"
        for event in case_timeline(case)
    ]
