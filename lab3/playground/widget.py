"""``Playground``: the playground as a Jupyter widget (anywidget), drawn in the browser.

The page (``playground.js``, an ES module that anywidget loads) owns the controls and the
``<canvas>`` pictures. It sends small messages; the kernel answers each with a frame of compact
arrays (``lab3.playground.protocol``), which the page draws. The play loop runs in the page: after
a frame is drawn it asks for the next epoch on the next animation frame, so the kernel only ever
has one short request to handle and stays free for the next slider move. This works the same in
JupyterLab and in Voila (``make explore``), which need no thread or asyncio task in the kernel.

Outside a live kernel (a handout, a static page) the widget shows nothing; its display also
carries a PNG of the first frame (``lab3.playground.static``), which a static page shows instead.
"""

import base64
from pathlib import Path

import anywidget
import traitlets

from lab3.playground.protocol import GRID, Driver
from lab3.playground.static import picture_png

HERE = Path(__file__).parent


class Playground(anywidget.AnyWidget):
    """TensorFlow Playground's interaction on lab3's network. ``Playground()`` and display it.

    ``Playground(settings)`` starts from a ``PlaygroundSettings``. ``session`` is the run
    (``lab3.playground.Session``: its ``epoch``, ``train_loss``, ``test_loss``...),
    ``driver`` the message handling (``last_seq``, ``dropped``).
    """

    _esm = HERE / "playground.js"
    _css = HERE / "playground.css"
    choices = traitlets.Dict().tag(sync=True)  # what the page's controls offer

    def __init__(self, settings=None, **kwargs):
        from lab3.playground.settings import CHOICES  # noqa: PLC0415 -- next to its one use

        self.driver = Driver(settings)
        super().__init__(choices={name: list(values) for name, values in CHOICES.items()}, **kwargs)
        self.on_msg(self._on_msg)

    @property
    def session(self):
        return self.driver.session

    def _on_msg(self, widget, content, buffers):
        reply = self.driver.handle(content)
        if reply is not None:
            header, arrays = reply
            self.send(header, buffers=arrays)

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        png = picture_png(self.session, GRID)
        data["image/png"] = base64.b64encode(png).decode("ascii")
        return data, metadata
