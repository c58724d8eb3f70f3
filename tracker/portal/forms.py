"""Portal forms. They only parse what the browser sent; the services decide what is acceptable and their
errors are placed on these forms' fields (`place_service_error`)."""

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from services.cases.files import ALLOWED_TYPES
from services.errors import InvalidInput, ServiceError
from services.selectors import projects_filed_for_by
from tracker.models import Case, Category, Feedback, Project

ACCEPT = ",".join(sorted(ALLOWED_TYPES))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe); cleans to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


def files_help() -> str:
    text = _("可上传 PDF、图片（JPG/PNG/GIF/WebP）和 Office 文档，每个不超过 %(size)d MB，每个诉求最多 %(count)d 个")
    return text % {
        "size": settings.ATTACHMENT_MAX_BYTES // 2**20,
        "count": settings.ATTACHMENT_MAX_PER_CASE,
    }


class ServiceForm(forms.Form):
    """A form whose input a service checks; the service's refusal lands on the fields it names."""

    def place_service_error(self, error: ServiceError) -> None:
        if isinstance(error, InvalidInput) and error.fields:
            for field, messages in error.fields.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        else:
            self.add_error(None, error.message)


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名或手机号"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名（或手机号）与密码不匹配，请重新输入。多次失败后账号将暂时锁定。"),
    }


class CaseSubmitForm(ServiceForm):
    category = forms.ModelChoiceField(
        label=_("问题类别"), queryset=Category.objects.none(), required=False, widget=forms.RadioSelect
    )
    project = forms.ModelChoiceField(
        label=_("相关投资项目"), queryset=Project.objects.none(), required=False, empty_label=_("（不涉及具体项目）")
    )
    title = forms.CharField(
        label=_("标题"), required=False, max_length=200, help_text=_("一句话说明需要解决的问题，如“新厂房用电增容”")
    )
    description = forms.CharField(
        label=_("问题描述"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("说明现状、已经做过的努力和希望得到的帮助"),
    )
    urgency = forms.ChoiceField(  # left out means normal (the service's default), like the other fields it checks
        label=_("紧急程度"),
        choices=Case.Urgency.choices,
        initial=Case.Urgency.NORMAL,
        required=False,
        widget=forms.RadioSelect,
    )
    files = MultipleFileField(label=_("附件"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True).order_by("sort_order", "id")
        self.fields["project"].queryset = projects_filed_for_by(user, user.enterprise_id)
        self.fields["files"].help_text = files_help()
        if not self.fields["project"].queryset.exists():
            if self.is_bound and self.data.get("project"):
                # Nothing was offered, but a project sent anyway is refused as one that does not exist, not dropped.
                self.fields["project"].widget = forms.HiddenInput()
            else:
                del self.fields["project"]

    def clean(self):
        cleaned = super().clean()
        if "project" in self.fields and self.fields["project"].widget.is_hidden and "project" in self.errors:
            # A hidden field's error is not shown beside it; show it at the top of the form.
            self.add_error(None, self.errors["project"])
        return cleaned


class AddInfoForm(ServiceForm):
    note = forms.CharField(
        label=_("补充说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    files = MultipleFileField(label=_("补充附件"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = files_help()


class WithdrawForm(ServiceForm):
    reason = forms.CharField(
        label=_("撤回原因（选填）"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ConfirmForm(ServiceForm):
    rating = forms.TypedChoiceField(
        label=_("满意度"),
        choices=Feedback.Rating.choices,
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("评价意见（选填）"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ReopenForm(ServiceForm):
    reason = forms.CharField(
        label=_("不满意的原因"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("请说明哪些问题没有解决，诉求将退回服务专员重新办理"),
    )


class ChannelsForm(forms.Form):
    notify_by_email = forms.BooleanField(
        label=_("邮件提醒"), required=False, help_text=_("受理、答复、请您补充材料或验收时，同时发邮件到账号登记的邮箱")
    )
