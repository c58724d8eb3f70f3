"""OpenAPI details drf-spectacular cannot infer: the error shape on every operation, its codes and their data."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

# Every `code` an error body can carry: its status, when it is answered, and what `data` then holds. A client
# branches on the code; the message is for people and may change.
ERROR_CODES: dict[str, str] = {
    "invalid": "400: the input is malformed or incomplete; `fields` names each bad field (`data` is {})",
    "malformed": "400: the body could not be parsed",
    "authentication_failed": "401: a token that is unknown, revoked or expired",
    "not_authenticated": "401: no credentials",
    "not_permitted": "403: authenticated, but not allowed to do this",
    "csrf_failed": "403: a browser session wrote without its CSRF token",
    "not_found": "404: not found, or not visible to you (the two are never told apart)",
    "method_not_allowed": "405: method not allowed",
    "not_acceptable": "406: not acceptable",
    "illegal_transition": "409: the object's state does not allow this step; `current` is its state and `allowed` "
    "the steps it does allow (`data` is {})",
    "tasks_open": "409: resolve refused while tasks of the case are open; `data.open_tasks` lists their ids, oldest "
    "first: complete or cancel each, then resolve again",
    "not_paused": "409: resume_clock refused: the case's clocks are running, there is no pause to end",
    "stale_version": "409: somebody changed the object since you read it; `data.current_version` (also "
    "`current_version`) is its version now: read it again",
    "extension_pending": "409: a task's extension request refused while another waits for a leader; "
    "`data.extension` is the pending request's id",
    "case_not_in_progress": "409: a task step refused because its case is not in progress (resolved, closed, "
    "withdrawn); `current` is the case's state",
    "uscc_taken": "409: the 统一社会信用代码 is already registered (`fields.uscc` says so)",
    "idempotency_key_reused": "409: the Idempotency-Key already answered a different request",
    "conflict": "409: another conflict, said in the message",
    "precondition_failed": "412: If-Match is not the current version; `data.current_version` as for stale_version",
    "too_large": "413: the request body is too large",
    "unsupported_media_type": "415: unsupported media type",
    "throttled": "429: too many requests; see Retry-After (and `data.retry_minutes` where a service says)",
    "server_error": "500: a fault on our side; retry later",
    "error": "any other error",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable `code`, a readable `message`, `fields` naming each bad field, and `data` "
    "with the facts a program can act on ({} when there are none). The codes:\n\n"
    + "\n".join(f"- `{code}`: {meaning}" for code, meaning in ERROR_CODES.items()),
    "properties": {
        "code": {"type": "string", "enum": list(ERROR_CODES), "example": "invalid"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "data": {
            "type": "object",
            "description": "What the code's refusal rests on; its keys depend on the code (see above)",
            "properties": {
                "open_tasks": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "tasks_open: the ids of the case's open tasks, oldest first",
                },
                "current_version": {
                    "type": "integer",
                    "description": "stale_version, precondition_failed: the object's version now",
                },
                "retry_minutes": {"type": "integer", "description": "throttled: minutes until you may try again"},
                "extension": {"type": "integer", "description": "extension_pending: the pending request's id"},
            },
            "additionalProperties": True,
        },
        "current": {"type": "string", "description": "illegal_transition and its guards: the object's current state"},
        "allowed": {"type": "array", "items": {"type": "string"}, "description": "illegal_transition: allowed steps"},
        "current_version": {"type": "integer", "description": "stale_version: the object's current version"},
        "retry_minutes": {"type": "integer", "description": "throttled by a service: minutes to wait"},
    },
    "required": ["code", "message", "fields", "data"],
}
ERROR_REFERENCE = {"$ref": "#/components/schemas/Error"}

# What a step's refusal looks like, by the code of the guard that refuses it (examples in the step's 409).
REFUSAL_EXAMPLES = {
    "tasks_open": {
        "code": "tasks_open",
        "message": "还有2个事项未办结（核实用地红线、协调供电接入），不能办结答复",
        "fields": {},
        "data": {"open_tasks": [41, 42]},
        "current": "in_progress",
        "allowed": ["add_info", "decompose", "reassign", "request_info", "resume_clock", "withdraw"],
    },
    "not_paused": {
        "code": "not_paused",
        "message": "诉求未挂起，无需恢复计时",
        "fields": {},
        "data": {},
        "current": "in_progress",
        "allowed": ["add_info", "decompose", "reassign", "request_info", "resolve", "withdraw"],
    },
}


def conflict_response(refusals: tuple[str, ...] = ()) -> OpenApiResponse:
    """A step's 409: the plain codes every step may answer, and those of the guards (`refusals`) on this one."""
    codes = [*refusals, "illegal_transition", "stale_version", "idempotency_key_reused"]
    return OpenApiResponse(
        response=ERROR_REFERENCE,
        description="Refused in the object's current state; `code` is one of "
        + ", ".join(f"`{code}`" for code in codes)
        + " (see the Error schema for each code's `data`)",
        examples=[OpenApiExample(code, value=REFUSAL_EXAMPLES[code]) for code in refusals if code in REFUSAL_EXAMPLES],
    )


ERROR_STATUSES = {
    "400": "Invalid input: `fields` names each bad field (also malformed JSON, a bad filter or header)",
    "401": "No credentials, or a token that is unknown, revoked or expired",
    "403": "Authenticated, but not allowed to do this",
    "404": "Not found, or not visible to you (the two are never told apart)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Illegal transition (or a step its guard refuses now, e.g. `tasks_open`), stale `version`, or an "
    "Idempotency-Key reused for another request: see `code`",
    "412": "`If-Match` does not match the current version",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "429": "Too many requests; see Retry-After",
}
_READ_ONLY = {"get", "head", "options"}
_ONLY_FOR_WRITES = {"409", "412", "413", "415"}


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: document the Error schema for every error status an operation can answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in ERROR_STATUSES.items():
                if code in _ONLY_FOR_WRITES and method in _READ_ONLY:
                    continue
                operation["responses"].setdefault(code, {"description": description, "content": reference})
    return result
