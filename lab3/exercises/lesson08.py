"""Lesson 8's checked exercises: classification's three small tools, written by hand.

* ``check_cross_entropy_gradient``: the gradient of the mean softmax cross-entropy with respect
  to the logits, ``(softmax(logits) - onehot) / B``, computed stably (row max subtracted);
* ``check_accuracy``: the fraction of samples whose largest logit is at the target's class;
* ``check_normalise_split``: standardise a train and a test set with the train set's statistics
  only (no leakage of the test set into the preprocessing).

Arrays are numpy, one sample per row: logits and one-hot targets ``(B, k)``, inputs ``(n, d)``.
The cases vary ``B`` (1 and odd), ``k`` (2 and more) and the scale of the logits (large enough to
overflow ``exp`` unless the row max is subtracted). ``grading=True`` runs other cases.
"""

import numpy as np

from lab3.exercises.core import check_function
from lab3.exercises.delegation import lab3_version
from lab3.exercises.lesson02 import softmax_shifted_by
from lab3.functional import softmax

__all__ = ["check_accuracy", "check_cross_entropy_gradient", "check_normalise_split"]

# what the exercises ask students to write: lab3's own versions, and autograd, are refused
REFUSED_CROSS_ENTROPY = [
    lab3_version(
        "lab3.functional.cross_entropy",
        "lab3.backprop.cross_entropy_forward",
        "lab3.backprop.cross_entropy_backward",
    )
]
REFUSED_ACCURACY = [lab3_version("lab3.functional.accuracy")]


def _cross_entropy_gradient(onehot, logits, stable=True, mean=True, sign=1.0):
    """``(B, k)``: d mean cross-entropy / d logits (or a classic mistake's version; ``stable=False``
    computes the softmax without the row max subtracted, the classic overflow)."""
    probabilities = softmax(logits) if stable else softmax_shifted_by(lambda z: 0.0)(logits)
    grad = sign * (probabilities - onehot)
    return grad / len(logits) if mean else grad


def _onehot(labels, k):
    return np.eye(k)[labels]


def _classification_cases(rng, grading):
    """``{description: (onehot (B, k), logits (B, k))}`` over batch sizes, classes and scales."""
    shapes = (
        [(5, 3, 1.0), (1, 2, 2.0), (8, 4, 30.0)]
        if grading
        else [(4, 2, 1.0), (1, 3, 1.0), (7, 2, 3.0), (9, 5, 2.0), (3, 4, 800.0)]
    )
    cases = {}
    for batch, k, scale in shapes:
        labels = rng.integers(0, k, size=batch)
        logits = rng.normal(0.0, scale, size=(batch, k))
        cases[f"B={batch}, k={k}, logits of scale {scale:g}"] = (_onehot(labels, k), logits)
    return cases


def check_cross_entropy_gradient(candidate, grading=False):
    """Lesson 8: ``candidate(onehot, logits) -> dlogits`` ``(B, k)``, the gradient of
    ``mean over rows of -sum(onehot * log softmax(logits))`` with respect to ``logits``."""
    __tracebackhide__ = True
    cases = _classification_cases(np.random.default_rng(108 if grading else 8), grading)
    check_function(
        "my_cross_entropy_gradient",
        candidate,
        _cross_entropy_gradient,
        cases,
        hint=[
            "the result has the shape of the logits, (B, k). Differentiate the loss of one row "
            "first, then remember that the loss is a mean over the B rows.",
            "for one row, d/dz of -log softmax(z)[c] is softmax(z) minus the one-hot row; "
            "softmax(z) = exp(z) / sum(exp(z)) overflows for large z unless you subtract the "
            "row's largest entry first (that does not change softmax).",
            "per row: the softmax of the row (computed after shifting the row by its largest "
            "entry) minus the row's one-hot target; then every entry divided by the number of "
            "rows.",
        ],
        asks="derive the gradient of softmax cross-entropy by hand",
        refuse=REFUSED_CROSS_ENTROPY,
        mistakes=[
            (
                "forgot to divide by the batch size B: the loss is a mean over the rows",
                lambda y, z: _cross_entropy_gradient(y, z, mean=False),
            ),
            (
                "the sign is flipped: (onehot - softmax) is minus the gradient (it is the "
                "direction of descent)",
                lambda y, z: _cross_entropy_gradient(y, z, sign=-1.0),
            ),
            (
                "exp overflowed: subtract each row's maximum from the logits before exp (softmax "
                "does not change, exp stays at most 1)",
                lambda y, z: _cross_entropy_gradient(y, z, stable=False),
            ),
        ],
        rtol=1e-6,
        atol=1e-9,
    )


