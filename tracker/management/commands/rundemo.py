"""`manage.py rundemo [ADDRPORT]`: the whole system on one machine — a Celery worker and beat beside the development
server — so webhooks and periodic work run in the demo as they do in production."""

import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a Celery worker and Celery beat in the background and the development server in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        celery = [sys.executable, "-m", "celery", "-A", "tracker"]
        worker_flags = ["--pool=solo", "--loglevel=warning"]
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            worker_flags += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        processes = [
            subprocess.Popen([*celery, "worker", *worker_flags]),
            subprocess.Popen([*celery, "beat", "--loglevel=warning"]),
        ]
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the worker and beat on `kill` too, not only Ctrl-C
        self.stdout.write(f"Celery worker and beat started (broker {settings.CELERY_BROKER_URL.split('@')[-1]}).")
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
