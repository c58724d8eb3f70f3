"""What every writing endpoint shares: Idempotency-Key replay, If-Match / `version`, ETags, one error shape."""

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from services import idempotency
from services.errors import InvalidInput, PreconditionFailed, StaleVersion
from tracker.api.schema import conflict_response

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Replaying a POST with the same key and body returns the first answer and changes nothing; "
    "the same key with another body answers 409. Keys are kept for IDEMPOTENCY_KEY_TTL_HOURS (24 h).",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag read with the object (its version, e.g. "3"). A stale one answers 412 and changes nothing.',
)


def step_schema(request_serializer, summary: str, *, response_serializer, refusals: tuple[str, ...] = ()):
    """The schema of a transition endpoint: its input, the object it answers with, the two headers, and its 409
    with the codes of the guards (`refusals`, e.g. `tasks_open`) that may refuse it beyond a plain wrong state."""
    return extend_schema(
        request=request_serializer,
        responses={200: response_serializer, 409: conflict_response(refusals)},
        parameters=[IDEMPOTENCY_KEY, IF_MATCH],
        summary=summary,
    )


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise InvalidInput.field("If-Match", _('If-Match 应为对象的 ETag，例如 "3"'))
    return int(value)


def _fingerprint(request) -> str:
    """What identifies a request's content: its JSON, or its form fields and the digests of its files."""
    data = request.data
    if hasattr(data, "lists"):
        content = {}
        for key, values in data.lists():
            content[key] = [
                hashlib.sha256(b"".join(v.chunks())).hexdigest() if hasattr(v, "chunks") else str(v) for v in values
            ]
    else:
        content = data
    # surrogatepass: whatever the body holds, fingerprinting must not be what fails (the parsers refuse bad text)
    blob = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )
    return hashlib.sha256(blob).hexdigest()


def json_safe(body):
    return json.loads(json.dumps(body, cls=DjangoJSONEncoder))


class WriteMixin:
    """For views that change things through a service. A view with transitions defines `represent(pk)`: the
    object as a transition answers with it."""

    def run_step(self, request, pk, input_serializer, call: Callable[[dict, int | None], object]) -> Response:
        """Parse the input, call the service with the caller's expected version, answer with the object."""
        data = validated(input_serializer, request)

        def produce():
            self.call_versioned(request, data, lambda version: call(data, version))
            return self.represent(pk)

        return self.respond_to_write(request, produce)

    def respond_to_write(self, request, produce: Callable[[], object], status_code: int = 200) -> Response:
        """Call `produce` (which calls the service and returns the representation) once per Idempotency-Key."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            body = json_safe(produce())
            return self._response(body, status_code, replayed=False)
        outcome = idempotency.run_once(
            user=request.user,
            key=key,
            method=request.method,
            path=request.path,
            fingerprint=_fingerprint(request),
            run=lambda: (status_code, json_safe(produce())),
        )
        return self._response(outcome.body, outcome.status_code, replayed=outcome.replayed)

    def _response(self, body, status_code: int, *, replayed: bool) -> Response:
        headers = {}
        if isinstance(body, dict) and isinstance(body.get("version"), int):
            headers["ETag"] = etag(body["version"])
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status_code, headers=headers)

    def expected_version(self, request, data: dict) -> tuple[int | None, bool]:
        """The version the caller read: from If-Match (True) or the body's `version` (False)."""
        header = parse_if_match(request)
        given = data.get("version")
        if header is not None and given is not None and header != given:
            raise InvalidInput.field("version", _("version 与 If-Match 不一致"))
        if header is not None:
            return header, True
        return given, False

    def call_versioned(self, request, data: dict, call: Callable[[int | None], object]):
        """Call the service with the caller's expected version; a stale If-Match becomes 412."""
        version, from_header = self.expected_version(request, data)
        try:
            return call(version)
        except StaleVersion as stale:
            if from_header:
                raise PreconditionFailed(stale.message, current_version=stale.current_version) from None
            raise


def validated(serializer_class, request, **context) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
