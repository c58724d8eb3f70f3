"""OpenAPI details drf-spectacular cannot infer: the error shape on every operation."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable `code`, a readable `message`, and `fields` naming each bad field.",
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "current": {"type": "string", "description": "illegal_transition: the object's current state"},
        "allowed": {"type": "array", "items": {"type": "string"}, "description": "illegal_transition: allowed steps"},
        "current_version": {"type": "integer", "description": "stale_version: the object's current version"},
    },
    "required": ["code", "message", "fields"],
}
ERROR_STATUSES = {
    "400": "Invalid input: `fields` names each bad field (also malformed JSON, a bad filter or header)",
    "401": "No credentials, or a token that is unknown, revoked or expired",
    "403": "Authenticated, but not allowed to do this",
    "404": "Not found, or not visible to you (the two are never told apart)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "409": "Illegal transition, stale `version`, or an Idempotency-Key reused for another request",
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
