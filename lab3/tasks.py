"""Tasks of the plane beside the lab's linear map: where hidden units pay off.

``make_task(name, n_samples, noise, test_fraction, seed)`` returns a ``Task``: training and test
data in the lab's ``(d, n)`` layout (one column per sample), the loss that suits it, and the
settings it was made with. The inputs are points of the plane, roughly in ``[-1, 1]^2``.

* ``"linear"``: the lab's data, ``lab3.create_linear_training_data`` (a 90 degree rotation), the
  default everywhere; an affine network solves it exactly.
* ``"swirl"``: regression too, but each point is rotated by an angle that grows with its radius,
  ``SWIRL_TURNS * 2 pi * |x|``: no affine map comes close.
* ``"circle"``, ``"xor"``, ``"gaussians"``, ``"spirals"``: two classes each (TensorFlow
  Playground's data sets), with one-hot ``(2, n)`` float32 targets, for softmax cross-entropy. The
  two classes get ``n // 2`` and ``n - n // 2`` points, in a random order. A line separates the
  two Gaussians; no line separates the circle from its ring, XOR's quadrants or the spirals.

``noise`` is the standard deviation of Gaussian noise: on the inputs for classification (points
jitter across the boundary), on the targets for regression (as ``create_linear_training_data``).

The split draws a permutation of the ``n`` samples from the seeded generator; its last
``round(test_fraction * n)`` indices are the test set, the others the training set, each kept in
the data's own order. No sample is in both, and ``test_fraction=0`` gives the whole data as it
was made (for ``"linear"``: the lab's data byte for byte).
"""

import math
from dataclasses import dataclass

import torch

from lab3.data import create_linear_training_data
from lab3.validation import (
    is_finite_number,
    require,
    require_count,
    require_nonnegative,
    require_seed,
)

TASKS = ("linear", "circle", "xor", "gaussians", "spirals", "swirl")
CLASSIFICATION = ("circle", "xor", "gaussians", "spirals")  # two classes each
REGRESSION = ("linear", "swirl")
MAX_TEST_FRACTION = 0.9  # at least a tenth of the data stays for training
MAX_NOISE = 10.0  # far beyond the data's own size (about 1): larger is a typo

INNER_RADIUS, OUTER_RADII = 0.5, (0.7, 1.0)  # circle: a disc, a gap, a ring around it
XOR_MARGIN = 0.05  # xor: no point closer than this to an axis, where the class flips
GAUSSIAN_CENTRE, GAUSSIAN_STD = 0.5, 0.25  # gaussians: centres (+-0.5, +-0.5)
SPIRAL_TURNS = 1.5  # spirals: how many times each arm winds around the origin
SWIRL_TURNS = 0.25  # swirl: rotation at radius 1, in turns (a quarter turn, like the lab's map)


@dataclass(frozen=True)
class TaskSettings:
    """What ``make_task`` was called with (checked, typed)."""

    name: str = "linear"
    n_samples: int = 1000
    noise: float = 0.0
    test_fraction: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Task:
    """A data set with its train/test split, in the lab's ``(d, n)`` layout.

    ``train_inputs`` ``(2, n_train)``, ``train_targets`` ``(k, n_train)``, ``test_inputs``
    ``(2, n_test)``, ``test_targets`` ``(k, n_test)`` (``n_test`` may be 0), all float32;
    ``kind`` is ``"regression"`` or ``"classification"``; ``loss`` is ``"mse"`` or
    ``"cross_entropy"``, the one ``lab3.train`` should use; ``num_outputs`` is ``k``.
    """

    name: str
    kind: str
    loss: str
    train_inputs: torch.Tensor
    train_targets: torch.Tensor
    test_inputs: torch.Tensor
    test_targets: torch.Tensor
    num_outputs: int
    settings: TaskSettings

    @property
    def n_train(self):
        return self.train_inputs.shape[1]

    @property
    def n_test(self):
        return self.test_inputs.shape[1]

    @staticmethod
    def labels(targets):
        """Class indices ``(n,)`` (int64) of one-hot ``(k, n)`` targets (or of ``(k, n)``
        outputs: the class of the largest entry)."""
        return torch.as_tensor(targets).argmax(dim=0)


