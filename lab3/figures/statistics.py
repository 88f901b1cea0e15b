"""Pictures of what ``lab3.training.statistics`` recorded: one run's ``Trace`` over the epochs, or
several ``Trace`` s side by side (one per initialisation, say).
"""

import matplotlib.pyplot as plt
import numpy as np


def plot_training_statistics(trace, title=None):
    """One figure of a ``Trace``: loss, singular values of the effective matrix, and per layer the
    activation RMS, the weight-gradient norm, the update-to-weight ratio and (hidden ReLU layers
    only; the panel is left out without them) the active fraction, all against the epoch.
    """
    has_relu = any(row["active_fraction"] is not None for row in trace.statistics[0])
    panels = 6 if has_relu else 5
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.6), constrained_layout=True)
    axes = axes.ravel()
    if not has_relu:
        axes[-1].remove()
    epochs = trace.epochs
    ax = axes[0]
    ax.semilogy(epochs, trace.loss, color="black", label="training-set mse")
    ax.set(xlabel="epoch", ylabel="mse (log scale)", title="loss")
    ax = axes[1]
    for k in range(trace.singular_values.shape[1]):
        ax.plot(epochs, trace.singular_values[:, k], label=f"singular value {k + 1}")
    ax.set(xlabel="epoch", ylabel="singular value", title="effective matrix")
    names = _layer_names(trace.statistics[0])
    _per_layer(
        axes[2],
        epochs,
        trace.series("activation_rms"),
        names,
        "activation RMS (log scale)",
        "size of each layer's output",
        log=True,
    )
    _per_layer(
        axes[3],
        epochs,
        trace.series("gradient_norm"),
        names,
        "||dmse/dW|| (log scale)",
        "weight-gradient norm",
        log=True,
    )
    _per_layer(
        axes[4],
        epochs[1:],
        trace.update_ratio,
        names,
        "||ΔW|| / ||W|| per epoch (log scale)",
        "update-to-weight ratio",
        log=True,
    )
    if has_relu:
        hidden = trace.series("active_fraction")
        keep = ~np.isnan(hidden[0])
        _per_layer(
            axes[5],
            epochs,
            hidden[:, keep],
            [n for n, k in zip(names, keep) if k],
            "fraction of z > 0",
            "active ReLUs (sample, unit)",
            log=False,
        )
        axes[5].set_ylim(-0.03, 1.03)
    for ax in axes[:panels]:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title or trace.label or "training statistics")
    return fig


def plot_init_comparison(traces, title=None):
    """Several ``Trace`` s in one figure (e.g. one per initialisation): activation RMS and
    weight-gradient norm by layer before training, and the loss over the epochs.

    ``traces`` is a list of ``Trace``; each one's ``label`` names it in the legends.
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), constrained_layout=True)
    for trace in traces:
        start = trace.statistics[0]
        layers = [row["layer"] for row in start]
        for ax, key in zip(axes[:2], ("activation_rms", "gradient_norm")):
            ax.semilogy(layers, [row[key] for row in start], marker="o", label=trace.label)
        axes[2].semilogy(trace.epochs, trace.loss, label=trace.label)
    names = _layer_names(traces[0].statistics[0])
    for ax in axes[:2]:
        ax.set_xticks(range(1, len(names) + 1), names)
        ax.set_xlabel("layer")
    axes[0].set(ylabel="activation RMS (log scale)", title="size of each layer's output at init")
    axes[1].set(ylabel="||dmse/dW|| (log scale)", title="weight-gradient norm at init")
    axes[2].set(xlabel="epoch", ylabel="training-set mse (log scale)", title="loss")
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def _layer_names(rows):
    return [f"hidden {row['layer']}" if row["kind"] == "hidden" else "output" for row in rows]


def _per_layer(ax, x, values, names, ylabel, title, log):
    """One line per layer (columns of ``values``) against ``x``."""
    for column, name in zip(values.T, names):
        ax.plot(x, column, label=name)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
