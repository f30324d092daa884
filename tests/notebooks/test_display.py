"""What tinyann shows differently in a notebook: the progress bar on ipykernel's stream,
the summary's HTML blocks, plot_model's inline image (no kernel needed here)."""

from __future__ import annotations

import io
import re

import pytest

import tinyann as keras
from tinyann.utils import notebook_display, progbar
from tinyann.utils.notebook_display import DisplayImage, html_block, in_notebook

# a stream of the class ipykernel puts in sys.stdout (only its module name matters)
KernelStream = type("OutStream", (io.StringIO,), {"__module__": "ipykernel.iostream"})


class FakeClock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_in_a_kernel_the_bar_redraws_in_place_at_most_ten_times_a_second(monkeypatch):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)
    clock = FakeClock(0.001)  # each update one millisecond after the last: 2 s for 2000
    monkeypatch.setattr(progbar.time, "perf_counter", clock)
    stream = KernelStream()
    bar = progbar.Progbar(2000, stream=stream)
    assert bar.interactive and bar.interval == pytest.approx(0.1)
    for step in range(1, 2001):
        bar.update(step, {"loss": 1.0 / step})
    text = stream.getvalue()
    redraws = text.count("\r")
    assert 15 <= redraws <= 21  # ~2 s at 10 a second (the final line included)
    assert text.endswith("\n") and text.count("\n") == 1
    final = re.sub(r"\x1b\[[0-9;]*m", "", text.split("\r")[-1])
    assert final.startswith("2000/2000 ━━━━━━━━━━━━━━━━━━━━ ") and "loss: 5.0000e-04" in final


def test_a_file_still_gets_only_the_final_line(monkeypatch):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)
    stream = io.StringIO()
    bar = progbar.Progbar(50, stream=stream)
    for step in range(1, 51):
        bar.update(step)
    assert not bar.interactive and stream.getvalue().count("\n") == 1
    assert "\r" not in stream.getvalue()


def test_outside_a_kernel_nothing_is_a_notebook():
    assert not in_notebook()
    assert not notebook_display.is_kernel_stream(io.StringIO())
    assert notebook_display.is_kernel_stream(KernelStream())


def test_html_block_escapes_and_bolds_the_labels_as_rich_does():
    html = html_block(' Total params: 7,850 (30.66 KB)\n<x> & "y"',
                      bold_prefixes=(" Total params:",))
    assert html.startswith('<pre style="white-space:pre;overflow-x:auto;line-height:normal;')
    assert ('<span style="font-weight: bold"> Total params:</span> 7,850 (30.66 KB)\n'
            '&lt;x&gt; &amp; "y"</pre>\n') in html


def test_summary_in_a_notebook_displays_keras_blocks(monkeypatch):
    from tinyann.utils import summary

    shown = []
    monkeypatch.setattr(summary, "_in_notebook", lambda: True)
    monkeypatch.setattr(notebook_display, "display_text_blocks",
                        lambda blocks, bold_prefixes=(): shown.append(list(blocks)))
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)], name="seq")
    printed = []
    model.summary(print_fn=printed.append)
    model.summary()
    (blocks,) = shown
    assert "".join(blocks) == printed[0]  # the same text, cut where Keras cuts it
    assert blocks[0] == 'Model: "seq"\n' and blocks[1].startswith("┏")
    assert [b.split(":")[0] for b in blocks[2:]] == [
        " Total params", " Trainable params", " Non-trainable params"]


def test_plot_model_returns_an_image_a_notebook_shows(tmp_path):
    pytest.importorskip("matplotlib")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    image = keras.utils.plot_model(model, to_file=tmp_path / "m.png", dpi=40)
    assert isinstance(image, DisplayImage)
    assert image._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n" and image._repr_jpeg_() is None
    assert image.data == (tmp_path / "m.png").read_bytes()
    assert keras.utils.plot_model(model, to_file=tmp_path / "m.pdf") is None
    svg = keras.utils.plot_model(model, to_file=tmp_path / "m.svg")
    assert "<svg" in svg._repr_svg_() and svg._repr_png_() is None


def test_ipython_shows_the_image_as_png(tmp_path):
    pytest.importorskip("IPython")
    pytest.importorskip("matplotlib")
    from IPython.core.formatters import DisplayFormatter

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    image = keras.utils.plot_model(model, to_file=tmp_path / "m.png", dpi=40)
    data, _ = DisplayFormatter().format(image)
    assert data["image/png"] == image.data


def test_display_image_rejects_what_it_cannot_show(tmp_path):
    with pytest.raises(ValueError, match="received neither"):
        DisplayImage()
    with pytest.raises(ValueError, match=r"received format='pdf'"):
        DisplayImage(data=b"%PDF", format="pdf")
