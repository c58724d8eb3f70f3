"""What cases leave behind: the event log (never editable), verdicts and files."""

from django.contrib import admin
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from services.cases.timeline import describe_event
from services.reports.stats import SATISFIED_RATINGS
from tracker.admin.base import ScopedAdmin
from tracker.models import Attachment, CaseEvent, Feedback


@admin.register(CaseEvent)
class CaseEventAdmin(ScopedAdmin):
    list_display = ["created_at", "case", "kind", "sentence", "from_status", "to_status"]
    list_filter = ["kind"]
    list_select_related = ["case", "actor"]
    search_fields = ["=case__number"]
    show_full_result_count = False

    @admin.display(description=_("经过"))
    def sentence(self, event):
        return describe_event(event)

    def object_title(self, event):
        return f"{event.case.number} · {describe_event(event)}"


class SatisfiedFilter(admin.SimpleListFilter):
    """非常满意, 满意 and 基本满意 count as satisfied (the dashboard's satisfaction rate)."""

    title = _("满意")
    parameter_name = "satisfied"

    def lookups(self, request, model_admin):
        return [("yes", _("满意（含基本满意）")), ("no", _("不满意或未评"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(rating__in=SATISFIED_RATINGS)
        if self.value() == "no":
            return queryset.exclude(rating__in=SATISFIED_RATINGS)
        return queryset


@admin.register(Feedback)
class FeedbackAdmin(ScopedAdmin):
    list_display = [
        "case",
        "verdict",
        "rating",
        "comment",
        "source",
        "early",
        "contact_name",
        "recorded_by",
        "created_at",
    ]
    # 提前回访: callbacks recorded before the enterprise's verdict window ended, counted apart on the dashboard.
    list_filter = ["verdict", "rating", SatisfiedFilter, "source", "early"]
    list_select_related = ["case", "recorded_by"]
    search_fields = ["=case__number"]
    show_full_result_count = False

    def object_title(self, feedback):
        parts = [feedback.case.number, feedback.get_verdict_display()]
        if feedback.rating:
            parts.append(feedback.get_rating_display())
        return " · ".join(parts)


@admin.register(Attachment)
class AttachmentAdmin(ScopedAdmin):
    list_display = ["original_name", "case", "content_type", "size", "uploaded_by", "created_at", "download"]
    list_select_related = ["case", "uploaded_by"]
    search_fields = ["=case__number", "original_name"]
    exclude = ["file"]

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="tracker_attachment_download",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("下载"))
    def download(self, attachment):
        url = reverse("admin:tracker_attachment_download", args=[attachment.pk])
        return format_html('<a href="{}">{}</a>', url, _("下载"))

    def download_view(self, request, pk):
        """Files live outside the web root; they are served only to people who may see the case."""
        attachment = self.get_queryset(request).filter(pk=pk).first()
        if attachment is None or not self.has_view_permission(request, attachment):
            raise Http404(gettext("附件不存在或无权查看"))
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
