"""Every SPEC name has one home (core/reasons.py), and every failure reason is explained twice:
in the notice its sender gets, and in the README's table (with its fix)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import reasons
from poller.notify.notice_text import WHY_AND_FIX, compose

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_reason_lines() -> dict[str, str]:
    """The README's table of failure reasons: reason -> what it means (a fix follows)."""
    section = README.read_text().split("## Failure reasons", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \| [^|]+ \|$", section, flags=re.MULTILINE))


@pytest.mark.parametrize("reason", reasons.FAILURE_REASONS)
def test_every_failure_reason_has_notice_text(reason):
    why, fixes = WHY_AND_FIX[reason]
    assert why.strip() and fixes and all(fix.strip() for fix in fixes)
    _, body = compose(reason, "", "Pricing", ["wile@acme.com"], None)
    assert f"Why: {why}" in body and all(fix in body for fix in fixes)


@pytest.mark.parametrize("reason", reasons.FAILURE_REASONS)
def test_every_failure_reason_has_a_readme_line(reason):
    assert reason in _readme_reason_lines()


def test_the_readme_lists_no_reason_spec_does_not_name():
    assert set(_readme_reason_lines()) == set(reasons.FAILURE_REASONS)
    assert set(WHY_AND_FIX) == set(reasons.FAILURE_REASONS)


def test_names_are_unique_within_each_kind():
    for kind in (reasons.OUTCOMES, reasons.SCENARIOS, reasons.RULES, reasons.FAILURE_REASONS,
                 reasons.SKIP_REASONS):
        assert len(set(kind)) == len(kind)
    assert not set(reasons.FAILURE_REASONS) & set(reasons.SKIP_REASONS)
