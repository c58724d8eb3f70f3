"""System checks of this project's own settings (`manage.py check --deploy` runs the deploy ones)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def outbound_private_addresses(app_configs, **kwargs):
    """Webhooks and WeCom robots may reach inside the network only in tests and the local demo."""
    if getattr(settings, "OUTBOUND_ALLOW_PRIVATE_ADDRESSES", False):
        return [
            checks.Error(
                "OUTBOUND_ALLOW_PRIVATE_ADDRESSES is on: webhook and WeCom robot addresses may point inside.",
                hint="Unset it; it is for tests and the local demo, whose receivers listen on 127.0.0.1.",
                id="tracker.E001",
            )
        ]
    return []