def validate_task(name, n_samples, noise, test_fraction, seed):
    """Refuse a bad argument of ``make_task`` (naming it); return the checked ``TaskSettings``."""
    require(isinstance(name, str) and name in TASKS, "name", name, f"one of {TASKS}")
    require_count("n_samples", n_samples, "MAX_SAMPLES")
    require_nonnegative("noise", noise)
    require(noise <= MAX_NOISE, "noise", noise, f"a number from 0 to {MAX_NOISE:g}")
    require(
        is_finite_number(test_fraction) and 0 <= test_fraction <= MAX_TEST_FRACTION,
        "test_fraction",
        test_fraction,
        f"a number from 0 to {MAX_TEST_FRACTION} (the share of samples kept for testing)",
    )
    n_test = round(test_fraction * n_samples)
    require(
        n_samples - n_test >= 1,
        "n_samples",
        n_samples,
        f"enough samples to keep one for training after the test split ({n_test} test samples)",
    )
    require_seed(seed)
    return TaskSettings(name, int(n_samples), float(noise), float(test_fraction), int(seed))


def make_task(name="linear", n_samples=1000, noise=0.0, test_fraction=0.0, seed=0):
    """Make the task ``name`` (one of ``TASKS``) with ``n_samples`` points in all; see the module.

    Args:
        name: ``"linear"`` (the lab's), ``"circle"``, ``"xor"``, ``"gaussians"``, ``"spirals"``
            or ``"swirl"``.
        n_samples: samples before the split, 1 to ``lab3.validation.MAX_SAMPLES``.
        noise: standard deviation of Gaussian noise, 0 to ``MAX_NOISE`` (inputs for
            classification, targets for regression).
        test_fraction: share of the samples held out for testing, 0 to ``MAX_TEST_FRACTION``.
        seed: seed of a private generator (data, noise and split); the global RNG is left alone.

    Returns:
        A ``Task``. The same arguments always give the same tensors.
    """
    settings = validate_task(name, n_samples, noise, test_fraction, seed)
    if name == "linear":  # exactly the lab's data, then the split from a generator of its own
        inputs, targets = create_linear_training_data(n_samples, noise=settings.noise, seed=seed)
        generator = torch.Generator().manual_seed(seed)
    else:
        generator = torch.Generator().manual_seed(seed)
        inputs, targets = _MAKERS[name](settings.n_samples, settings.noise, generator)
    train, test = _split(settings, generator)
    classification = name in CLASSIFICATION
    return Task(
        name=name,
        kind="classification" if classification else "regression",
        loss="cross_entropy" if classification else "mse",
        train_inputs=inputs[:, train].contiguous(),
        train_targets=targets[:, train].contiguous(),
        test_inputs=inputs[:, test].contiguous(),
        test_targets=targets[:, test].contiguous(),
        num_outputs=targets.shape[0],
        settings=settings,
    )


def split_indices(n_samples, test_fraction, seed):
    """``(train, test)`` sorted index tensors of ``"linear"``'s split (``make_task``'s): for data
    made elsewhere (``lab3.experiment`` rotates by any angle) with the same split."""
    settings = validate_task("linear", n_samples, 0.0, test_fraction, seed)
    return _split(settings, torch.Generator().manual_seed(seed))


def _split(settings, generator):
    """``(train, test)`` sorted index tensors: the last ``round(fraction * n)`` of a permutation
    are the test set. With no test set the training set is ``range(n)``, the data unchanged."""
    n = settings.n_samples
    n_test = round(settings.test_fraction * n)
    if n_test == 0:
        return torch.arange(n), torch.arange(0)
    order = torch.randperm(n, generator=generator)
    return order[: n - n_test].sort().values, order[n - n_test :].sort().values


# ----------------------------------------------------------------------------------------------
# The data sets: each (n, noise, generator) -> (inputs (2, n), targets (k, n)) float32
# ----------------------------------------------------------------------------------------------


