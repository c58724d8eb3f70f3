"""The product's settings with bench/bare.py's URLconf: the API plus the bare view it is measured against."""

from tracker.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare"
