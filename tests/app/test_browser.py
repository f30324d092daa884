"""End to end in Debian's headless Chromium (Playwright): the web page and the report.

The page is served by a live uvicorn on 127.0.0.1; the tiny run's model knows the
synthetic shapes, so the right label of an uploaded picture is known.
"""

from __future__ import annotations

import pytest

from tinyann.app.labels import CLASS_NAMES_EN, CLASS_NAMES_KO

pytestmark = pytest.mark.browser


def open_app(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_function("document.querySelectorAll('#grid .tile').length > 0")


def bar_probabilities(page):
    return page.eval_on_selector_all(
        "#bars .bar", "bars => bars.map(b => [Number(b.dataset.label), "
        "Number(b.dataset.probability), b.getBoundingClientRect().width])")


def test_upload_shows_the_right_label_and_bars(page, server, images, tmp_path):
    open_app(page, server)
    page.set_input_files("#file", images.photo_of_shape(7, tmp_path / "disc.jpg"))
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#label") == CLASS_NAMES_EN[7]
    bars = bar_probabilities(page)
    assert [b[0] for b in bars] == list(range(10))
    assert sum(b[1] for b in bars) == pytest.approx(1.0, abs=1e-3)
    best = max(bars, key=lambda b: b[1])
    assert best[0] == 7 and best[2] > 0  # the longest bar is drawn and is the answer
    assert page.eval_on_selector("#input28", "img => img.complete && img.naturalWidth") == 28
    assert page.problems == []


def test_bad_upload_shows_an_error(page, server, images):
    open_app(page, server)
    page.set_input_files("#file", images.path("not_an_image.jpg"))
    page.wait_for_selector("#error:not([hidden])")
    assert "400" in page.text_content("#error")
    assert "not an image" in page.text_content("#error")


def test_drawing_on_the_canvas_is_classified(page, server):
    open_app(page, server)
    box = page.locator("#canvas").bounding_box()
    # a vertical stroke down the middle: the shapes' class 1 (a tall bar)
    page.mouse.move(box["x"] + 140, box["y"] + 30)
    page.mouse.down()
    for y in range(30, 260, 10):
        page.mouse.move(box["x"] + 140, box["y"] + y)
    page.mouse.up()
    page.click("#classify-drawing")
    page.wait_for_selector("#result:not([hidden])")
    assert page.text_content("#label") == CLASS_NAMES_EN[1]
    assert len(bar_probabilities(page)) == 10
    assert page.problems == []


def test_classifying_an_empty_canvas_asks_for_a_drawing(page, server):
    open_app(page, server)
    page.click("#classify-drawing")
    page.wait_for_selector("#error:not([hidden])")
    assert "Draw an item" in page.text_content("#error")


def test_confusion_cell_filters_the_test_images(page, server):
    open_app(page, server)
    cell = page.locator("#confusion td[data-label='3'][data-predicted='3']")
    expected = int(cell.text_content())
    cell.click()
    page.wait_for_function(f"document.getElementById('count').dataset.total === '{expected}'")
    tiles = page.locator("#grid .tile")
    page.wait_for_function(f"document.querySelectorAll('#grid .tile').length === "
                           f"{min(expected, 60)}")
    assert tiles.count() == min(expected, 60)
    captions = page.eval_on_selector_all("#grid .tile", "ts => ts.map(t => t.innerText)")
    assert all(c.strip().endswith(CLASS_NAMES_EN[3]) for c in captions)
    # a tile opens that test image's prediction, with its true class
    tiles.first.click()
    page.wait_for_selector("#result:not([hidden])")
    assert CLASS_NAMES_EN[3] in page.text_content("#truth")
    assert page.problems == []


def test_mistakes_only_and_korean_names(page, server):
    open_app(page, server)
    page.check("#filter-mistakes")
    page.wait_for_function("document.querySelectorAll('#grid .tile:not(.wrong)').length === 0"
                           " && document.querySelectorAll('#grid .tile.wrong').length > 0")
    page.select_option("#lang", "ko")
    page.wait_for_function("document.querySelector('#confusion th:nth-child(2)')"
                           f".textContent === '{CLASS_NAMES_KO[0]}'")
    assert page.problems == []


def test_report_renders_without_errors_with_all_images(page, tiny_run, fake_fashion_mnist):
    from tinyann.app import report

    path = report.write_report(tiny_run)
    page.goto("file://" + path)
    page.wait_for_load_state("load")
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) == 8
    assert all(done and w > 50 and h > 50 for done, w, h in sizes)
    assert page.title().startswith("tinyann run")
    assert page.problems == []
