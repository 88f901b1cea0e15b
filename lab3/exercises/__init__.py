"""The lessons' checked exercises: ``exercises.check_<name>(student_function)`` in a ``check`` cell.

``core`` runs a student's function against the exercise's answer and explains any difference
kindly; ``delegation`` refuses an answer that calls lab3's own version of the exercise; ``hints``
holds the hint tiers' logic; ``lessonNN`` holds lesson NN's checks. What a student needs is
re-exported here (the checks, ``CheckFailed``, ``reset_hints``, ``yours_if_correct``), so a
lesson only needs ``from lab3 import exercises``. The answers the checks compare with are private
to their lesson module: no public name leads to them.
"""

from lab3.exercises.core import NOT_DONE, CheckFailed, reset_hints, yours_if_correct
from lab3.exercises.lesson01 import *  # noqa: F403
from lab3.exercises.lesson01_network import *  # noqa: F403
from lab3.exercises.lesson02 import *  # noqa: F403
from lab3.exercises.lesson03 import *  # noqa: F403
from lab3.exercises.lesson04 import *  # noqa: F403
from lab3.exercises.lesson05 import *  # noqa: F403
from lab3.exercises.lesson06 import *  # noqa: F403
from lab3.exercises.lesson07 import *  # noqa: F403
from lab3.exercises.lesson08 import *  # noqa: F403

__all__ = ["NOT_DONE", "CheckFailed", "reset_hints", "yours_if_correct"] + sorted(
    name for name in dir() if name.startswith("check_")
)
