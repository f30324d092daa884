"""The one upload form ``POST /api/predict`` takes, read without FastAPI's form machinery.

    multipart/form-data; boundary=B      --B\\r\\n
                                         Content-Disposition: form-data; name="file"; ...
                                         (other part headers)\\r\\n\\r\\n
                                         <the file's bytes>\\r\\n
                                         --B--\\r\\n

A browser's ``FormData`` and the load client send exactly this: one part, named
``file``. Parsing it costs some microseconds, where FastAPI's ``UploadFile`` path (form
parser, spooled temporary file, dependency solving) measured 0.33 ms a request, a
quarter of a classification. Anything else (other fields, two files, a preamble, odd
framing) returns None, and FastAPI then parses it and answers as it always has.
"""

from __future__ import annotations


def _parameters(header: bytes) -> tuple[bytes, dict]:
    """``b'form-data; name="file"'`` -> (b"form-data", {b"name": b"file"})."""
    value, *params = header.split(b";")
    found = {}
    for param in params:
        key, sep, item = param.strip().partition(b"=")
        if not sep:
            continue
        item = item.strip()
        if len(item) >= 2 and item[:1] == item[-1:] == b'"':
            item = item[1:-1]
        found[key.strip().lower()] = item
    return value.strip().lower(), found


def file_field(content_type: bytes, body: bytes) -> bytes | None:
    """The bytes of the only part of ``body``, when it is a multipart form whose only
    field is ``file``; otherwise None."""
    kind, params = _parameters(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary or len(boundary) > 200:
        return None
    delimiter = b"--" + boundary
    head = delimiter + b"\r\n"
    tail = b"\r\n" + delimiter + b"--"
    end = body.rfind(tail)
    if not body.startswith(head) or end < 0 or body[end + len(tail):] not in (b"", b"\r\n"):
        return None
    part = body[len(head):end]
    if delimiter in part:  # several parts: FastAPI sorts them out
        return None
    headers, sep, data = part.partition(b"\r\n\r\n")
    if not sep:
        return None
    disposition = None
    for line in headers.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        if name.strip().lower() == b"content-disposition":
            disposition = value
    if disposition is None:
        return None
    kind, params = _parameters(disposition)
    if kind != b"form-data" or params.get(b"name") != b"file" or b"filename" not in params:
        return None
    return data
