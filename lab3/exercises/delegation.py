"""Refuse an answer that hands the exercise back to lab3, to autograd or to finite differences.

Before a check runs a student's function, it reads the function's bytecode (``dis``): every
global, closure variable and import the function names, following attribute chains
(``lab3.backprop.gradients``), and it goes on into the helper functions it reaches that the
student wrote (a notebook's or a test file's own functions, never a library's). If one of the
objects it reaches is on the exercise's refused list, the check says which, and what the exercise
asks for, without running anything.

What stays allowed: NumPy, torch tensor operations, the student's own earlier functions, and
whatever of lab3 the exercise does not ask for (its data and model constructors, ``lab3.gradients``
inside an SGD step, ...). Each check lists what it refuses (``Refused`` values, built from dotted
names such as ``"lab3.backprop.linear_backward"``); lab3's own exercise code (the checks and the
answers they compare with) is refused everywhere.

While the check runs the function, ``watch_calls`` also notes any call into a refused function
or lab3 module (``sys.setprofile``): that catches what reading cannot see, such as
``model(x)`` on a ``MultiLayerPerceptron`` (its ``__call__`` is ``forward``).

Neither is a sandbox: a determined student can get around both (and can read lab3's source).
They stop the honest shortcut and say why.
"""

import contextlib
import dis
import importlib
import sys
import types
from dataclasses import dataclass
from pathlib import Path

_LAB3 = Path(__file__).resolve().parents[1]  # the lab3 package: a library, never the student's
_LIBRARY_ROOTS = tuple({Path(p).resolve() for p in (sys.prefix, sys.base_prefix)})
_MISSING = object()


@dataclass(frozen=True)
class Refused:
    """Objects an exercise refuses, and how to name them to the student.

    ``targets`` are dotted names (``"lab3.gradients"``, ``"torch.autograd"``); a module refuses
    everything defined in it. ``attributes`` are attribute names refused on any object, even one
    the reading cannot resolve (``loss.backward()`` on a local tensor).
    """

    what: str  # e.g. "lab3's own backward pass", "torch autograd"
    targets: tuple = ()
    attributes: tuple = ()


AUTOGRAD = Refused(
    "torch autograd",
    ("torch.autograd", "torch.func", "torch.Tensor.backward"),
    ("backward", "requires_grad_"),
)
FINITE_DIFFERENCES = Refused("finite differences (lab3.gradcheck)", ("lab3.gradcheck",))
# The checks and the answers they compare with: no exercise may call them.
EXERCISE_CODE = Refused("lab3.exercises' own answers", ("lab3.exercises",))


def lab3_version(*names):
    """``Refused`` for lab3's own implementation of the exercise, by dotted names."""
    return Refused("lab3's own version of this exercise", tuple(names))


def find_delegation(candidate, refused):
    """``None``, or a sentence saying what of ``refused`` the candidate reaches and through what.

    ``refused`` is a sequence of ``Refused``; ``EXERCISE_CODE`` is always added.
    """
    rules = [(rule, _resolve_all(rule.targets)) for rule in (*refused, EXERCISE_CODE)]
    for reached, path in _reach(candidate):
        for rule, targets in rules:
            name = _match(reached, rule, targets)
            if name is not None:
                through = f" (through {' -> '.join(path)})" if path else ""
                return f"it uses {name}{through}: {rule.what}"
    return None


