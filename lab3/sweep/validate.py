"""Check a sweep against its notebook's ``parameters`` cell, once, before anything runs.

Three layers, all before the first kernel starts:

1. names: every grid and fixed name must be a parameter of the notebook
   (``papermill.inspect_notebook``: papermill itself only logs a warning for an unknown name and
   the run would silently use the default);
2. types: every value has the type of that parameter's default (an int is fine where a float
   is expected; a bool is not an int); numbers are finite and integers fit in 64 bits;
3. the notebook's own rules: for a training notebook (its parameters are those of
   ``lab3.experiment.DEFAULTS``) every run's parameters go through
   ``lab3.experiment.validate_parameters``, the function its check cell calls, so a learning rate
   of -1 or a batch larger than the data is refused here instead of failing in a kernel.
"""

import ast
import math
import re
from dataclasses import replace

from lab3.sweep.records import RESERVED, RESULT_COLUMNS
from lab3.sweep.spec import SweepError, _did_you_mean, short

_TYPE_NAMES = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "tuple": list,
}
_MISSING = object()
INT_LIMIT = 2**63  # integers must lie in [-INT_LIMIT, INT_LIMIT)
MAX_PROBLEMS = 20  # listed in one message; the rest are counted


def notebook_parameters(notebook):
    """``{name: (expected type or None, element type or None, default or _MISSING)}``.

    From ``papermill.inspect_notebook``: the type is the annotation (``x: float = 1``) or the
    ``# type:`` comment when there is one, else the type of the default value (parsed with
    ``ast.literal_eval``). For a list default whose items share one type, the element type too.
    """
    import papermill

    found = {}
    for name, info in papermill.inspect_notebook(str(notebook)).items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            default = _MISSING
        if isinstance(default, tuple):
            default = list(default)
        annotated = re.match(r"\s*(\w+)", info.get("inferred_type_name") or "")
        expected = _TYPE_NAMES.get(annotated.group(1).lower()) if annotated else None
        if expected is None and default is not _MISSING and default is not None:
            expected = type(default) if type(default) in _TYPE_NAMES.values() else None
        element = None
        if expected is list and isinstance(default, list) and default:
            kinds = {type(item) for item in default}
            element = kinds.pop() if len(kinds) == 1 else None
        found[name] = (expected, element, default)
    return found


def validate(sweep):
    """Check a ``Sweep`` against its notebook; return it ready to run (``validated=True``).

    Raises ``SweepError`` listing every problem (at most ``MAX_PROBLEMS``). The returned
    ``Sweep`` has ints for float parameters turned into floats and ``defaults`` filled in.
    A sweep already validated is returned as it is.
    """
    if sweep.validated:
        return sweep
    try:
        known = notebook_parameters(sweep.notebook)
    except Exception as error:  # noqa: BLE001 - a notebook papermill cannot read
        raise SweepError(
            f"cannot read the parameters of {sweep.notebook}: {short(str(error))}"
        ) from None
    if not known:
        raise SweepError(
            f"{sweep.notebook} has no cell tagged 'parameters' (or it assigns "
            "nothing): a sweep can only set the names that cell defines"
        )
    problems, grid, fixed = [], {}, {}
    if RESERVED not in known:
        problems.append(
            f"the notebook has no {RESERVED!r} parameter: the sweep passes each run's "
            f"metrics.json path through it{_unparsed_hint(sweep.notebook, RESERVED)}"
        )
    allowed = ", ".join(name for name in known if name != RESERVED)
    for where, given, out in (("grid", sweep.grid, grid), ("fixed", sweep.fixed, fixed)):
        for name, value in given.items():
            if name == RESERVED:
                problems.append(
                    f"{where}: {RESERVED} is set by the sweep (each run's metrics.json); remove it"
                )
            elif name in RESULT_COLUMNS:
                problems.append(
                    f"{where}: a parameter named {name!r} would clash with the "
                    "results.csv column of that name"
                )
            elif name not in known:
                problems.append(
                    f"{where}: unknown parameter {name!r}"
                    f"{_did_you_mean(name, known)}; the notebook's parameters are: "
                    f"{allowed}{_unparsed_hint(sweep.notebook, name)}"
                )
            else:
                checked = [
                    _validated(where, name, item, known[name], problems)
                    for item in (value if where == "grid" else [value])
                ]
                out[name] = checked if where == "grid" else checked[0]
    defaults = {
        name: default
        for name, (_, _, default) in known.items()
        if default is not _MISSING and name != RESERVED
    }
    if not problems:
        problems = _notebook_rules(known, defaults, replace(sweep, grid=grid, fixed=fixed))
    if problems:
        more = len(problems) - MAX_PROBLEMS
        raise SweepError(
            f"sweep {sweep.name!r} ({sweep.notebook}) cannot run:\n  "
            + "\n  ".join(problems[:MAX_PROBLEMS])
            + (f"\n  ... and {more} more" if more > 0 else "")
        )
    return replace(sweep, grid=grid, fixed=fixed, defaults=defaults, validated=True)


