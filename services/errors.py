"""The errors a service raises. Each carries its code and HTTP status, so every interface maps it the same way:
400 invalid input, 403 not permitted, 404 not visible, 409 illegal transition or stale version, 429 too many.

A refusal more specific than its class says so with its own `code` and the `data` a program can act on: a guard of
the state machine (`services.states`) refuses `resolve` as `tasks_open` with {"open_tasks": [ids]}, say.
"""

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _


class ServiceError(Exception):
    code = "error"
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str | list[str]] | None = None,
        code: str | None = None,
        data: Mapping | None = None,
    ):
        message = str(message)
        super().__init__(message)
        self.message = message
        self.fields: dict[str, list[str]] = {
            name: [str(e) for e in errors] if isinstance(errors, list | tuple) else [str(errors)]
            for name, errors in (fields or {}).items()
        }
        if code is not None:
            self.code = code  # a refusal more specific than its class (a guard's, such as tasks_open)
        self.data: dict = dict(data or {})

    def as_dict(self) -> dict:
        """The error as JSON: code, message, fields, and `data` when the refusal has facts to act on."""
        body = {"code": self.code, "message": str(self.message), "fields": self.fields}
        if self.data:
            body["data"] = self.data
        return body


class InvalidInput(ServiceError):
    """The input is malformed or incomplete; `fields` names each bad field."""

    code = "invalid"
    http_status = 400

    @classmethod
    def field(cls, name: str, message: str) -> "InvalidInput":
        return cls(message, fields={name: message})


class NotPermitted(ServiceError):
    """The actor may see the object but not do this to it."""

    code = "not_permitted"
    http_status = 403


class NotFound(ServiceError):
    """The object does not exist or is not visible to the actor (the two are never told apart)."""

    code = "not_found"
    http_status = 404

    def __init__(self, message: str | None = None, **kwargs):
        super().__init__(message or _("对象不存在或无权查看"), **kwargs)


class TooManyRequests(ServiceError):
    """The actor asked for this too often; `retry_minutes` says when to try again."""

    code = "throttled"
    http_status = 429

    def __init__(self, message: str, *, retry_minutes: int):
        self.retry_minutes = retry_minutes
        super().__init__(message, data={"retry_minutes": retry_minutes})

    def as_dict(self) -> dict:
        return {**super().as_dict(), "retry_minutes": self.retry_minutes}


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class IllegalTransition(Conflict):
    """The object's current state does not allow this step; `allowed` lists the steps it does allow.

    A step the state allows but a guard refuses now keeps this class with the guard's `code` and `data`
    (`services.states.CASE_GUARDS`): `tasks_open`, `not_paused`."""

    code = "illegal_transition"

    def __init__(
        self,
        message: str,
        *,
        current: str,
        allowed: Iterable[str],
        code: str | None = None,
        data: Mapping | None = None,
    ):
        self.current = current
        self.allowed = sorted(allowed)
        super().__init__(message, code=code, data=data)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "current": self.current, "allowed": self.allowed}


class StaleVersion(Conflict):
    """Somebody changed the object since the actor last read it."""

    code = "stale_version"

    def __init__(self, message: str, *, current_version: int):
        self.current_version = current_version
        super().__init__(message, data={"current_version": current_version})

    def as_dict(self) -> dict:
        return {**super().as_dict(), "current_version": self.current_version}


class PreconditionFailed(StaleVersion):
    """The caller made the change conditional on a version (HTTP If-Match) the object no longer has."""

    code = "precondition_failed"
    http_status = 412


class IdempotencyKeyReused(Conflict):
    """An idempotency key already answered a different request."""

    code = "idempotency_key_reused"
