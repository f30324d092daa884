"""A notebook's text outputs: echoed to the terminal as they come, tidied when stored.

Progress bars redraw their line with a carriage return. A terminal shows that as
it is; a log file (not a terminal) gets only each line's final state; a stored
notebook gets what Jupyter shows (:func:`tidy_streams`): adjacent stream outputs
merged, each line as it looked last, so a 5-epoch fit keeps ten lines.
"""

from __future__ import annotations

__all__ = ["TerminalEcho", "final_text", "tidy_streams"]


def _final_line(line: str) -> str:
    """What a terminal shows of one line after its carriage returns."""
    parts = [part for part in line.split("\r") if part]
    return parts[-1] if parts else ""


def final_text(text: str) -> str:
    """``text`` with every line as it shows after its carriage returns (``\\r\\n`` is a
    line end)."""
    text = text.replace("\r\n", "\n")
    if "\r" not in text:
        return text
    return "\n".join(_final_line(line) for line in text.split("\n"))


def tidy_streams(notebook) -> None:
    """Merges adjacent stream outputs of each cell with the same name and applies their
    carriage returns, in place."""
    for cell in notebook.cells:
        outputs = cell.get("outputs")
        if not outputs:
            continue
        merged = []
        for out in outputs:
            if (out.get("output_type") == "stream" and merged
                    and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                merged[-1]["text"] += out["text"]
            else:
                merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = final_text(out["text"])
        cell["outputs"] = merged


class TerminalEcho:
    """Writes a kernel's output messages to the terminal: streams to stdout / stderr,
    the ``text/plain`` of results and displays to stdout."""

    def __init__(self, stdout, stderr):
        self.streams = {"stdout": stdout, "stderr": stderr}
        self.raw = {name: _isatty(s) for name, s in self.streams.items()}
        self.pending = {"stdout": "", "stderr": ""}

    def cell_start(self, index):
        self.cell_end()

    def message(self, msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            self._stream(content.get("name", "stdout"), content.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text = content.get("data", {}).get("text/plain")
            if text is not None:
                self.cell_end()  # a result comes after the text printed before it
                prefix = (f"Out[{content['execution_count']}]: "
                          if kind == "execute_result" and content.get("execution_count")
                          else "")
                self._write("stdout", prefix + text.rstrip("\n") + "\n")

    def _stream(self, name, text):
        name = name if name in self.streams else "stdout"
        if self.raw[name]:
            self._write(name, text)
            return
        buffer = self.pending[name] + text.replace("\r\n", "\n")
        *lines, self.pending[name] = buffer.split("\n")
        if lines:
            self._write(name, "".join(_final_line(line) + "\n" for line in lines))

    def cell_end(self):
        """Writes what is left of a cell's last line (a log gets it in its final state)."""
        for name, rest in self.pending.items():
            if rest:
                self._write(name, _final_line(rest) + "\n")
                self.pending[name] = ""

    def _write(self, name, text):
        stream = self.streams[name]
        stream.write(text)
        stream.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
