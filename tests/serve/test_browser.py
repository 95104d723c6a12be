"""The web page in headless Chromium: draw a digit on the canvas and read it.

Needs a Chromium (or Chrome) and its chromedriver - $CHROME_BIN and $CHROMEDRIVER, else found on
the PATH; scripts/test.sh installs Debian's chromium and chromium-driver only when there is
none - and selenium (pip). Skipped when they are missing, except under CI (CI or
ROSENBLATT_REQUIRE_BROWSER set), where it fails.
"""

import contextlib
import os
import shutil
import socket
import threading
import time
import warnings

import pytest


def _first(env: str, names: tuple[str, ...]) -> str:
    """$env, else the first of `names` on the PATH (an existing install is used first)."""
    found = [os.environ.get(env, "")] + [shutil.which(n) or "" for n in names]
    return next((f for f in found if f), names[0])


CHROMIUM = _first("CHROME_BIN", ("chromium", "chromium-browser", "google-chrome",
                                 "google-chrome-stable"))
DRIVER = _first("CHROMEDRIVER", ("chromedriver",))


def _need_browser():
    missing = [p for p in (CHROMIUM, DRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        reason = f"browser test needs {', '.join(missing)}"
        if os.environ.get("CI") or os.environ.get("ROSENBLATT_REQUIRE_BROWSER"):
            pytest.fail(reason + " (CI must install them)")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(app):
    """`app` under uvicorn on a free loopback port, in a thread; its base URL."""
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def server(zip_reader, tmp_path):
    from rosenblatt.serve.app import create_app

    with _serving(create_app(zip_reader, token="t", db_path=tmp_path / "q.sqlite")) as url:
        yield url


@pytest.fixture
def classifier_server():
    """`serve --model` on the committed MNIST LeNet-5 (the image-classifier page)."""
    from rosenblatt.serve.classifier import create_classifier_app, load_image_classifier

    with _serving(create_classifier_app(load_image_classifier("lenet5-mnist"))) as url:
        yield url


@pytest.fixture
def browser():
    _need_browser()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--window-size=1000,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _stroke(driver, canvas, points):
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver, duration=10)
    chain.move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) // 10))
        for k in range(1, steps + 1):
            chain.move_to_element_with_offset(canvas, round(x0 + (x1 - x0) * k / steps),
                                              round(y0 + (y1 - y0) * k / steps))
    chain.release().perform()


def _read(driver, canvas):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(By.ID, "read").click()
    reading = driver.find_element(By.ID, "reading")
    WebDriverWait(driver, 30).until(lambda d: reading.text not in ("", "…"))
    return reading.text


@pytest.mark.parametrize("digit, strokes", [
    ("1", [[(5, -95), (0, 0), (-5, 95)]]),
    ("7", [[(-70, -85), (70, -85), (0, 95)]]),
])
def test_draw_a_digit_and_read_it(server, browser, digit, strokes):
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    canvas = browser.find_element(By.ID, "pad")
    for points in strokes:  # offsets from the canvas centre, in CSS pixels
        _stroke(browser, canvas, points)
    assert _read(browser, canvas) == digit
    decision = browser.find_element(By.ID, "decision-value").text
    assert decision in ("accept", "review")
    # the page shows the 28x28 input the network saw and one bar per class
    assert len(browser.find_elements(By.CSS_SELECTOR, "#digits img")) == 1
    assert len(browser.find_elements(By.CSS_SELECTOR, "#digits .bar")) == 10


def _circle(cx, cy, rx, ry, n=16):
    import math

    return [(round(cx + rx * math.cos(2 * math.pi * k / n)),
             round(cy + ry * math.sin(2 * math.pi * k / n))) for k in range(n + 1)]


