"""Serve the training dashboard with Voila on loopback, drive it in headless
Debian Chromium with Playwright, and keep a screenshot of the finished run
in test-artifacts/dashboard.png."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "dashboards" / "training_dashboard.ipynb"
SCREENSHOT = ROOT / "test-artifacts" / "dashboard.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
# The notebook's default epochs: the smallest settings, clicked as they are.
EPOCHS = int(re.search(r"EPOCHS = (\d+)", NOTEBOOK.read_text()).group(1))
TRACES = 3  # train loss, val loss, val accuracy
SERVER_SECONDS = 60
PAGE_MS = 60_000
RUN_MS = 60_000

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_voila(port: int, log) -> subprocess.Popen:
    voila = Path(sys.executable).with_name("voila")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [str(voila), str(NOTEBOOK), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=NOTEBOOK.parent,
    )  # fmt: skip


def _wait_for_server(port: int, server: subprocess.Popen) -> None:
    """Wait until the port accepts connections (a GET of the page would
    already start a kernel)."""
    deadline = time.monotonic() + SERVER_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"voila exited with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"voila did not answer within {SERVER_SECONDS} s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _count_points(page) -> int:
    return page.evaluate(
        "document.querySelectorAll("
        "'.js-plotly-plot .scatterlayer path.point').length"
    )


def _drive(url: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM),
                                     args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url, timeout=PAGE_MS)
            run = page.locator("button", has_text="Run")
            run.wait_for(timeout=PAGE_MS)
            page.get_by_text("Ready: choose settings").wait_for(
                timeout=PAGE_MS)
            page.locator(".js-plotly-plot .main-svg").first.wait_for(
                timeout=PAGE_MS)
            seen = {
                "dataset": page.locator("select").first.input_value(),
                "plots": page.locator(".js-plotly-plot").count(),
                "sliders": page.locator(".widget-slider").count(),
                "points_before": _count_points(page),
            }
            run.click()
            done = page.get_by_text(re.compile(r"Done: best val accuracy"))
            done.wait_for(timeout=RUN_MS)
            page.wait_for_function(
                "n => document.querySelectorAll("
                "'.js-plotly-plot .scatterlayer path.point').length >= n",
                arg=EPOCHS * TRACES, timeout=RUN_MS,
            )  # fmt: skip
            seen["status"] = done.inner_text()
            seen["points_after"] = _count_points(page)
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            return seen
        finally:
            browser.close()


def test_training_dashboard_runs_in_chromium(tmp_path):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing; install Debian's browser with "
            "`apt-get install -y chromium chromium-driver` (.ci/run does)."
        )
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp_path / "voila.log"
    with open(log_path, "w") as log:
        server = _start_voila(port, log)
        try:
            _wait_for_server(port, server)
            seen = _drive(url)
        except Exception as exc:
            log.flush()
            tail = log_path.read_text()[-4000:]
            pytest.fail(f"{type(exc).__name__}: {exc}\n--- voila log ---\n"
                        f"{tail}")
        finally:
            _stop(server)
    assert seen["dataset"] == "MUTAG"
    assert seen["plots"] == 1 and seen["sliders"] == 3
    assert seen["points_before"] == 0
    assert seen["points_after"] == EPOCHS * TRACES
    assert re.fullmatch(r"Done: best val accuracy 0\.\d{4} at epoch \d+",
                        seen["status"])
    assert 1 <= int(seen["status"].split()[-1]) <= EPOCHS
    assert SCREENSHOT.stat().st_size > 10_000
