"""The API tests' `api` fixture: a client per person (`tests.factories.client_for`), authenticated with a real token
through the Authorization header."""

import pytest
from rest_framework.test import APIClient

from tests.factories import client_for


@pytest.fixture
def api(zone):
    """`api(zone.concierge)` gives that person's authenticated client."""
    clients = {}

    def get(user) -> APIClient:
        if user.pk not in clients:
            clients[user.pk] = client_for(user)
        return clients[user.pk]

    return get
