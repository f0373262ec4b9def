"""A plain install works: build a wheel, install it in a fresh venv outside the checkout, load the demo,
score a lead and serve a page (marker ``slow``: about a minute, most of it pip installing the dependencies,
from pip's cache when it has them)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed (no editable link, no checkout on sys.path)."""
    base = tmp_path_factory.mktemp("install")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    src = base / "src"
    for name in files:
        if (ROOT / name).is_file() and not name.startswith(("docs/", "tests/")):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(src)])
    wheel = next((base / "dist").glob("matcher-*.whl"))
    _run([sys.executable, "-m", "venv", str(base / "venv")])
    _run([str(base / "venv" / "bin" / "pip"), "install", "-q", str(wheel)])
    work = base / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MATCHER_INSTANCE", "PYTHONPATH")}
    return base / "venv" / "bin", work, env


def test_the_wheel_ships_data_and_keeps_the_instance_out_of_site_packages(installed):
    bin_dir, work, env = installed
    where = _run([str(bin_dir / "python"), "-c",
                  "import matcher, matcher.paths as p; print(matcher.__file__); print(p.DATA_DIR); "
                  "print(p.instance_dir())"], cwd=work, env=env).stdout.split()
    assert "site-packages" in where[0] and str(ROOT) not in where[0]
    assert where[1].endswith("site-packages/matcher/data")
    assert where[2] == str(work / "instance")

    loaded = _run([str(bin_dir / "matcher"), "demo", "load"], cwd=work, env=env).stdout
    assert "firms: 1,500 inserted" in loaded
    assert (work / "instance" / "matcher.sqlite").is_file()
    assert not list(Path(where[0]).parent.parent.glob("instance"))

    scored = json.loads(_run([str(bin_dir / "matcher"), "recommend", "208-81-07080", "-k", "3", "--json"],
                             cwd=work, env=env).stdout)
    assert scored["firm"]["brn"] == "2088107080" and len(scored["recommendations"]) == 3
    assert scored["recommendations"][0]["score"] > 0

    port = _free_port()
    server = subprocess.Popen([str(bin_dir / "python"), "-m", "web", "--port", str(port)], cwd=work,
                              env=env | {"MATCHER_STAFF_PASSWORD": "install test password"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/tracks", timeout=5) as response:
                    page = response.read().decode("utf-8")
                    assert response.status == 200
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read()
                time.sleep(0.3)
        assert "혁신성장" in page and "소재부품" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/app.js", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


def test_building_the_wheel_warns_of_nothing_and_ships_the_web_assets(tmp_path):
    """``make run``'s first install printed four BuildBackendWarning blocks ('web.static' is absent …):
    every folder of shipped files is a package of its own (namespace packages), so none is ambiguous."""
    import zipfile
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(ROOT)])
    assert "Warning" not in built.stdout + built.stderr.replace("WARNING: Location", "")
    names = zipfile.ZipFile(next(tmp_path.glob("matcher-*.whl"))).namelist()
    for shipped in ("web/static/style.css", "web/static/app.js", "web/templates/staff/run.html",
                    "matcher/data/demo/firms.csv", "matcher/migrations/script.py.mako"):
        assert shipped in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/"))]
