"""The long-running `flowport` commands: serve and worker as processes, demo, and helpers to drive servers."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session

from portal.catalog.models import CatalogEntity
from tests.test_cli import GOOD_CATALOG, run_cli, write_tree


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(base_url: str, process: subprocess.Popen, deadline_s: float = 60.0) -> None:
    """Poll /healthz until it answers; fail with the server's output if the process dies or never answers."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            pytest.fail(f"server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{base_url}/healthz did not answer")


def stop(process: subprocess.Popen) -> str:
    """Stop a server started by a test and return what it printed."""
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def read_until(process: subprocess.Popen, needle: str, deadline_s: float = 60.0) -> str:
    """Collect the process's output until a line contains `needle`; fail if it exits or never prints it."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail(f"process exited before printing {needle!r}:\n{''.join(seen)}")
        seen.append(line)
        if needle in line:
            return "".join(seen)
    pytest.fail(f"no {needle!r} within the deadline:\n{''.join(seen)}")


# --- serve -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_migrates_then_answers_health_checks(tmp_path, database_url, engine):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWPORT_")}
    env.update(FLOWPORT_ENV="test", FLOWPORT_DATABASE_URL=database_url, FLOWPORT_DATA_DIR=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    finally:
        output = stop(process)

    assert ready.status_code == 200, ready.text
    assert f"Flowport is running on http://127.0.0.1:{port}" in output
    assert "Traceback" not in output



# --- worker and demo ---------------------------------------------------------------------------


@pytest.mark.slow
def test_worker_refreshes_registered_locations_and_stops_on_sigterm(tmp_path, database_url, engine):
    root = write_tree(tmp_path / "catalog", GOOD_CATALOG)
    assert run_cli(["catalog", "import", str(root)], {"FLOWPORT_DATABASE_URL": database_url}).exit_code == 0
    env = {key: value for key, value in os.environ.items() if not key.startswith("FLOWPORT_")}
    env.update(FLOWPORT_ENV="test", FLOWPORT_DATABASE_URL=database_url, FLOWPORT_CATALOG_REFRESH_INTERVAL="60")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        output = read_until(process, "Refreshed 1 location(s)")
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert "Refreshing the catalog every 60 s" in output
    assert exit_code == 0


def test_demo_loads_the_bundled_catalog_into_a_fresh_database(tmp_path):
    data_dir = tmp_path / "data"

    result = run_cli(["demo"], {"FLOWPORT_DATA_DIR": str(data_dir)})

    assert result.exit_code == 0, result.output
    assert re.search(r"/catalog: \d+ entities read \(\d+ new, .*\), 0 errors", result.stdout), result.stdout
    from portal.db import build_engine

    engine = build_engine(f"sqlite:///{data_dir / 'flowport.db'}")
    try:
        with Session(engine) as session:
            refs = set(session.execute(select(CatalogEntity.entity_ref)).scalars())
    finally:
        engine.dispose()
    assert "platformproduct:default/delivery-platform" in refs
    assert "template:default/python-fastapi-service" in refs
