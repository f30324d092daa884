"""The plain upload form /api/predict reads without FastAPI (tinyann/app/multipart.py):
taken exactly when it is one ``file`` part, else left to FastAPI (None)."""

from __future__ import annotations

import httpx
import pytest

from tinyann.app.loadtest import upload_request
from tinyann.app.multipart import file_field


def encoded(files=None, data=None):
    """(content type, body) as httpx (like a browser's FormData) sends them."""
    request = httpx.Request("POST", "http://127.0.0.1/api/predict", files=files, data=data)
    return request.headers["content-type"].encode(), request.read()


@pytest.mark.parametrize("payload", [b"\x89PNG...", b"", b"--not-the-boundary\r\n\r\n",
                                     bytes(range(256)) * 40])
def test_the_one_file_part_is_returned_as_sent(payload):
    assert file_field(*encoded(files={"file": ("photo.png", payload, "image/png")})) == payload


def test_the_load_clients_request_is_read_too():
    raw = upload_request("127.0.0.1", 8000, b"PNGDATA", 'a "b".png')
    head, body = raw.split(b"\r\n\r\n", 1)
    content_type = next(line.split(b": ", 1)[1] for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-type"))
    assert file_field(content_type, body) == b"PNGDATA"


@pytest.mark.parametrize("case", [
    {"files": {"photo": ("p.png", b"x")}},                          # another field name
    {"files": {"file": ("p.png", b"x")}, "data": {"note": "hi"}},   # a second field
    {"data": {"file": "not a file"}},                               # a text field
])
def test_other_forms_are_left_to_fastapi(case):
    assert file_field(*encoded(**case)) is None


def test_odd_framing_and_other_content_types_are_left_to_fastapi():
    content_type, body = encoded(files={"file": ("p.png", b"data")})
    assert file_field(b"application/json", body) is None
    assert file_field(b"multipart/form-data", body) is None  # no boundary
    assert file_field(content_type, b"preamble\r\n" + body) is None
    assert file_field(content_type, body[:-10]) is None  # cut short: no closing delimiter
    assert file_field(content_type, body.replace(b"\r\n\r\n", b"\r\n", 1)) is None