def test_draw_a_zip_code_and_read_it(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/")
    Select(browser.find_element(By.ID, "mode")).select_by_value("zip")
    canvas = browser.find_element(By.ID, "pad")  # 700 x 160
    strokes = [
        _circle(-270, -15, 25, 25) + [(-245, -15), (-250, 50)],  # 9
        _circle(-150, 0, 30, 50),  # 0
        [(-60, -40), (-40, -55), (-15, -45), (-15, -20), (-60, 50), (-5, 50)],  # 2
        [(70, -55), (70, 55)],  # 1
        _circle(180, 0, 30, 50),  # 0
    ]
    for points in strokes:
        _stroke(browser, canvas, points)
    assert _read(browser, canvas) == "90210"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#digits img")) == 5


def test_an_uploaded_image_is_shown_and_read_again_by_read(server, browser, tmp_path):
    """Choosing a file reads it and shows it in the pad; "Read" then reads what is shown (not
    an empty pad); each confidence bar is labelled with its probability."""
    import numpy as np
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from rosenblatt.apps.digits.synth import mnist_test_half

    images, labels = mnist_test_half("evaluation")
    Image.fromarray(np.pad(255 - images[0], 6, constant_values=255)).save(tmp_path / "d.png")
    browser.get(server + "/")
    browser.find_element(By.ID, "upload").send_keys(str(tmp_path / "d.png"))
    reading = browser.find_element(By.ID, "reading")
    WebDriverWait(browser, 30).until(lambda d: reading.text not in ("", "…"))
    first = reading.text
    assert first == str(labels[0])
    dark = "const c = document.getElementById('pad'); const a = c.getContext('2d')" \
        ".getImageData(0, 0, c.width, c.height).data; let n = 0;" \
        "for (let i = 0; i < a.length; i += 4) if (a[i] < 128) n++; return n;"
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(dark) > 500)  # the upload
    values = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#digits .bar .p")]
    assert len(values) == 10 and all(v.endswith("%") for v in values)
    assert abs(sum(float(v[:-1]) for v in values) - 100) < 1
    assert max(values, key=lambda v: float(v[:-1])) == values[labels[0]]
    assert _read(browser, None) == first
    assert "no_ink" not in browser.find_element(By.ID, "reasons").text


def _top_bars(driver):
    """The classifier page's bars as (label, percent) once a prediction is shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    top = driver.find_element(By.ID, "top-class")
    WebDriverWait(driver, 30).until(lambda d: top.text not in ("", "…"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#bars .bar")
    return top.text, [(r.find_element(By.CSS_SELECTOR, ".label").text,
                       float(r.find_element(By.CSS_SELECTOR, ".p").text.rstrip("%")))
                      for r in rows]


def test_classifier_page_draw_a_digit_and_see_the_top_five(classifier_server, browser):
    from selenium.webdriver.common.by import By

    browser.get(classifier_server + "/")
    canvas = browser.find_element(By.ID, "pad")
    _stroke(browser, canvas, [(-70, -85), (70, -85), (0, 95)])  # a 7
    browser.find_element(By.ID, "predict").click()
    top, bars = _top_bars(browser)
    assert top == "7" and len(bars) == 5 and bars[0][0] == "7"
    percents = [p for _, p in bars]
    assert percents == sorted(percents, reverse=True) and sum(percents) <= 100.5
    assert len({label for label, _ in bars}) == 5
    assert "lenet5-mnist" in browser.find_element(By.ID, "title").text


def test_classifier_page_upload_an_image(classifier_server, browser, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from rosenblatt.apps.digits.synth import mnist_test_half

    images, labels = mnist_test_half("evaluation")
    for i in (1, 2):  # MNIST style (white on black) as it comes: the card's polarity
        Image.fromarray(images[i]).save(tmp_path / f"d{i}.png")
        browser.get(classifier_server + "/")
        browser.find_element(By.ID, "upload").send_keys(str(tmp_path / f"d{i}.png"))
        top, bars = _top_bars(browser)
        assert top == str(labels[i]) and bars[0] == (str(labels[i]), bars[0][1])
        assert bars[0][1] > 50
    (tmp_path / "x.png").write_bytes(b"not an image")
    browser.find_element(By.ID, "upload").send_keys(str(tmp_path / "x.png"))
    error = browser.find_element(By.ID, "error")
    WebDriverWait(browser, 30).until(lambda d: error.text != "")
    assert error.text.startswith("415: not a recognised image")