def _validated(where, name, item, spec, problems):
    """``item`` converted (int -> float where a float is expected), or a problem appended."""
    expected, element, default = spec
    ok, converted = _validate_type(item, expected, element)
    if not ok:
        problems.append(
            f"{where}: {name}={short(item)} is not allowed: expected "
            f"{_describe(expected, element)} like the notebook's default "
            f"{short(default)}{_yaml_hint(item, expected)}"
        )
        return item
    bad = _bad_number(converted)
    if bad:
        problems.append(f"{where}: {name}={short(item)} is not allowed: {bad}")
    return converted


def _notebook_rules(known, defaults, sweep):
    """The training notebooks' own check (``experiment.validate_parameters``) on every run.

    The runs are checked as they are generated, however many (``--max-runs`` may allow
    millions): memory stays flat. Every run is checked until ``MAX_PROBLEMS`` different problems
    are found (the sweep is refused then anyway).
    """
    names = set(known)
    try:
        from lab3.experiment import DEFAULTS, validate_parameters
    except ImportError:  # pragma: no cover - lab3's core is always there
        return []
    if not names <= set(DEFAULTS):
        return []  # not a training notebook: it has rules of its own we cannot know
    problems, seen = [], set()
    for point in sweep.points():
        run = {**defaults, **point, RESERVED: ""}
        try:
            validate_parameters(**run)
        except ValueError as error:
            message = str(error)
            if message not in seen:
                seen.add(message)
                shown = ", ".join(f"{k}={short(v)}" for k, v in point.items() if k in sweep.grid)
                problems.append(
                    f"the notebook's check refuses the run {shown or 'of fixed'}: "
                    f"{message if len(message) <= 300 else message[:297] + '...'}"
                )
                if len(problems) == MAX_PROBLEMS:
                    problems.append("(the check stopped here; fix these and run it again)")
                    break
    return problems


def _bad_number(value):
    """Why a number (or a number in a list) cannot be a parameter, or ''."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, float) and not math.isfinite(item):
            return "a finite number (not NaN or infinity)"
        integer = isinstance(item, int) and not isinstance(item, bool)
        if integer and not -INT_LIMIT <= item < INT_LIMIT:
            return "an integer between -2**63 and 2**63 - 1"
    return ""


def _unparsed_hint(notebook, name):
    """Why papermill may not see a parameter the ``parameters`` cell does assign.

    papermill's parser skips a line with more than one ``=``, so ``epochs = 100  # (>= 1)`` is
    not a parameter for ``inspect_notebook`` (nor for ``papermill --help-notebook``).
    """
    try:
        import nbformat

        cells = nbformat.read(str(notebook), as_version=4).cells
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for line in cell.source.splitlines():
                if re.match(rf"\s*{re.escape(name)}\s*(:[^=]*)?=", line):
                    return (
                        f" ({name!r} is assigned in the parameters cell, but papermill skips "
                        f"the line {line.strip()!r}: it has more than one '=' (one in its "
                        "comment?); the notebook must drop that '=' for papermill to see it)"
                    )
    return ""


def _validate_type(value, expected, element):
    """``(ok, value)``, the value converted from int to float where a float is expected."""
    if expected is None:
        return True, value
    if expected is float and type(value) is int:
        if not -INT_LIMIT <= value < INT_LIMIT:
            return True, value  # refused by _bad_number, not by float() overflowing
        return True, float(value)
    if type(value) is not expected:
        return False, value
    if expected is list and element is not None:
        items = []
        for item in value:
            ok, item = _validate_type(item, element, None)
            if not ok:
                return False, value
            items.append(item)
        return True, items
    return True, value


def _describe(expected, element):
    if expected is list and element is not None:
        return f"a list of {element.__name__}"
    return {
        int: "an int",
        float: "a float (or an int)",
        str: "a str",
        bool: "a bool (true/false)",
        list: "a list",
        dict: "a mapping",
    }[expected]


def _yaml_hint(value, expected):
    if expected in (int, float) and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return (
            " (YAML reads this number as a string: write exponents with a dot and a sign, "
            "e.g. 1.0e-3, or plain decimals)"
        )
    return ""
