"""Errors with a meaning beyond "bad input".

``StateConflict``: the request is well-formed but the object is not in a state that
allows it (approving an approved revision, moving an issued credit). It is a
ValidationError (forms and the admin show it like any other), and the API answers
it with 409 Conflict instead of 400, with the same field-message shape.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class StateConflict(ValidationError):
    pass
