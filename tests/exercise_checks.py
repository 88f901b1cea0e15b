"""What the lessons' check tests share: the untouched stub, the slips, the hints they reveal.

A lesson's test file lists ``CHECKS = {check_name: (right_answer, [typical slips])}``; these
helpers run ``lab3.exercises.<check_name>`` on them.
"""

import pytest

from lab3 import exercises
from lab3.exercises import CheckFailed


def not_done(*args):
    """A stub as the student gets it."""
    raise NotImplementedError


def slips(checks):
    """``[(check_name, slip), ...]`` of every check's typical slips, for ``parametrize``."""
    return [(check, wrong) for check, (_, wrongs) in sorted(checks.items()) for wrong in wrongs]


def failure_messages(check, wrong, tries=3):
    """The messages of ``tries`` failed attempts in a row: each reveals one more hint tier."""
    messages = []
    for _ in range(tries):
        with pytest.raises(CheckFailed) as error:
            getattr(exercises, check)(wrong)
        messages.append(str(error.value))
    return messages


def assert_stub_is_not_done(check):
    with pytest.raises(CheckFailed, match=r"is not done yet: fill in the cell above"):
        getattr(exercises, check)(not_done)


def assert_right_answer_passes(check, right, capsys, start="correct: "):
    getattr(exercises, check)(right)
    assert capsys.readouterr().out.startswith(start)


def assert_hints_widen(messages, formula):
    """The first failure gives the vague tier only (no ``formula``), the second the next tier."""
    assert "hint 1 of 3" in messages[0] and formula not in messages[0].split("Hint")[-1]
    assert "hint 2 of 3" in messages[1]
