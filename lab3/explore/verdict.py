"""The verdict on one explorer run: what it did, why, and advice that helps when tried.

``classify(outcome)`` reads an ``Outcome`` (``lab3.explore.outcome``): its losses, matrix error,
dead units, reg cost and sharpness, and the reference's sharpness (``lab3.explore.reference``).
Every threshold is a named constant below; ``tests/test_explore_verdicts.py`` checks the verdicts
against runs four times longer, a smaller step, ``lab3.sharpness`` and a smaller reg.
"""

from lab3.curvature import stability_limit
from lab3.explore.reference import problem_key, reference

LEARNED_MATRIX_ERROR = 0.1  # "learned" when ||effective matrix - true matrix||_F is below this
LEARNED_LOSS = 0.01  # ... and the loss is below 1% of the targets' mean square
FALLING = 0.001  # "still learning" while the last quarter of the epochs lowered the loss by 0.1%+
PLATEAU = 0.05  # ... "on a plateau" when by less than 5%, far above the loss of the map
BARELY = 0.1  # "barely moved": the loss is still within 10% of where it started
RISE = 1.02  # "too large a step" when the loss ends 2% or more above where it started
STEP_MARGIN = 0.9  # "too large a step" at 90% of the stability limit and above
SAFE_SHARE = 0.25  # a 4x larger learning rate is advised only if it stays under 1/4 of the limit
REG_SHARE = 0.1  # "converged" (reg) when the penalty is more than 10% of the final loss...
CONVERGING = 0.1  # ... and the last quarter of the epochs lowered the loss by less than 10%


def learned(outcome):
    """The run learned the map: matrix error and loss both small (not after a divergence)."""
    o = outcome
    return (
        o.matrix_error is not None
        and o.matrix_error < LEARNED_MATRIX_ERROR
        and o.history.epoch_loss[-1] < LEARNED_LOSS * o.baseline
    )


def classify(outcome):
    """``(status, reason)``: what the run did, why, and advice that helps when tried.

    The statuses, in the order they are tested:

    * ``diverged``: the loss passed ``DIVERGENCE_BOUND`` (named with the stability limit, or
      with reg when ``reg`` alone makes every step grow the weights);
    * ``learned``: the effective matrix is within ``LEARNED_MATRIX_ERROR`` of the true one *and*
      the loss is under ``LEARNED_LOSS`` of the targets' mean square (an affine fit of a wild
      network can be close while its outputs are not);
    * ``too large a step``: the loss ended above where it started, or it oscillates with the
      learning rate at or above the stability limit ``2 / λ_max`` of the trained network;
    * ``stuck``: a whole hidden layer is dead (its output no longer depends on the input), or
      the loss stopped falling short of the map;
    * ``converged``: the loss stopped falling at the optimum of mse + reg, with reg large
      enough to keep the map from being learned;
    * ``still learning``: the loss still falls: more epochs help (the verdicts are checked
      against runs four times longer in ``tests/test_explore_verdicts.py``).
    """
    o, s = outcome, outcome.settings
    if o.diverged is not None:
        return "diverged", _diverged_reason(o)
    losses = [o.initial_loss, *o.history.epoch_loss]
    final = losses[-1]
    if learned(o):
        return "learned", (
            f"matrix error {o.matrix_error:.3g} < {LEARNED_MATRIX_ERROR:g} and loss {final:.3g} "
            f"after {s.epochs} epochs{_dead_note(o)}"
        )
    limit = stability_limit(o.sharpness) if o.sharpness is not None else None
    if final > RISE * losses[0]:
        return "too large a step", (
            f"the loss rose from {losses[0]:.3g} to {final:.3g}{_dead_note(o)}: "
            f"learning_rate={s.learning_rate:g} is too large{_limit_note(o, limit)}"
        )
    recent = _recent_change(losses)
    if limit is not None and s.learning_rate >= STEP_MARGIN * limit:
        return "too large a step", (
            f"the loss {_wobble(losses)}: learning_rate={s.learning_rate:g} is at or above "
            f"the stability limit{_limit_note(o, limit)}"
        )
    for layer, dead in enumerate(o.dead_after, start=1):
        if dead.all():
            return "stuck", _dead_layer_reason(o, layer, dead, final)
    if o.reg_cost > REG_SHARE * final and recent > -CONVERGING:
        return "converged", (
            f"the objective stopped falling at the optimum of mse + reg * sum ||W||^2 for "
            f"reg={s.reg:g}: the penalty ({o.reg_cost:.3g}) keeps the weights small, so the "
            f"map is only partly learned (loss {final:.3g}, matrix error {o.matrix_error:.3g}); "
            f"a smaller reg, e.g. reg={s.reg / 10:g}, learns it"
        )
    if recent <= -FALLING or final > (1 - BARELY) * losses[0]:
        return "still learning", _still_learning_reason(o, losses, recent, limit)
    return "stuck", (
        f"the loss stopped falling ({100 * recent:+.2f}% over the last {_tail(losses)} epochs) "
        f"at {final:.3g}, matrix error {o.matrix_error:.3g}{_dead_note(o)}"
    )


