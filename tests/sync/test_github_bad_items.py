"""One unreadable item in a GitHub REST page (a missing number, a value of the wrong type) is skipped and
named; the items beside it are stored and the run goes on (stub API: tests/sync/fake_github.py)."""

from __future__ import annotations

from portal.flow.models import FlowPipelineRun, FlowWorkItem
from tests.sync.fake_github import make_issue, make_run
from tests.sync.test_github_sync import rows, sync


def test_bad_items_are_skipped_and_named_and_the_good_ones_stored(engine, linked_repo, github, github_plugin, clock):
    broken_issue = make_issue(32, 20)
    del broken_issue["number"]
    broken_run = make_run(23, 10)
    broken_run["head_branch"] = {"not": "a branch name"}
    github.issues = [make_issue(31, 10), broken_issue]
    github.runs = [make_run(21, 0), broken_run]
    report = sync(engine, github_plugin, github, clock)
    assert report.ok and report.error is None
    assert [item.key for item in rows(engine, FlowWorkItem)] == ["Codertocat/Hello-World#31"]
    assert sorted(run.id.rsplit(":", 1)[1] for run in rows(engine, FlowPipelineRun)) == ["21"]
    assert len(report.skipped_items) == 2
    named = " | ".join(report.skipped_items)
    assert "lacks the key 'number'" in named
    assert "workflow run 23 of Codertocat/Hello-World" in named and "`ref` must be text" in named
    assert report.skipped_note().startswith("skipped 2 unreadable items")
