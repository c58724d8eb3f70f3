"""`manage.py seed [--demo] [--scale N]`: reference data, then optionally the generated demo zone."""

import time

from django.core.management.base import BaseCommand, CommandError

from seeds.loader import demo_logins, load_reference_data, load_zone


class Command(BaseCommand):
    help = "Load reference data (categories, departments, task forces, roles); --demo adds the generated zone."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="also load the demo zone (806 enterprises …)")
        parser.add_argument("--scale", type=int, default=None, help="load N blocks of the zone (implies --demo)")

    def handle(self, *args, demo=False, scale=None, **options):
        if scale is not None and scale < 1:
            raise CommandError("--scale must be at least 1")
        started = time.perf_counter()
        counts = load_reference_data()
        self.stdout.write("reference data: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
        if demo or scale:
            load_zone(scale=scale or 1, log=self.stdout.write)
            self.stdout.write("demo logins (password for all generated users):")
            for username, password, what in demo_logins():
                self.stdout.write(f"  {username:<24} {password:<12} {what}")
        self.stdout.write(self.style.SUCCESS(f"seed finished in {time.perf_counter() - started:.1f}s"))
