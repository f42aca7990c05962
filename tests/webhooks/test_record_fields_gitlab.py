"""GitLab record fields found wrong on real payloads (jira-to-matrix gitlab/pipe-success.json): an unknown
pipeline status with a finish stored as `queued`."""

from portal.flow.models import FlowPipelineRun
from tests.webhooks.support import all_rows, at
from tests.webhooks.test_normalize_gitlab import app, deliver, fixture  # noqa: F401


def gitlab_pipeline(status: str) -> dict:
    """jira-to-matrix gitlab/pipe-success.json with another pipeline status."""
    payload = fixture("jira-to-matrix/pipe-success.json")
    payload["object_attributes"]["status"] = status
    payload["builds"] = []
    return payload


def test_an_unknown_pipeline_status_with_a_finish_is_unknown_not_queued(app, engine):
    deliver(app, ("Pipeline Hook", gitlab_pipeline("fail")))
    [run] = all_rows(engine, FlowPipelineRun)
    assert run.status == "unknown"
    assert run.finished_at == at("2020-07-17T10:19:38+03:00")


def test_a_known_pipeline_status_still_maps(app, engine):
    deliver(app, ("Pipeline Hook", gitlab_pipeline("failed")))
    [run] = all_rows(engine, FlowPipelineRun)
    assert (run.status, run.finished_at) == ("failure", at("2020-07-17T10:19:38+03:00"))
