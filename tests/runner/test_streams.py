"""Notebook text outputs: carriage returns applied when stored or logged, kept on a terminal."""

from __future__ import annotations

import io

from tinyann.runner.streams import TerminalEcho, final_text, tidy_streams


def test_final_text_keeps_each_line_as_it_shows_last():
    text = "Epoch 1/2\n1/9 ━\r9/9 ━━ done\nnext\r\n"
    assert final_text(text) == "Epoch 1/2\n9/9 ━━ done\nnext\n"
    assert final_text("no returns\n") == "no returns\n"
    assert final_text("a\rb\r") == "b"


def test_tidy_streams_merges_neighbours_of_one_name_and_keeps_order():
    notebook = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "Epoch 1/1\n"},
        {"output_type": "stream", "name": "stdout", "text": "\r1/2 ━"},
        {"output_type": "stream", "name": "stdout", "text": "\r2/2 ━━\n"},
        {"output_type": "display_data", "data": {"text/plain": "fig"}},
        {"output_type": "stream", "name": "stdout", "text": "after\n"},
    ]}, {"cell_type": "markdown"}]}
    tidy_streams(_Node(notebook))
    outs = notebook["cells"][0]["outputs"]
    assert [o["output_type"] for o in outs] == ["stream", "display_data", "stream"]
    assert outs[0]["text"] == "Epoch 1/1\n2/2 ━━\n" and outs[2]["text"] == "after\n"


class _Node(dict):
    """The attribute access nbformat's NotebookNode gives (``notebook.cells``)."""

    def __getattr__(self, name):
        return self[name]


class _Terminal(io.StringIO):
    def __init__(self, tty):
        super().__init__()
        self.tty = tty

    def isatty(self):
        return self.tty


def _stream(text, name="stdout"):
    return {"msg_type": "stream", "content": {"name": name, "text": text}}


def test_a_log_gets_final_lines_and_a_terminal_the_redraws():
    for tty, expected in ((False, "Epoch 1/1\n2/2 done\nOut[3]: 42\n"),
                          (True, "Epoch 1/1\n\r1/2\r2/2 done\nOut[3]: 42\n")):
        out, err = _Terminal(tty), _Terminal(tty)
        echo = TerminalEcho(out, err)
        echo.cell_start(0)
        for chunk in ("Epoch 1/1\n", "\r1/2", "\r2/2 done\n"):
            echo.message(_stream(chunk))
        echo.message({"msg_type": "execute_result",
                      "content": {"execution_count": 3, "data": {"text/plain": "42"}}})
        echo.cell_end()
        assert out.getvalue() == expected


def test_an_unfinished_line_is_written_when_the_cell_ends():
    out, err = _Terminal(False), _Terminal(False)
    echo = TerminalEcho(out, err)
    echo.message(_stream("warn", "stderr"))
    echo.message(_stream("partial"))
    assert out.getvalue() == "" and err.getvalue() == ""
    echo.cell_end()
    assert out.getvalue() == "partial\n" and err.getvalue() == "warn\n"
