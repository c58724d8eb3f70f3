"""`manage.py reschedule_deadlines 2027`: count again every open deadline that touches a confirmed year.

Confirming a year's holiday schedule queues this in a worker (`services.time.reschedule`); run it by hand when the
broker was down at that moment. Safe to repeat: what is already right is left alone.
"""

from django.core.management.base import BaseCommand

from services.time.reschedule import reschedule_year


class Command(BaseCommand):
    help = "Count again the open deadlines touching YEAR, once its holiday schedule is confirmed (safe to repeat)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="the year whose schedule was confirmed, e.g. 2027")

    def handle(self, *args, year, **options):
        result = reschedule_year(year=year)
        self.stdout.write(
            f"{result.year}: {result.moved} deadlines moved, {result.flagged} provisional flags changed, "
            f"in {result.cases} cases"
        )
