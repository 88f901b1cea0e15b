"""lab3.exercises: the checks behind the exercises say right, or say kindly what is wrong."""

import inspect
import re
import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch

import lab3
from lab3 import backprop, exercises
from lab3.exercises import CheckFailed, lesson04
from lab3.exercises.core import check_function
from lab3.exercises.hints import HINTS


def square(x):
    return x**2


def test_a_right_answer_prints_one_correct_line(capsys):
    check_function(
        "my_square",
        lambda x: x * x,
        square,
        {"small": (np.arange(3.0),), "big": (1e3,)},
        hint="multiply x by itself",
    )
    assert capsys.readouterr().out == "correct: my_square passes all 2 cases\n"


def test_an_unfinished_stub_is_not_done_yet(capsys):
    def stub(x):
        raise NotImplementedError("fill in my_square")

    with pytest.raises(CheckFailed) as error:
        check_function("my_square", stub, square, [(1.0,)], hint="multiply x by itself")
    assert str(error.value) == (
        "my_square is not done yet: fill in the cell above (it still raises NotImplementedError)."
    )
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert isinstance(error.value, AssertionError)
    assert error.value._render_traceback_() == [str(error.value)]  # what IPython shows: no frames
    assert capsys.readouterr().out == ""


TIERS = ["think of what x * x means", "multiply, do not add", "return x * x"]


def test_hints_come_in_tiers_from_vague_to_specific():
    messages = []
    for wrong in (1.0, 2.0, 3.0, 4.0):  # a different wrong answer each time
        with pytest.raises(CheckFailed) as error:
            check_function("my_square", lambda x: x + wrong, square, [(3.0,)], hint=TIERS)
        messages.append(str(error.value))
    assert messages[0].endswith(
        "Hint: think of what x * x means\n(hint 1 of 3: check again "
        "after your next try for a more specific one)"
    )
    assert "multiply, do not add" not in messages[0] and "return x * x" not in messages[0]
    assert messages[1].endswith(
        "Hints:\n  1. think of what x * x means\n  2. multiply, do not add"
        "\n(hint 2 of 3: check again after your next try for a more specific one)"
    )
    assert messages[2].endswith("  3. return x * x")
    assert messages[3].split("Hints:")[1] == messages[2].split("Hints:")[1]  # no tier 4


def test_the_same_wrong_answer_again_stays_at_the_same_tier():
    messages = []
    for _ in range(3):  # the cell run three times without a change
        with pytest.raises(CheckFailed) as error:
            check_function("my_square", lambda x: x + x, square, [(3.0,)], hint=TIERS)
        messages.append(str(error.value))
    assert all("Hint: think of what x * x means" in m for m in messages)
    assert not any("multiply, do not add" in m for m in messages)
    assert messages[1].endswith(
        "(hint 1 of 3: this answer was checked before; change it and "
        "check again for a more specific hint)"
    )
    with pytest.raises(CheckFailed, match="hint 2 of 3"):  # a changed answer earns the next one
        check_function("my_square", lambda x: x - 1, square, [(3.0,)], hint=TIERS)
    with pytest.raises(CheckFailed, match="hint 2 of 3"):  # and going back to the first does not
        check_function("my_square", lambda x: x + x, square, [(3.0,)], hint=TIERS)


def test_tiers_are_counted_per_exercise_and_start_again_after_success(capsys):
    for name in ("a", "b"):
        with pytest.raises(CheckFailed, match="hint 1 of 3"):
            check_function(name, lambda x: x + x, square, [(3.0,)], hint=TIERS)
    with pytest.raises(CheckFailed, match="hint 2 of 3"):
        check_function("a", lambda x: x - x, square, [(3.0,)], hint=TIERS)
    with pytest.raises(CheckFailed, match="not done yet"):  # an untouched stub is no try
        check_function(
            "a", lambda x: exec("raise NotImplementedError"), square, [(3.0,)], hint=TIERS
        )
    check_function("a", lambda x: x * x, square, [(3.0,)], hint=TIERS)
    with pytest.raises(CheckFailed, match="hint 1 of 3"):
        check_function("a", lambda x: x + x, square, [(3.0,)], hint=TIERS)
    exercises.reset_hints("b")
    with pytest.raises(CheckFailed, match="hint 1 of 3"):
        check_function("b", lambda x: x + x, square, [(3.0,)], hint=TIERS)


