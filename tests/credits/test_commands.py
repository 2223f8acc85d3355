"""The evaluate_compliance management command (apps.credits.management)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import TENANT_A


def test_evaluate_compliance_command(bound, capsys):
    call_command(
        "evaluate_compliance",
        "--tenant",
        TENANT_A.schema,
        "--period",
        "2026-04",
        "--agreement",
        str(bound.agreement.pk),
        "--no-progress",
    )
    assert "1 agreements evaluated" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a period"):
        call_command("evaluate_compliance", "--tenant", TENANT_A.schema, "--period", "26-4")
    with pytest.raises(CommandError, match="No tenant"):
        call_command("evaluate_compliance", "--tenant", "nosuch", "--period", "2026-04")
