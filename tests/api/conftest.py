"""API test helpers: a client per person, authenticated with a real token through the Authorization header."""

import pytest
from rest_framework.test import APIClient

from services import api_tokens


def client_for(user) -> APIClient:
    """An API client that sends `Authorization: Token <key>` for a fresh token of `user`."""
    _, key = api_tokens.create_token(actor=None, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = user
    return client


@pytest.fixture
def api(zone):
    """`api(zone.concierge)` gives that person's authenticated client."""
    clients = {}

    def get(user) -> APIClient:
        if user.pk not in clients:
            clients[user.pk] = client_for(user)
        return clients[user.pk]

    return get