@pytest.mark.parametrize("hint", ["", [], ["ok", ""], [3]])
def test_a_bad_hint_is_refused(hint):
    with pytest.raises(ValueError, match="hint=.* is not allowed"):
        check_function("f", square, square, [(1.0,)], hint=hint)


def test_a_wrong_value_names_the_output_the_case_the_index_and_the_hint():
    wrong = lambda x: x * 2
    with pytest.raises(AssertionError) as error:
        check_function(
            "my_square", wrong, square, {"0 to 2": (np.arange(3.0),)}, hint="multiply x by itself"
        )
    assert str(error.value) == (
        "my_square is not right yet: the result differs from the expected values at index (1,): "
        "you return 2, expected 1\n  in case: 0 to 2\nHint: multiply x by itself"
    )


def test_a_wrong_shape_is_reported_before_any_value():
    with pytest.raises(AssertionError, match=r"the result has shape \(1, 3\), expected \(3,\)"):
        check_function("my_square", lambda x: (x * x)[None], square, [(np.arange(3.0),)], hint="h")


def test_named_outputs_are_compared_one_by_one():
    reference = lambda x: (x + 1, x - 1)
    with pytest.raises(
        AssertionError, match="it returned 1 values; expected 2 values \\(up, down\\)"
    ):
        check_function(
            "f", lambda x: (x + 1,), reference, [(1.0,)], hint="h", outputs=("up", "down")
        )
    with pytest.raises(AssertionError, match="it returned ndarray; expected 2 values"):
        check_function(
            "f", lambda x: x, reference, [(np.ones(2),)], hint="h", outputs=("up", "down")
        )
    with pytest.raises(AssertionError, match="down differs from the expected values"):
        check_function(
            "f", lambda x: (x + 1, x), reference, [(1.0,)], hint="h", outputs=("up", "down")
        )


def test_none_and_nan_are_explained():
    with pytest.raises(AssertionError, match=r"got None \(did you forget a return\?\)"):
        check_function("f", lambda x: None, square, [(1.0,)], hint="h")
    with pytest.raises(AssertionError, match="contains NaN or infinite values"):
        check_function("f", lambda x: x * np.nan, square, [(np.ones(2),)], hint="h")


def test_an_exception_in_the_students_code_is_explained_and_chained():
    def broken(x):
        return x @ np.ones((5, 5))

    with pytest.raises(CheckFailed) as error:
        check_function("my_square", broken, square, {"a vector of 3": (np.ones(3),)}, hint="h")
    assert str(error.value).startswith("my_square raised ValueError: ")
    assert "\n  in case: a vector of 3\nHint: h" in str(error.value)
    assert isinstance(error.value.__cause__, ValueError)
    shown = "\n".join(error.value._render_traceback_())  # outside IPython: plain frames
    assert "return x @ np.ones((5, 5))" in shown and shown.endswith(str(error.value))
    assert "lab3/exercises" not in shown  # none of the checks' frames


def test_a_candidate_that_is_not_a_function_is_named():
    with pytest.raises(CheckFailed, match=r"my_square should be a function .* got ndarray of"):
        check_function("my_square", np.ones(3), square, [(1.0,)], hint="h")


def test_the_reference_failing_is_not_the_students_fault():
    def reference(x):
        raise KeyError("bug in the reference")

    with pytest.raises(KeyError):
        check_function("f", square, reference, [(1.0,)], hint="h")


def test_every_call_gets_its_own_copy_of_the_arguments_and_must_leave_it_unchanged():
    def in_place(x):
        x *= x
        return x

    data = np.arange(4.0)
    with pytest.raises(CheckFailed, match="it changed its argument x in place"):
        check_function("f", in_place, square, [(data,)], hint="h")
    assert np.array_equal(data, np.arange(4.0))
    check_function("f", in_place, square, [(data,)], hint="h", may_change=(0,))  # allowed
    assert np.array_equal(data, np.arange(4.0))


