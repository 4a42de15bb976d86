"""A real Streamlit server for the browser tests: the app (or a scratch page) on a free port, healthy before use.

`streamlit_server(script, log_path, env)` is a context manager yielding the server's URL; it stops the server on
exit. A server that does not answer /_stcore/health within about a minute fails the test with its log's tail."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def require_chromium() -> None:
    """Skip the test where Debian's chromium is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (scripts/ensure_chromium.sh installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(script, log_path, env: dict | None = None):
    """`streamlit run script` from the repository root with `env` (default: this process's), logging to `log_path`."""
    port = _free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
             str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env if env is not None else dict(os.environ))
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                pytest.fail("streamlit did not become healthy: " + Path(log_path).read_text()[-2000:])
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
