"""plot_plane's layout: the figure follows the data's shape, and nothing overlaps."""

import matplotlib.pyplot as plt
import pytest
import torch

import lab3
from lab3.figures.plane import plot_plane


def overlaps(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


SHEAR = torch.tensor([[1.0, 0.0], [0.8, 1.0]])


@pytest.mark.parametrize("matrix", [lab3.rotation_matrix(90), SHEAR])
def test_the_colour_note_and_the_axis_labels_do_not_overlap(matrix):
    model = lab3.MultiLayerPerceptron(seed=0)
    fig = plot_plane(model, matrix, initial_model=model, title="plane")
    renderer = fig.canvas.get_renderer()
    note = fig.texts[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not overlaps(note, ax.xaxis.label.get_window_extent(renderer))
        assert not overlaps(note, ax.get_tightbbox(renderer))
    plt.close(fig)


def test_a_wide_image_gets_a_shorter_figure_not_empty_bands():
    model = lab3.MultiLayerPerceptron(seed=0)
    square = plot_plane(model, lab3.rotation_matrix(90)).get_size_inches()
    wide = plot_plane(model, torch.tensor([[2.0, 0.0], [0.0, 0.5]])).get_size_inches()
    plt.close("all")
    assert wide[0] == square[0] and wide[1] < 0.8 * square[1]
