"""The explorer used the way a person uses it: JupyterLab in headless Chromium.

The test starts JupyterLab on a free localhost port with a random token and a
temporary root folder holding a copy of notebooks/08_explorer.ipynb (the original
VGG-19, quick mode), opens the notebook in Debian's Chromium driven by
Playwright (``executable_path``: Playwright never downloads a browser here),
runs all cells from the Run menu, drags the style-weight slider, presses Run,
checks that the preview changes while the run goes on, presses Stop and Save,
and checks what they did. On failure it saves a screenshot and prints its path
and the end of JupyterLab's log. JupyterLab is always shut down.

It skips, saying why, where Chromium (``apt-get install chromium``), the
``playwright`` package or JupyterLab is missing. ``D2LSTYLE_CHROMIUM`` points
it at another Chromium binary.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import d2lstyle
from d2lstyle import widgets

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK = REPO / "notebooks" / "08_explorer.ipynb"
CHROMIUM = os.environ.get("D2LSTYLE_CHROMIUM", "/usr/bin/chromium")
# No network here: without these, Chromium keeps trying (and failing) to reach Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 90_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's package with `apt-get install chromium` "
                "(make test tries to) or set D2LSTYLE_CHROMIUM", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs the playwright package "
                               "(pip install -e '.[test]'); it uses the system's Chromium, no browser download")
pytest.importorskip("jupyterlab", reason="the browser test needs JupyterLab (pip install -e '.[notebooks]')")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


class JupyterLab:
    """A JupyterLab server in its own process group, on a temporary root folder."""

    def __init__(self, folder):
        self.folder, self.root = folder, folder / "root"
        self.root.mkdir()
        shutil.copy(NOTEBOOK, self.root / NOTEBOOK.name)
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        settings = folder / "lab-settings"
        # No news or update checks (no network), and every cell in the page (no windowing).
        write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                   {"fetchNews": "false", "checkForUpdates": False})
        write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                   {"windowingMode": "none"})
        # the real network (offline, as a user has it): notebook 08 checks that its run paints
        env = dict(os.environ, D2LSTYLE_NETWORK="original", D2LSTYLE_QUICK="1",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
                   JUPYTER_CONFIG_DIR=str(folder / "config"), JUPYTER_DATA_DIR=str(folder / "data"),
                   JUPYTER_RUNTIME_DIR=str(folder / "runtime"), IPYTHONDIR=str(folder / "ipython"))
        env.pop("D2LSTYLE_DEVICE", None)
        self.log_path = folder / "jupyterlab.log"
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", f"--LabApp.user_settings_dir={settings}",
             f"--LabApp.workspaces_dir={folder / 'workspaces'}"] + (["--allow-root"] if os.geteuid() == 0 else []),
            cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def request(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status

    def wait_until_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with status {self.process.returncode}:\n{self.log_tail()}")
            try:
                if self.request("/api/status") == 200:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines=40):
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def shut_down(self):
        """Ask the server to stop (it shuts its kernels down), then end its process group."""
        try:
            if self.process.poll() is None:
                self.request("/api/shutdown", method="POST")
                self.process.wait(timeout=15)
        except Exception:  # noqa: BLE001 - whatever happened, the process group goes next
            pass
        if self.process.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.process.pid, sig)
                    self.process.wait(timeout=10)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue
        self.log.close()


@pytest.fixture
def jupyterlab(tmp_path):
    server = JupyterLab(tmp_path)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.shut_down()


ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def test_the_explorer_runs_stops_and_saves_in_jupyterlab(jupyterlab, tmp_path):
    started = time.monotonic()
    console = []
    sync_api.expect.set_options(timeout=TIMEOUT_MS)  # the default, 5 s, is too short on a busy machine
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        try:
            page.goto(f"{jupyterlab.url}/lab/tree/08_explorer.ipynb?token={jupyterlab.token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
            # Run All before the kernel is connected would open the "Select Kernel" dialog.
            sync_api.expect(page.locator("#jp-main-statusbar")).to_contain_text("Idle")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function(ALL_CELLS_RAN, timeout=300_000, polling=500)  # minutes on a busy machine
            explorer = page.locator(".d2lstyle-explorer")
            sync_api.expect(explorer.locator(".d2lstyle-status")).to_contain_text("finished")  # the API run
            assert "original VGG-19" in explorer.locator(".d2lstyle-network").inner_text()
            assert "Traceback" not in page.locator(".jp-Notebook").inner_text()

            # Drag the style weight to the right end of its slider: the kernel's formula line follows.
            formula = explorer.locator(".d2lstyle-formula")
            # the explorer starts from the d2l preset, with its weights for the original VGG-19
            beta = d2lstyle.get_recipe("d2l", network="original").style_weight
            sync_api.expect(formula).to_contain_text(f"β = {beta:.3g}")
            handle = explorer.locator(".d2lstyle-style-weight .noUi-handle")
            track = explorer.locator(".d2lstyle-style-weight .noUi-target").bounding_box()
            handle.hover()
            page.mouse.down()
            page.mouse.move(track["x"] + track["width"] + 50, track["y"] + track["height"] / 2, steps=8)
            page.mouse.up()
            sync_api.expect(formula).to_contain_text(f"β = {10.0 ** widgets.WEIGHT_RANGES['style'][1]:.3g}")

            # Run: the preview changes while the run goes on; Stop ends it and keeps the image.
            preview = explorer.locator("img.d2lstyle-preview")
            before = preview.get_attribute("src")
            explorer.locator(".d2lstyle-run").click()
            stop = explorer.locator(".d2lstyle-stop")
            sync_api.expect(stop).to_be_enabled()
            page.wait_for_function("old => document.querySelector('.d2lstyle-explorer img.d2lstyle-preview')"
                                   ".src !== old", arg=before)
            stop.click()
            status = explorer.locator(".d2lstyle-status")
            sync_api.expect(status).not_to_contain_text("running")
            assert "finished" not in status.inner_text(), (
                "Stop was pressed during the run, yet it finished: either Stop did not work, or the run "
                f"(20 steps at 64 px in quick mode) ended before the click arrived. Status: {status.inner_text()}")
            sync_api.expect(status).to_contain_text("stopped after")
            done, planned = map(int, re.search(r"stopped after (\d+) of (\d+) steps", status.inner_text()).groups())
            assert 1 <= done < planned
            sync_api.expect(explorer.locator(".d2lstyle-run")).to_be_enabled()
            sync_api.expect(stop).to_be_disabled()

            # Save: the file lands in outputs/ next to the notebook, and the explorer says where.
            explorer.locator(".d2lstyle-save").click()
            sync_api.expect(explorer.locator(".d2lstyle-saved")).to_contain_text("saved to")
            saved = Path(explorer.locator(".d2lstyle-saved code").inner_text())
            assert saved.parent == (jupyterlab.root / "outputs").resolve() and saved.is_file()
            assert "Traceback" not in explorer.locator(".d2lstyle-log").inner_text()
        except BaseException:
            screenshot = tmp_path / "explorer-failure.png"
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshot of the failure: {screenshot}")
            print("browser console:\n" + "\n".join(console[-30:]))
            print("JupyterLab log:\n" + jupyterlab.log_tail())
            raise
        finally:
            browser.close()
    print(f"browser test took {time.monotonic() - started:.0f} s after JupyterLab started")
