"""The sweep file: read it, check its shape, refuse what cannot run (before anything runs).

A sweep file (YAML) names the sweep, the notebook and the values::

    name: default                          # the runs go to <runs dir>/default/
    notebook: notebooks/04_batched_sgd.ipynb   # relative to the project (or absolute)
    grid:                                  # one run per combination (Cartesian product)
      batch_size: [1, 10, 100, 1000]
      learning_rate: [0.01, 0.1, 0.5]
    fixed:                                 # the same in every run
      engine: manual

Everything a user can get wrong gives a ``SweepError`` with a one-line reason: duplicate keys,
unknown keys, a grid with no values or more than ``max_runs`` runs (counted before expanding it),
values too big to print or compare (a YAML alias bomb), a notebook outside the project, a binary
file. Values in messages are cut short (``short``). Checking values against the notebook is
``lab3.sweep.validate``.
"""

import difflib
import itertools
import math
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REQUIRED_KEYS = ("name", "notebook", "grid")
OPTIONAL_KEYS = ("fixed",)
MAX_RUNS = 10_000  # a bigger grid is refused unless --max-runs says otherwise
MAX_NAME = 100  # characters of a sweep name (a folder name; file systems allow 255 bytes)
MAX_ITEMS = 1_000  # scalars in one value, counted through lists and mappings (aliases included)
MAX_FILE_BYTES = 1_000_000
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PROJECT_MARKERS = ("pyproject.toml", ".git")
# lab3's own project (the folder holding notebooks/): a sweep file anywhere may name its notebooks
LAB3_PROJECT = Path(__file__).resolve().parents[2]

_repr = reprlib.Repr()
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 60, 60, 6, 6, 2
_repr.maxlong = 40


class SweepError(ValueError):
    """A sweep that cannot run; the message says what to change. Nothing has run."""


