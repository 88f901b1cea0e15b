"""The lessons' checked exercises: ``exercises.check_<name>(student_function)`` in a ``check`` cell.

``core`` compares a student's function with a reference and explains any difference kindly;
``lessonNN`` holds lesson NN's checks. Every check is re-exported here, so a lesson only needs
``from lab3 import exercises``.
"""

from lab3.exercises.core import NOT_DONE, CheckFailed, check_function, reset_hints
from lab3.exercises.lesson01 import *  # noqa: F403
from lab3.exercises.lesson02 import *  # noqa: F403
from lab3.exercises.lesson03 import *  # noqa: F403
from lab3.exercises.lesson04 import *  # noqa: F403
from lab3.exercises.lesson05 import *  # noqa: F403
from lab3.exercises.lesson06 import *  # noqa: F403
from lab3.exercises.lesson07 import *  # noqa: F403

__all__ = ["NOT_DONE", "CheckFailed", "check_function", "reset_hints"] + sorted(
    name for name in dir() if name.startswith(("check_", "reference_")) and name != "check_function"
)
