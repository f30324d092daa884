"""Screenshots for the README: docs/report.png and docs/web.png (headless Chromium).

    .venv/bin/tinyann train --out runs/demo
    .venv/bin/python tests/app/make_screenshots.py runs/demo

Serves the run on a free port of 127.0.0.1, uploads a fixture photo, opens a
confusion-matrix cell and takes the pictures; the server stops at the end.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

from playwright.sync_api import sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main(run):
    import uvicorn

    from tinyann.app.server import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(run), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    docs = os.path.join(ROOT, "docs")
    os.makedirs(docs, exist_ok=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1200})
            page.goto("file://" + os.path.abspath(os.path.join(run, "report.html")))
            page.wait_for_load_state("load")
            page.screenshot(path=os.path.join(docs, "report.png"),
                            clip={"x": 0, "y": 0, "width": 1280, "height": 2400},
                            full_page=True)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("body[data-ready=true]")
            photo = os.path.join(ROOT, "tests", "fixtures", "images", "sneaker_at_angle.jpg")
            page.set_input_files("#file", photo)
            page.wait_for_selector("#result:not([hidden])")
            page.click("#confusion td[data-label='6'][data-predicted='0']")
            page.wait_for_function("[...document.querySelectorAll('#grid img')]"
                                   ".every(i => i.complete && i.naturalWidth > 0) && "
                                   "document.querySelectorAll('#grid img').length > 0")
            page.screenshot(path=os.path.join(docs, "web.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    print(f"wrote {docs}/report.png and {docs}/web.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/demo")
