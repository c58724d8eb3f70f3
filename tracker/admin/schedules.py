"""Periodic work (django-celery-beat): beat's own admin pages, but for one flaw."""

from celery.schedules import ParseException
from django.contrib import admin
from django_celery_beat import admin as beat_admin  # imported first: its registrations are replaced here
from django_celery_beat.models import CrontabSchedule


class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    def human_readable(self, schedule) -> str:
        """The schedule in words (the admin's method is read before the model's property of the same name). Beat's
        reads the fields as typed: on a form shown again because one is invalid ("-1"), celery's parser raises an
        error beat does not catch, and the page would fail instead of showing the field's error."""
        try:
            return schedule.human_readable
        except (ParseException, ValueError):
            return "-"


admin.site.unregister(CrontabSchedule)
admin.site.register(CrontabSchedule, CrontabScheduleAdmin)
