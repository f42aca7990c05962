"""The scheduled sync thread: due connections are synced, and a failing run never kills the thread."""

from portal.sync import scheduler


def test_scheduler_runs_due_syncs_and_survives_errors(monkeypatch, settings, engine):
    calls = []

    def fake_run_due_syncs(engine_, registry, settings_):
        calls.append(registry)
        if len(calls) == 1:
            raise RuntimeError("tool unreachable")
        return ["report"]

    monkeypatch.setattr(scheduler, "run_due_syncs", fake_run_due_syncs)
    job = scheduler.SyncScheduler(engine, "registry", settings, check_seconds=0.01)
    assert job.run_once() == 0  # the error is logged, not raised
    assert job.run_once() == 1
    job.start()
    for _ in range(500):
        if len(calls) >= 4:
            break
        import time

        time.sleep(0.01)
    job.stop()
    assert len(calls) >= 4
    assert job._thread is None
