"""The panel in a real browser: JupyterLab on 127.0.0.1 driven by Debian's Chromium through Playwright.

Screenshots are left in ``artifacts/browser/`` for inspection. Where Chromium
or Playwright is missing the test skips and says how to enable it; with
``SEEDMAGIC_REQUIRE_BROWSER=1`` (set by ``.ci/run``) that is a failure.
``docs/panel.png`` is the README's picture of the panel and ``docs/panel.txt``
the text the browser showed in it: the test fails when today's panel shows
other text (then run it with ``SEEDMAGIC_UPDATE_DOCS=1`` to renew both).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = pathlib.Path(os.environ.get("SEEDMAGIC_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "artifacts" / "browser"
DOCS = ROOT / "docs"
HOW_TO_ENABLE = ("browser tests need Debian's Chromium (apt-get install chromium) and "
                 "pip install 'seedmagic[browser]' (JupyterLab, Playwright)")


def missing_browser_parts() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found"
    try:
        import playwright.sync_api  # noqa: F401
        import jupyterlab  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


@pytest.fixture(scope="module")
def browser_parts() -> None:
    missing = missing_browser_parts()
    if missing is None:
        return
    if os.environ.get("SEEDMAGIC_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{missing}: {HOW_TO_ENABLE}")
    pytest.skip(f"{missing}: {HOW_TO_ENABLE}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


NOTEBOOK_CELLS = [
    "%load_ext seedmagic\nimport numpy as np\nimport torch\n"
    "seed1 = np.random.RandomState(10)\nseed2 = np.random.RandomState(13)",
    "%seed 10",
    "%seed",
    "np.random.rand(1)",
]


@pytest.fixture(scope="module")
def lab(browser_parts, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on 127.0.0.1 with a random token, serving a folder with the test notebook."""
    root = tmp_path_factory.mktemp("lab")
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {},
                   "outputs": [], "source": source} for i, source in enumerate(NOTEBOOK_CELLS)],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (root / "panel.ipynb").write_text(json.dumps(notebook))
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"), "JUPYTER_RUNTIME_DIR": str(root / ".runtime")}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("JupyterLab did not start: " + server.stdout.read1().decode(errors="replace")) from None
                time.sleep(0.5)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def wait_for_idle_kernel(page, seconds: float = 180) -> None:
    """Accept a "Select Kernel" dialog whenever one shows, until the status bar says the kernel is idle."""
    accept = page.locator(".jp-Dialog-button.jp-mod-accept")
    status = page.locator(".jp-StatusBar-Widget", has_text="| Idle")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if accept.count():
            accept.first.click()
        elif status.count():
            return
        page.wait_for_timeout(250)
    raise AssertionError("the kernel did not start: " + page.locator(".jp-StatusBar-Widget").all_inner_texts().__str__())


def run_menu(page, item: str) -> None:
    """Run an item of JupyterLab's Run menu (steadier than key presses)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def numpy_draws(page) -> str:
    row = page.locator(".jp-OutputArea-output .seedmagic-table tr", has=page.locator("td.name", has_text=re.compile("^numpy$")))
    return row.locator("td.draws").inner_text()


def test_panel_renders_and_follows_the_cells(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    np.random.seed(10)
    first, second = (f"{x:.8f}" for x in np.random.rand(2))
    torch.manual_seed(10)
    torch_first = f"{torch.rand(1).item():.4f}"
    assert (first, torch_first) == ("0.77132064", "0.4581")  # the lecture's numbers

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/lab/tree/panel.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").nth(3).wait_for(timeout=180_000)
            wait_for_idle_kernel(page)

            page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".jp-InputPrompt").click()
            run_menu(page, "Run All Above Selected Cell")
            panel = page.locator(".jp-OutputArea-output .widget-vbox", has=page.locator(".seedmagic-table"))
            expect(panel).to_be_visible(timeout=180_000)
            expect(panel.locator("button", has_text="Seed all")).to_be_visible()
            expect(panel).to_contain_text(first)
            expect(panel).to_contain_text(torch_first)
            expect(panel).to_contain_text(f"{np.random.RandomState(13).rand(1)[0]:.8f}")  # seed2, the lecture's
            assert numpy_draws(page).split()[0] == first
            panel.screenshot(path=str(ARTIFACTS / "panel.png"))

            page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".jp-InputPrompt").click()
            run_menu(page, "Run Selected Cell")
            expect(panel.locator("tr", has=page.locator("td.name", has_text=re.compile("^numpy$")))
                   .locator("td.draws")).to_have_text(re.compile(f"^{second}"), timeout=120_000)
            expect(panel.locator("tr .moved")).to_have_count(1)
            page.screenshot(path=str(ARTIFACTS / "notebook.png"))
            panel.screenshot(path=str(ARTIFACTS / "panel-after-draw.png"))
            shown = " ".join(panel.locator(".seedmagic-table").inner_text().split()) + "\n"
        finally:
            browser.close()
    if os.environ.get("SEEDMAGIC_UPDATE_DOCS") == "1":
        shutil.copy(ARTIFACTS / "panel-after-draw.png", DOCS / "panel.png")
        (DOCS / "panel.txt").write_text(shown)
    assert shown == (DOCS / "panel.txt").read_text(), (
        "docs/panel.png is out of date: the panel shows other text now; renew it with SEEDMAGIC_UPDATE_DOCS=1")