def test_tensors_and_lists_are_compared_as_arrays():
    check_function("f", lambda x: torch.tensor(x) ** 2, square, [(np.arange(3.0),)], hint="h")
    check_function("f", lambda x: [list(x**2)], lambda x: [x**2], [(np.arange(3.0),)], hint="h")
    with pytest.raises(AssertionError, match=r"the result\[0\] differs"):
        check_function("f", lambda x: [x], lambda x: [x**2], [(np.arange(3.0),)], hint="h")
    with pytest.raises(AssertionError, match="should be a list of 1 arrays"):
        check_function("f", lambda x: x, lambda x: [x**2], [(np.arange(3.0),)], hint="h")


def test_tolerances():
    check_function("f", lambda x: x * (1 + 1e-7), lambda x: x, [(np.ones(3),)], hint="h")
    with pytest.raises(AssertionError):
        check_function(
            "f", lambda x: x * (1 + 1e-7), lambda x: x, [(np.ones(3),)], hint="h", rtol=1e-9
        )


# ----------------------------------------------------------------------------------------------
# Every lesson's checks: kind to a stub, vague at the first wrong answer
# ----------------------------------------------------------------------------------------------

CHECKS = sorted(
    name for name in exercises.__all__ if name.startswith("check_") and name != "check_function"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def not_done(*args, **kwargs):
    raise NotImplementedError("fill in the cell above")


def returns_none(*args, **kwargs):
    return None


def test_there_are_checks():
    assert {"check_relu_backward", "check_linear_backward", "check_minibatch_sgd"} <= set(CHECKS)


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_says_not_done_to_a_stub_and_gives_only_the_first_hint_to_a_wrong_answer(check):
    function = getattr(exercises, check)
    with pytest.raises(CheckFailed, match=exercises.NOT_DONE):
        function(not_done)
    HINTS.clear()
    with pytest.raises(CheckFailed) as error:
        function(returns_none)
    assert "did you forget a return" in str(error.value) or "returned NoneType" in str(error.value)
    for name, tiers in HINTS.items():  # the exercises this check compared
        assert len(tiers) >= 2, f"{check}: give {name} hints in tiers, from vague to specific"
        assert tiers[0] in str(error.value) and tiers[-1] not in str(error.value), check


@pytest.mark.slow
def test_in_a_kernel_a_failed_check_shows_its_message_and_no_source_of_lab3(tmp_path):
    from nbclient import NotebookClient

    cells = [
        "from lab3 import exercises",
        "def my_relu_backward(dout, z):\n    raise NotImplementedError('fill in')",
        "exercises.check_relu_backward(my_relu_backward)",
        "def my_relu_backward(dout, z):\n    return dout @ z",
        "exercises.check_relu_backward(my_relu_backward)",
        "exercises.check_relu_backward(lambda dout, z: dout)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="lab3", timeout=120, allow_errors=True).execute()
    errors = [o for c in nb.cells for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["CheckFailed"] * 3
    stub, raised, wrong = (ANSI.sub("", "\n".join(e.traceback)) for e in errors)
    assert (
        stub == "my_relu_backward is not done yet: fill in the cell above "
        "(it still raises NotImplementedError)."
    )
    assert "In[4], line 2" in raised and "dout @ z" in raised  # the student's own frame
    assert wrong.startswith("my_relu_backward is not right yet: ")
    source_lines = (
        inspect.getsource(exercises.core).splitlines()
        + inspect.getsource(exercises.lesson01).splitlines()
    )
    for shown in (stub, raised, wrong):
        assert "lab3/exercises" not in shown and "check_function(" not in shown
        assert not any(
            line.strip() and line.strip() in shown
            for line in source_lines
            if line.strip().startswith(("raise", "check_function", "got ="))
        )


# ----------------------------------------------------------------------------------------------
# The lessons' checks
# ----------------------------------------------------------------------------------------------


def test_relu_backward_check(capsys):
    exercises.check_relu_backward(lambda dout, z: dout * (z > 0))
    exercises.check_relu_backward(
        lambda dout, z: torch.relu(torch.as_tensor(z)).sign() * torch.as_tensor(dout)
    )
    assert capsys.readouterr().out.count("correct: my_relu_backward passes all 4 cases\n") == 2
    with pytest.raises(AssertionError) as error:
        exercises.check_relu_backward(lambda dout, z: dout * (z >= 0))  # slope 1 at the kink
    assert "in case: z with entries exactly 0 (the kink)" in str(error.value)
    with pytest.raises(AssertionError, match="the result differs"):
        exercises.check_relu_backward(lambda dout, z: (z > 0).astype(float))  # forgot dout


def test_linear_backward_check(capsys):
    right = lambda delta, a, W: (delta @ W.T, a.T @ delta, delta.sum(axis=0, keepdims=True))
    exercises.check_linear_backward(right)
    assert capsys.readouterr().out == "correct: my_linear_backward passes all 4 cases\n"
    with pytest.raises(AssertionError, match=r"db has shape \(2,\), expected \(1, 2\)"):
        exercises.check_linear_backward(
            lambda delta, a, W: (delta @ W.T, a.T @ delta, delta.sum(axis=0))
        )
    with pytest.raises(AssertionError, match=r"dW has shape \(2, 3\), expected \(3, 2\)"):
        exercises.check_linear_backward(
            lambda delta, a, W: (delta @ W.T, delta.T @ a, delta.sum(0, keepdims=True))
        )
    with pytest.raises(AssertionError, match="db differs"):  # averaged instead of summed
        exercises.check_linear_backward(
            lambda delta, a, W: (delta @ W.T, a.T @ delta, delta.mean(0, keepdims=True))
        )


def minibatch_sgd(
    weights, biases, inputs, targets, epochs, batch_size, learning_rate, reg, drop_last=False
):
    n = inputs.shape[1]
    for _ in range(epochs):
        for s in range(0, n - (n % batch_size if drop_last else 0), batch_size):
            x, y = inputs[:, s : s + batch_size].T, targets[:, s : s + batch_size].T
            dW, db = lab3.gradients(weights, biases, x, y, reg=reg)
            for p, g in zip(weights + biases, dW + db):
                p -= learning_rate * g
    return weights, biases


def test_minibatch_sgd_check(capsys):
    exercises.check_minibatch_sgd(minibatch_sgd)
    assert capsys.readouterr().out == "correct: minibatch_sgd passes all 2 cases\n"
    with pytest.raises(AssertionError) as error:
        exercises.check_minibatch_sgd(lambda *args: minibatch_sgd(*args, drop_last=True))
    assert "in case: 1 epoch of batches of 300 (the last batch has 100 samples)" in str(error.value)
    with pytest.raises(AssertionError, match="weights\\[0\\] differs"):  # no penalty
        exercises.check_minibatch_sgd(lambda *args: minibatch_sgd(*args[:-1], 0.0))
    with pytest.raises(AssertionError, match="minibatch_sgd raised ValueError: x has shape"):
        exercises.check_minibatch_sgd(lambda w, b, x, y, *rest: minibatch_sgd(w, b, x.T, y, *rest))


def test_reference_minibatch_sgd_is_lab3_train():
    inputs, targets = lab3.create_linear_training_data(200, seed=3)
    model = lab3.MultiLayerPerceptron(2, [4, 3], 2, seed=3)
    start = (
        [w.detach().double().numpy() for w in model.weights],
        [b.detach().double().numpy() for b in model.biases],
    )
    weights, biases = lesson04._minibatch_sgd(*start, inputs, targets, 3, 64, 0.1, 0.01)
    lab3.train(
        model,
        inputs,
        targets,
        epochs=3,
        batch_size=64,
        learning_rate=0.1,
        reg=0.01,
        engine="manual",
    )
    for got, want in zip(weights + biases, model.weights + model.biases):
        np.testing.assert_array_equal(got, want.detach().double().numpy())
    assert np.array_equal(
        start[0][0],
        lab3.MultiLayerPerceptron(2, [4, 3], 2, seed=3).weights[0].detach().double().numpy(),
    )
    mine = minibatch_sgd(*start, inputs, targets, 3, 64, 0.1, 0.01)
    for got, want in zip(mine[0] + mine[1], weights + biases):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_the_checks_agree_with_backprop():
    # The references are lab3's own layer functions, so the checks test what lesson 1 derived.
    rng = np.random.default_rng(0)
    z, dout = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_array_equal(backprop.relu_backward(dout, z), dout * (z > 0))


def test_lab3_and_its_exercises_import_nothing_of_jupyter():
    # lab3.handouts is the only module that may import nbconvert; the core and the checks do not.
    code = (
        "import sys, lab3, lab3.exercises; "
        "print([m for m in ('nbconvert', 'nbformat', 'jupyter_client', 'jupyter_core', 'IPython') "
        "if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
