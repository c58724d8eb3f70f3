import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
application = get_wsgi_application()

# What is loaded now (Django, the apps, the URLconf and every view it imports) lives as long as the process. Moved
# to the permanent generation, the collector no longer walks it on each full collection (tens of ms on a request
# otherwise); under gunicorn's preload_app it is frozen in the master before the fork, so the workers also keep
# sharing its memory pages instead of copying them when the collector would touch them.
get_resolver().url_patterns  # noqa: B018 - imported now, not by the first request
gc.collect()
gc.freeze()
