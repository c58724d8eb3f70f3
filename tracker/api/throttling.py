"""Request rates: per token (or per signed-in user of a browser session), and per address without credentials.

Rates are read at each request, so `API_THROTTLE_RATE` and test overrides take effect without a restart.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from tracker.models import ApiToken


class _CurrentRates:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class PerTokenThrottle(_CurrentRates, SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        ident = f"t{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"u{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonymousThrottle(_CurrentRates, AnonRateThrottle):
    scope = "anon"
