"""Files on the workbench's step forms (办结, 办结答复, 补充材料, 退回): the portal's multiple-file field, with a
help text saying who will see the files. The service of the step checks them as the portal's are checked."""

from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from tracker.portal.forms import MultipleFileField, files_help


class StaffFilesField(MultipleFileField):
    """Several files in one input, cleaned to a list; `who_sees` opens the help text (the limits follow it)."""

    def __init__(self, *, who_sees, **kwargs):
        kwargs.setdefault("label", _("附件"))
        kwargs.setdefault("help_text", format_lazy("{} {}", who_sees, lazy(files_help, str)()))
        super().__init__(**kwargs)