def _tail(losses):
    """How many epochs the recent change spans: the last quarter of the run, at least one."""
    return max(1, (len(losses) - 1) // 4)


def _recent_change(losses):
    """The relative change of the loss over the last quarter of the epochs (-0.1: fell 10%)."""
    before = losses[-1 - _tail(losses)]
    return losses[-1] / before - 1.0 if before > 0 else 0.0


def _wobble(losses):
    """How the loss moves: its largest jump back up between two epochs, if it made one."""
    rises = [
        (after / before, epoch)
        for epoch, (before, after) in enumerate(zip(losses, losses[1:]), start=1)
        if before > 0
    ]
    ratio, epoch = max(rises, default=(1.0, 0))
    if ratio > 1.05:
        return (
            f"jumps back up ({losses[epoch - 1]:.3g} -> {losses[epoch]:.3g} at epoch "
            f"{epoch}, now {losses[-1]:.3g})"
        )
    return f"falls slowly, and no lower than {losses[-1]:.3g}"


def _limit_note(outcome, limit):
    """The sharpness behind a too-large step, and the advice it gives: stay under the limit of
    this network and of one that has learned the map (sharpness grows as a network learns)."""
    learned = reference(problem_key(outcome.settings)).sharpness
    notes, limits = [], []
    if limit is not None:
        notes.append(
            f"this network's sharpness is lambda_max = {outcome.sharpness:.3g}, "
            f"stable below 2 / lambda_max = {limit:.2g}"
        )
        limits.append(limit)
    if learned is not None:
        notes.append(
            f"a network that learned this map has lambda_max = {learned:.3g}, "
            f"stable below {stability_limit(learned):.2g}"
        )
        limits.append(stability_limit(learned))
    if not limits:
        return ""
    return f" ({'; '.join(notes)}): try a learning rate below {min(limits):.2g}"


def _dead_note(outcome):
    return (
        f"; {outcome.dead_count} of {outcome.unit_count} hidden units dead"
        if (outcome.dead_count)
        else ""
    )


def _dead_layer_reason(outcome, layer, dead, final):
    s = outcome.settings
    if outcome.dead_before[layer - 1].all():
        cause = (
            f"they were dead from the start (init={s.init!r}): the signal fades through the "
            "layers; init='he' keeps it alive"
        )
    else:
        cause = (
            f"a step too large for them pushed every input below zero: a smaller learning rate, "
            f"e.g. learning_rate={s.learning_rate / 4:g}"
        )
    return (
        f"all {dead.size} units of hidden layer {layer} are dead (off on every sample), so the "
        f"output no longer depends on the input (loss {final:.3g}); {cause}"
    )


def _still_learning_reason(outcome, losses, recent, limit):
    s = outcome.settings
    if losses[-1] > (1 - BARELY) * losses[0]:
        where = f"barely moved from {losses[0]:.3g}, steps too small for this start: "
    elif losses[-1] > 0.5 * losses[0] and recent > -PLATEAU:
        where = "on a plateau: "
    else:
        where = ""
    advice = f"more epochs, e.g. epochs={4 * s.epochs}"
    if limit is not None and 4 * s.learning_rate <= SAFE_SHARE * limit:
        advice += (
            f", or a larger learning rate, e.g. learning_rate={4 * s.learning_rate:g} (far "
            f"below the stability limit {limit:.2g})"
        )
    return (
        f"{where}the loss fell {-100 * recent:.2g}% over the last {_tail(losses)} epochs (now "
        f"{losses[-1]:.3g}, matrix error {outcome.matrix_error:.3g}){_dead_note(outcome)}: "
        f"{advice}"
    )


def _diverged_reason(outcome):
    s = outcome.settings
    epoch, step, loss = outcome.diverged
    where = f"the loss passed 1e12 at epoch {epoch}, step {step} (loss {loss:.3g}): "
    if s.learning_rate * s.reg >= 1.0:
        return where + (
            f"reg={s.reg:g} is too large for learning_rate={s.learning_rate:g}: each step "
            f"multiplies every weight by 1 - 2 * learning_rate * reg = "
            f"{1 - 2 * s.learning_rate * s.reg:.3g}, which grows them whatever the data; "
            f"try reg below {1 / s.learning_rate:.3g}"
        )
    limit = stability_limit(outcome.sharpness) if outcome.sharpness is not None else None
    note = (
        f" (the network's sharpness at the start is lambda_max = {outcome.sharpness:.3g}, "
        f"stability limit 2 / lambda_max = {limit:.2g}; it grows as the network learns)"
        if limit is not None
        else ""
    )
    return where + f"learning_rate={s.learning_rate:g} is too large here{note}"