def _accuracy(onehot, logits, axis=1, fraction=True):
    """The fraction (or a classic mistake: the count) of rows whose largest logit is at the
    target's class."""
    right = np.argmax(logits, axis=axis) == np.argmax(onehot, axis=axis)
    return float(right.mean() if fraction else right.sum())


def check_accuracy(candidate, grading=False):
    """Lesson 8: ``candidate(onehot, logits) -> float`` in [0, 1], the fraction of rows whose
    largest logit is at the class of the one-hot target."""
    __tracebackhide__ = True
    rng = np.random.default_rng(118 if grading else 18)
    cases = _classification_cases(rng, grading)
    batch, k = (6, 6) if grading else (5, 5)  # square: B = k, one more shape
    cases[f"B={batch}, k={k} (as many rows as classes)"] = (
        _onehot(rng.integers(0, k, size=batch), k),
        rng.normal(size=(batch, k)),
    )
    check_function(
        "my_accuracy",
        candidate,
        _accuracy,
        cases,
        hint=[
            "one number between 0 and 1: the share of the B rows (samples) the network gets "
            "right. A row is right when its largest logit is where its one-hot target has its 1.",
            "compare the position of the largest entry of each row of logits with that of the "
            "same row of onehot; the rows are the samples, so look along axis 1.",
            "one yes or no per row (is the position of the row's largest logit that of its "
            "target's 1?), then the share of yes among the rows.",
        ],
        asks="compute the accuracy yourself",
        refuse=REFUSED_ACCURACY,
        mistakes=[
            (
                "that is the number of right rows, not the fraction: divide by B",
                lambda y, z: _accuracy(y, z, fraction=False),
            ),
            (
                "argmax ran along axis 0, over the samples: each sample is a row, its classes are "
                "along axis 1",
                lambda y, z: _accuracy(y, z, axis=0),
            ),
        ],
    )


def _normalise_split(train, test, fit="train"):
    """``(train', test')``: both standardised with the train set's per-feature mean and std
    (or a classic mistake: statistics of all the data, or each set with its own)."""
    train, test = np.asarray(train, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if fit == "train":
        mean, std = train.mean(axis=0), train.std(axis=0)
        return (train - mean) / std, (test - mean) / std
    if fit == "all":
        both = np.vstack([train, test])
        mean, std = both.mean(axis=0), both.std(axis=0)
        return (train - mean) / std, (test - mean) / std
    return (  # "each": every set with its own statistics
        (train - train.mean(axis=0)) / train.std(axis=0),
        (test - test.mean(axis=0)) / test.std(axis=0),
    )


def check_normalise_split(candidate, grading=False):
    """Lesson 8: ``candidate(train, test) -> (train_normalised, test_normalised)``: subtract the
    train set's per-feature mean and divide by its per-feature (population) std, on both sets."""
    __tracebackhide__ = True
    rng = np.random.default_rng(128 if grading else 28)
    sizes = [(9, 3, 4), (40, 2, 1)] if grading else [(10, 2, 5), (7, 3, 3), (25, 1, 1), (3, 4, 2)]
    cases = {}
    for n_train, d, n_test in sizes:
        shift, scale = rng.normal(0, 3, size=d), rng.uniform(0.5, 4.0, size=d)
        train = rng.normal(shift, scale, size=(n_train, d))
        test = rng.normal(shift + 1.0, scale, size=(n_test, d))  # shifted: leakage shows
        cases[f"{n_train} train and {n_test} test samples of {d} features"] = (train, test)
    check_function(
        "my_normalise_split",
        candidate,
        _normalise_split,
        cases,
        hint=[
            "two arrays back, shaped as the two given. The statistics must come from the train "
            "set alone: the test set stands for data you have not seen yet.",
            "a feature is a column: its mean and its standard deviation run over the rows "
            "(axis 0), and only over the train set's rows.",
            "shift both sets by the train set's column means and divide both by its column "
            "standard deviations (NumPy's default std, the population one): the test set's own "
            "statistics are never computed.",
        ],
        outputs=("train_normalised", "test_normalised"),
        asks="standardise the two sets yourself",
        mistakes=[
            (
                "the statistics came from train and test together: the test set leaked into the "
                "preprocessing (fit on the train set only)",
                lambda a, b: _normalise_split(a, b, fit="all"),
            ),
            (
                "each set was standardised with its own statistics: the test set must use the "
                "train set's mean and std (a single test sample would become all NaN)",
                lambda a, b: _normalise_split(a, b, fit="each"),
            ),
        ],
    )
