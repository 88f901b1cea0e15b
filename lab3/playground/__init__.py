"""lab3's playground: TensorFlow Playground's interaction on the network the lab derives.

A task of the plane (``lab3.tasks``), a network of any width, depth and activation, and play /
pause / step / reset that train it epoch by epoch while the page redraws: the network's output over
the plane with the train and test points, every hidden unit's activation over the plane, and the
train and test loss. Sliders act while they are dragged; the newest position wins.

One module per floor (each imports only those above it):

* ``settings``: ``PlaygroundSettings`` (the knobs), ``validate_playground``, ``settings_from``;
* ``session``: ``Session``, one run: data, network, ``step``, ``apply``, the plane's numbers;
* ``protocol``: the page's messages and the kernel's frames (``Driver``, ``frame``);
* ``static``: the same as a still PNG (matplotlib), for where no kernel runs;
* ``widget``: ``Playground``, the anywidget that draws in the browser (``playground.js``).

``make explore`` serves ``app.ipynb`` (only the widget) as a web page with Voila
(``lab3.playground.serve``). The names below are imported lazily: ``Session`` needs no Jupyter.
"""

import importlib

_EXPORTS = {
    "Driver": "lab3.playground.protocol",
    "Playground": "lab3.playground.widget",
    "PlaygroundSettings": "lab3.playground.settings",
    "Session": "lab3.playground.session",
    "settings_from": "lab3.playground.settings",
    "validate_playground": "lab3.playground.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lab3.playground' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])
