"""The OpenAPI document tells the truth about errors: every operation lists the error
answers it can give, with their shape.

- 400: field messages, ``{"<field>": ["message", ...], "non_field_errors": [...]}``
  (nested for lists and pauses); every operation, since query parameters are checked too;
- 401, 403, 404, 429, 503: ``{"detail": "..."}`` (503 and 429 with ``Retry-After``);
  404 on every path with an ``{id}``, and on every paginated list (a page past the end);
- 409: a state conflict (the object's status does not allow the action), field messages;
- 415: a request body in a media type the operation does not read (writes only).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Messages per field: a list of strings, or nested objects for lists.",
    "additionalProperties": {},
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("Bad input; nothing was written.", FIELD_ERRORS),
    "401": ("Not signed in, or a token of another tenant.", DETAIL),
    "403": ("Signed in, but not allowed to do this.", DETAIL),
    "404": ("No such object (or page), or not one this user may see.", DETAIL),
    "409": ("The object's state does not allow this action.", FIELD_ERRORS),
    "415": ("The request body is not in a media type this operation reads.", DETAIL),
    "429": ("Too many failed sign-ins; retry later.", DETAIL),
    "503": ("The database or broker is briefly unreachable; retry later.", DETAIL),
}


class ErrorDocumentingSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "503"]
        if "{" in self.path or self._is_paginated_list():
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes.append("409")
        if self.path.rstrip("/").endswith("auth/token"):
            codes = ["400", "429", "503"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        for code in codes:
            description, schema = ERRORS[code]
            entry: dict[str, Any] = {
                "description": description,
                "content": {"application/json": {"schema": schema}},
            }
            if code in ("429", "503"):
                entry["headers"] = RETRY_AFTER
            responses.setdefault(code, entry)
        return responses

    def _is_paginated_list(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
