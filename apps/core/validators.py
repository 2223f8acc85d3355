"""Validators shared by several apps."""

from __future__ import annotations

from django.core.validators import RegexValidator

# Objective keys and custom sample metrics ("latency_ms"): stable machine names.
key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}\Z",
    "Lowercase letters, digits and underscores, starting with a letter.",
)