@contextlib.contextmanager
def watch_calls(refused):
    """Within the block, note the first call into a refused Python function, or into a refused
    module of lab3; yields a list that then holds that sentence (empty if none)."""
    functions, modules = {}, {}
    for rule in (*refused, EXERCISE_CODE):
        for dotted, target in _resolve_all(rule.targets).items():
            if isinstance(target, types.FunctionType):
                functions[target.__code__] = (dotted, rule.what)
            elif isinstance(target, types.ModuleType) and target.__name__.startswith("lab3."):
                modules[target.__name__] = (dotted, rule.what)
    found = []
    watch_code = sys._getframe().f_code

    def profile(frame, event, arg):
        if event != "call" or found or frame.f_code is watch_code:
            return  # watch_code: this generator resuming to stop the watch is no call of theirs
        hit = functions.get(frame.f_code)
        if hit is None:
            module = frame.f_globals.get("__name__", "")
            hit = next(
                (v for m, v in modules.items() if module == m or module.startswith(m + ".")), None
            )
        if hit is not None:
            found.append(f"it calls {hit[0]} when it runs: {hit[1]}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield found
    finally:
        sys.setprofile(previous)


# ----------------------------------------------------------------------------------------------
# What a function reaches
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attribute:
    """An attribute named on an object the reading could not resolve (``x.backward``)."""

    name: str


def _reach(candidate):
    """Yield ``(object, path)`` for the candidate and everything its code reaches; ``path`` names
    the student's helper functions on the way."""
    seen = set()
    stack = [(candidate, ())]
    while stack:
        obj, path = stack.pop()
        obj = _unwrap(obj)
        yield obj, path
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for function in _students_functions(obj):
            # what a helper reaches is named through the helper; the candidate's own, directly
            inner = path + (function.__qualname__,) if obj is not _unwrap(candidate) else path
            stack.extend((found, inner) for found in _named_by(function))


def _unwrap(obj):
    """The function behind a bound method, a ``functools.partial`` or a decorated function."""
    for _ in range(10):
        inner = getattr(obj, "__func__", None) or (
            obj.func if type(obj).__name__ == "partial" else None
        )
        if inner is None:
            return obj
        obj = inner
    return obj


def _students_functions(obj):
    """The functions of ``obj`` to read on: itself if the student wrote it, a class's methods,
    a callable object's ``__call__``; nothing of a library."""
    if isinstance(obj, types.FunctionType):
        return [obj] if _is_students(obj) else []
    if isinstance(obj, type):
        members = vars(obj).values()
    elif callable(obj) and not isinstance(obj, types.BuiltinFunctionType | types.ModuleType):
        members = [getattr(type(obj), "__call__", None)]
    else:
        return []
    return [
        m for m in map(_unwrap, members) if isinstance(m, types.FunctionType) and _is_students(m)
    ]


def _is_students(function):
    """True for a function defined in a notebook, a script or a test; not in lab3 or a library."""
    module = (function.__module__ or "").split(".")[0]
    if module == "lab3":
        return False
    filename = function.__code__.co_filename
    if filename.startswith("<"):  # a notebook cell or exec'd source
        return True
    path = Path(filename).resolve()
    return not (path.is_relative_to(_LAB3) or any(path.is_relative_to(r) for r in _LIBRARY_ROOTS))


def _named_by(function):
    """The objects ``function``'s code names: globals, closure cells, imports, attribute chains."""
    closure = {}
    for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
        try:
            closure[name] = cell.cell_contents
        except ValueError:  # an empty cell: a variable not assigned yet
            pass
    return list(_scan(function.__code__, function.__globals__, closure))


def _scan(code, globals_, names):
    """Walk one code object's instructions, resolving what each load refers to.

    ``names`` maps local and closure names to what was stored in them (one pass, in order: good
    enough for ``import lab3.backprop as bp`` and ``f = lab3.gradients``). Nested code
    (comprehensions, lambdas, inner functions) shares them.
    """
    current, last_const, last_module = _MISSING, None, _MISSING
    for instruction in dis.get_instructions(code):
        op, arg = instruction.opname, instruction.argval
        if op in ("LOAD_GLOBAL", "LOAD_NAME"):
            current = globals_.get(arg, _MISSING)
            if current is _MISSING and op == "LOAD_NAME":
                current = names.get(arg, _MISSING)
        elif op in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_FAST_CHECK"):
            current = names.get(arg, _MISSING)
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            if current is _MISSING:
                yield _Attribute(arg)
            else:
                current = _attribute(current, arg)
                if current is _MISSING:
                    yield _Attribute(arg)
        elif op == "IMPORT_NAME":
            top = arg if last_const else arg.split(".")[0]  # `from a.b import c` gives a.b
            current = last_module = sys.modules.get(top, _MISSING)
        elif op == "IMPORT_FROM":
            current = _attribute(last_module, arg)
        elif op.startswith("STORE_") and current is not _MISSING:
            names[arg] = current
            current = _MISSING
            continue
        elif op == "LOAD_CONST" and isinstance(arg, types.CodeType):
            yield from _scan(arg, globals_, names)
            current = _MISSING
        else:
            current = _MISSING
        last_const = arg if op == "LOAD_CONST" else None
        if current is not _MISSING:
            yield current


def _attribute(obj, name):
    if obj is _MISSING:
        return _MISSING
    try:
        return getattr(obj, name)
    except Exception:  # noqa: BLE001 -- a property that raises, a lazy import that fails: unknown
        return _MISSING


# ----------------------------------------------------------------------------------------------
# Matching what was reached against what is refused
# ----------------------------------------------------------------------------------------------


def _resolve_all(dotted_names):
    """``{dotted name: object}`` for the names that exist here (torch.func may not, say).

    A lab3 name that names nothing is a bug of the check (a module moved, a function renamed):
    it raises rather than silently refusing less.
    """
    resolved = {}
    for dotted in dotted_names:
        obj = _resolve(dotted)
        if obj is _MISSING and dotted.split(".")[0] == "lab3":
            raise LookupError(
                f"refused name {dotted!r} names nothing in lab3: update the check's "
                "refuse list to where it lives now"
            )
        if obj is not _MISSING:
            resolved[dotted] = _unwrap(obj)
    return resolved


def _resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = _attribute(obj, part)
        return obj
    return _MISSING


def _match(reached, rule, targets):
    """The name of the refused thing ``reached`` is, or ``None``."""
    if isinstance(reached, _Attribute):
        return f".{reached.name}" if reached.name in rule.attributes else None
    owner = (
        reached.__name__
        if isinstance(reached, types.ModuleType)
        else getattr(reached, "__module__", None)
    )
    for dotted, target in targets.items():
        if reached is target:
            return dotted
        if (
            isinstance(target, types.ModuleType)
            and isinstance(owner, str)
            and (owner == target.__name__ or owner.startswith(target.__name__ + "."))
        ):
            return f"{owner}.{getattr(reached, '__qualname__', '')}".rstrip(".")
    return None
