"""The playground as one still picture (matplotlib), for where no kernel runs: a handout, a page.

``picture_png(session)`` draws what the live page draws at that moment, as a PNG: the network's
output over the plane with the train (white edge) and test (black edge) points, and the train and
test loss over the epochs so far.
"""

import io

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure  # no pyplot: drawn off-screen, no backend is touched

# TensorFlow Playground's colours: orange for negative / class 0, blue for positive / class 1
COLOURS = LinearSegmentedColormap.from_list("playground", ["#f59322", "#e8eaeb", "#0877bd"])


def picture_png(session, grid=48, dpi=72):
    """PNG bytes of ``session``'s plane (the first output channel) and loss curves."""
    figure = Figure(figsize=(8.0, 3.6), dpi=dpi, layout="constrained")
    plane, curves = figure.subplots(1, 2, width_ratios=[1, 1.3])
    out, _ = session.plane(grid)
    e = session.extent
    scale = 1.0 if session.classification else session.target_scale
    low = 0.0 if session.classification else -scale
    plane.imshow(  # paler than the points, as on the page, so that they show
        out[0],
        extent=(-e, e, -e, e),
        cmap=COLOURS,
        vmin=low,
        vmax=scale,
        alpha=0.6,
        interpolation="bilinear",
    )
    task = session.task
    for inputs, targets, edge in (
        (task.train_inputs, task.train_targets, "white"),
        (task.test_inputs, task.test_targets, "#222"),
    ):
        value = targets[1] if session.classification else targets[0]
        plane.scatter(
            *inputs.numpy(),
            c=value.numpy(),
            cmap=COLOURS,
            vmin=low,
            vmax=scale,
            s=12,
            edgecolors=edge,
            linewidths=0.6,
        )
    output = "P(class 1)" if session.classification else "output 1"
    plane.set_title(f"{task.name}: {output} over the plane", fontsize=10)
    plane.set_xlim(-e, e)
    plane.set_ylim(-e, e)
    epochs = np.arange(len(session.train_loss))
    curves.plot(epochs, session.train_loss, color="black", label="train")
    if session.test_loss:
        curves.plot(epochs, session.test_loss, color="#f59322", label="test")
    curves.set_yscale("log")
    curves.set_xlabel("epoch")
    curves.set_ylabel(task.loss)
    curves.legend(loc="upper right")
    curves.set_title(
        f"epoch {session.epoch}, {session.settings.activation} "
        f"{list(session.settings.hidden_sizes)}",
        fontsize=10,
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