def short(value, limit=120):
    """``repr(value)`` cut to ``limit`` characters, whatever the value's size (never slow)."""
    text = _repr.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep file.

    ``notebook`` is an absolute path; ``grid`` maps a parameter to its list of values (the runs
    are the Cartesian product, in the file's order); ``fixed`` maps a parameter to its value in
    every run. ``validate`` fills ``defaults`` (the notebook's own parameter values) and converts
    ints given for float parameters to floats; ``validated`` tells that it was done.
    """

    name: str
    notebook: Path
    grid: dict
    fixed: dict = field(default_factory=dict)
    source: Path = None
    defaults: dict = None
    validated: bool = False

    @property
    def size(self):
        """The number of runs, without expanding the grid."""
        return math.prod(len(values) for values in self.grid.values())

    def points(self):
        """The explicit parameters of every run (grid values, then the fixed ones), in order,
        one at a time: a grid of a million runs is never held as a table."""
        names = list(self.grid)
        for values in itertools.product(*(self.grid[n] for n in names)):
            yield {**dict(zip(names, values)), **self.fixed}


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a mapping with the same key twice (YAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: construct_mapping says so below
                continue
            if duplicate:
                raise SweepError(
                    f"line {key_node.start_mark.line + 1}: the key {short(key)} "
                    "appears twice in one mapping; keep one"
                )
        return super().construct_mapping(node, deep=deep)


def load_sweep(path, max_runs=MAX_RUNS):
    """Read a sweep YAML file into a ``Sweep``, or raise ``SweepError`` saying what is wrong.

    Keys: ``name`` (a folder name of at most ``MAX_NAME`` characters), ``notebook`` (absolute,
    or relative to the sweep file's folder or a folder above it inside the project), ``grid``
    (name -> non-empty list of distinct values; at least one name; at most ``max_runs`` runs)
    and, optionally, ``fixed`` (name -> value). Any other key is refused.
    """
    path = Path(path)
    data = _read_yaml(path)
    _check_keys(path, data)
    name = _check_name(path, data["name"])
    grid = _check_grid(path, data["grid"])
    fixed = _mapping(path, "fixed", data.get("fixed"))
    _check_sizes(path, grid, fixed, max_runs)
    _check_distinct(path, grid, fixed)
    notebook = _resolve_notebook(path, data["notebook"])
    return Sweep(name=name, notebook=notebook, grid=grid, fixed=fixed, source=path.resolve())


def _check_keys(path, data):
    """Refuse a file that is not a mapping, or has a key too many or too few."""
    allowed = REQUIRED_KEYS + OPTIONAL_KEYS
    if not isinstance(data, dict):
        raise SweepError(
            f"{path}: a sweep file is a mapping with the keys {', '.join(allowed)}; "
            f"this one holds a {type(data).__name__}"
        )
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise SweepError(
            f"{path}: unknown key {short(unknown[0])}"
            f"{_did_you_mean(unknown[0], allowed)} (a sweep file has the keys "
            f"{', '.join(allowed)})"
        )
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise SweepError(
            f"{path}: missing key {missing[0]!r} (a sweep file needs "
            f"{', '.join(REQUIRED_KEYS)}; {', '.join(OPTIONAL_KEYS)} is optional)"
        )


def _check_name(path, name):
    """The sweep's name, which names its folder: a short, safe file name."""
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or len(name) > MAX_NAME:
        raise SweepError(
            f"{path}: name={short(name)} is not allowed: it names the sweep's "
            f"folder, so use at most {MAX_NAME} letters, digits, '.', '_' and '-' "
            "(not starting with '.' or '-')"
        )
    return name


def _check_grid(path, value):
    """The grid as a dict: at least one name, each with a non-empty list of values."""
    grid = _mapping(path, "grid", value)
    if not grid:
        raise SweepError(
            f"{path}: the grid is empty: list at least one parameter with its "
            "values, e.g. grid: {learning_rate: [0.1, 0.5]}"
        )
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(
                f"{path}: grid {key!r} must be a non-empty list of values, got "
                f"{short(values)} (write {key}: [{short(values)}], or move it to "
                "fixed)"
            )
    return grid


def _check_sizes(path, grid, fixed, max_runs):
    """Refuse a value with more than ``MAX_ITEMS`` items, or a grid of more than ``max_runs``."""
    for where, mapping in (("grid", grid), ("fixed", fixed)):
        for key, value in mapping.items():
            if _count_items(value, MAX_ITEMS + 1) > MAX_ITEMS:
                raise SweepError(
                    f"{path}: {where} {key!r} is too large (more than {MAX_ITEMS} "
                    f"values, counting nested ones): {short(value)}"
                )
    size = math.prod(len(values) for values in grid.values())
    if size > max_runs:
        raise SweepError(
            f"{path}: the grid has {size} runs, more than the limit of {max_runs} "
            "(raise it with --max-runs if you mean it)"
        )


def _check_distinct(path, grid, fixed):
    """Refuse a grid value listed twice, or a name both in grid and in fixed."""
    for key, values in grid.items():
        seen = []
        for value in values:
            if any(_same_value(value, other) for other in seen):
                raise SweepError(f"{path}: grid {key!r} lists the value {short(value)} twice")
            seen.append(value)
    both = [key for key in grid if key in fixed]
    if both:
        raise SweepError(f"{path}: {both[0]!r} is both in grid and in fixed; keep one")


def _read_yaml(path):
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SweepError(f"cannot read the sweep file {path}: {error.strerror or error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise SweepError(
            f"{path}: {len(raw)} bytes is too big for a sweep file (at most {MAX_FILE_BYTES})"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SweepError(f"{path} is not a text file (not UTF-8): a sweep file is YAML") from None
    if "\x00" in text:
        raise SweepError(f"{path} is not a text file (it holds NUL bytes): a sweep file is YAML")
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except SweepError as error:
        raise SweepError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise SweepError(f"{path} is not valid YAML: {short(str(error))}") from None
    except RecursionError:
        raise SweepError(f"{path}: its values are nested too deeply") from None


def _mapping(path, key, value):
    if value is None and key == "fixed":
        return {}
    if not isinstance(value, dict):
        raise SweepError(
            f"{path}: {key} must be a mapping of parameter names to "
            f"{'lists of values' if key == 'grid' else 'values'}, got {short(value)}"
        )
    for name in value:
        if not isinstance(name, str):
            raise SweepError(
                f"{path}: {key} has the key {short(name)}; parameter names are strings"
            )
    return dict(value)


def _count_items(value, budget):
    """Scalars in ``value``, counting through lists and mappings; stops once over ``budget``.

    An alias bomb (a list of aliases of lists of aliases...) is a few hundred bytes of YAML but
    billions of items once walked: the walk stops after ``budget`` of them.
    """
    count, stack = 0, [value]
    while stack and count < budget:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            count += 1
    return count


def _same_value(a, b):
    """Equal as values, but True is not 1 (both would otherwise count as one grid value)."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def project_root(folder):
    """The project a sweep file belongs to: the nearest folder at or above ``folder`` holding
    ``pyproject.toml`` or ``.git``; ``folder`` itself when there is none."""
    folder = Path(folder).resolve()
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder


def _resolve_notebook(path, notebook):
    """The notebook's absolute path: absolute as given, else relative to the sweep file's folder
    or a folder above it inside its project, else to lab3's own project or its ``notebooks/``
    (so ``notebook: 04_batched_sgd.ipynb`` works from a sweep file in any folder)."""
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise SweepError(
            f"{path}: notebook={short(notebook)} is not allowed: the path of a .ipynb file"
        )
    if Path(notebook).is_absolute():
        if Path(notebook).is_file():
            return Path(notebook).resolve()
        raise SweepError(f"{path}: notebook {short(notebook)} not found")
    folder = path.resolve().parent
    root = project_root(folder)
    bases = [folder, *[p for p in folder.parents if p.is_relative_to(root)]]
    for base in bases:
        candidate = (base / notebook).resolve()
        if not candidate.is_relative_to(root):
            raise SweepError(
                f"{path}: notebook {short(notebook)} is outside the project "
                f"{root}: give a path inside it, or an absolute path"
            )
        if candidate.is_file():
            return candidate
    lab3_notebooks = LAB3_PROJECT / "notebooks"
    for base in (LAB3_PROJECT, lab3_notebooks):
        candidate = (base / notebook).resolve()
        if candidate.is_relative_to(LAB3_PROJECT) and candidate.is_file():
            return candidate
    raise SweepError(
        f"{path}: notebook {short(notebook)} not found (looked in {folder} and the "
        f"folders above it up to the project {root}, and in {lab3_notebooks}): "
        f"write a lesson's file name such as 04_batched_sgd.ipynb, or an absolute "
        "path"
    )


def _did_you_mean(word, choices):
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