def _classes(n, generator):
    """``(labels, one_hot)``: ``n // 2`` zeros and ``n - n // 2`` ones in a random order (int64
    ``(n,)``) and their ``(2, n)`` float32 one-hot columns."""
    labels = torch.zeros(n, dtype=torch.int64)
    labels[n // 2 :] = 1
    labels = labels[torch.randperm(n, generator=generator)]
    one_hot = torch.zeros((2, n))
    one_hot[labels, torch.arange(n)] = 1.0
    return labels, one_hot


def _uniform(low, high, n, generator):
    return low + (high - low) * torch.rand(n, generator=generator)


def _jitter(points, noise, generator):
    """``points`` ``(2, n)`` plus Gaussian noise of standard deviation ``noise`` (none at 0)."""
    if noise > 0:
        points = points + noise * torch.randn(points.shape, generator=generator)
    return points


def _circle(n, noise, generator):
    """Class 0 fills the disc of radius ``INNER_RADIUS``, class 1 the ring ``OUTER_RADII``; the
    radius is drawn so that the points are uniform over each area."""
    labels, one_hot = _classes(n, generator)
    inner = INNER_RADIUS * torch.sqrt(torch.rand(n, generator=generator))
    low, high = OUTER_RADII
    outer = torch.sqrt(_uniform(low**2, high**2, n, generator))
    radius = torch.where(labels == 0, inner, outer)
    angle = _uniform(0.0, 2 * math.pi, n, generator)
    points = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)])
    return _jitter(points, noise, generator), one_hot


def _xor(n, noise, generator):
    """Class 0 where ``x1 * x2 > 0`` (first and third quadrants), class 1 in the other two; every
    coordinate at least ``XOR_MARGIN`` from 0."""
    labels, one_hot = _classes(n, generator)
    magnitude = _uniform(XOR_MARGIN, 1.0, (2, n), generator)
    sign_1 = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
    sign_2 = torch.where(labels == 0, sign_1, -sign_1)  # same signs: product > 0, class 0
    points = torch.stack([sign_1, sign_2]) * magnitude
    return _jitter(points, noise, generator), one_hot


def _gaussians(n, noise, generator):
    """Class 0 around ``(c, c)``, class 1 around ``(-c, -c)``, ``c = GAUSSIAN_CENTRE``, each of
    standard deviation ``GAUSSIAN_STD``: a line separates them (almost surely)."""
    labels, one_hot = _classes(n, generator)
    centre = torch.where(labels == 0, GAUSSIAN_CENTRE, -GAUSSIAN_CENTRE)
    points = centre + GAUSSIAN_STD * torch.randn((2, n), generator=generator)
    return _jitter(points, noise, generator), one_hot


def _spirals(n, noise, generator):
    """Two arms ``r = t``, ``angle = SPIRAL_TURNS * 2 pi * t + pi * label``, ``t`` in (0.1, 1]:
    the second arm is the first turned half a turn, so the two interleave."""
    labels, one_hot = _classes(n, generator)
    t = _uniform(0.1, 1.0, n, generator)
    angle = SPIRAL_TURNS * 2 * math.pi * t + math.pi * labels
    points = torch.stack([t * torch.cos(angle), t * torch.sin(angle)])
    return _jitter(points, noise, generator), one_hot


def _swirl(n, noise, generator):
    """Inputs uniform in ``[-1, 1)^2``; each is rotated counter-clockwise by ``SWIRL_TURNS * 2 pi
    * |x|`` (row-vector convention, as the lab's map): near the origin almost nothing turns, at
    radius 1 a quarter turn."""
    inputs = torch.rand((2, n), generator=generator) * 2 - 1
    angle = SWIRL_TURNS * 2 * math.pi * inputs.norm(dim=0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    x1, x2 = inputs
    targets = torch.stack([cos * x1 - sin * x2, sin * x1 + cos * x2])
    if noise > 0:
        targets = targets + noise * torch.randn((2, n), generator=generator)
    return inputs, targets


_MAKERS = {
    "circle": _circle,
    "xor": _xor,
    "gaussians": _gaussians,
    "spirals": _spirals,
    "swirl": _swirl,
}
