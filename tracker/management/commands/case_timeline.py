"""`manage.py case_timeline GX-2026-000123`: print a case's timeline in plain language."""

from django.core.management.base import BaseCommand, CommandError

from services.cases.timeline import timeline_lines
from tracker.models import Case


class Command(BaseCommand):
    help = "Print the timeline of a case, by its number."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the case number, e.g. GX-2026-000123")

    def handle(self, *args, number, **options):
        case = Case.objects.select_related("enterprise", "category").filter(number=number.strip()).first()
        if case is None:
            raise CommandError(f"no case numbered {number}")
        self.stdout.write(f"{case.number}  {case.title}  [{case.get_status_display()}]  {case.enterprise}")
        for line in timeline_lines(case):
            self.stdout.write("  " + line)
