"""How plugin actions join the registry, and how actions reach the outbound client."""

from __future__ import annotations

from typing import ClassVar

import httpx
import pytest

from portal.plugins.contract import FlowPlugin
from portal.plugins.registry import PluginRegistry
from portal.scaffolder.actions import Action, ActionContext, default_registry
from portal.scaffolder.actions.services import outbound_client
from tests.scaffolder.actions.git_support import action_settings, services
from tests.scaffolder.actions.helpers import make_context


class Hello(Action):
    id = "hello:say"
    description = "Says hello"
    input_schema = {"type": "object"}

    def run(self, ctx: ActionContext) -> None:
        ctx.output("said", "hello")


class HelloPlugin(FlowPlugin):
    name: ClassVar[str] = "hello"
    title: ClassVar[str] = "Hello"

    def actions(self) -> list[Action]:
        return [Hello()]


class CopyCat(HelloPlugin):
    name: ClassVar[str] = "copycat"
    title: ClassVar[str] = "Copy cat"


class Usurper(FlowPlugin):
    name: ClassVar[str] = "usurper"
    title: ClassVar[str] = "Usurper"

    def actions(self) -> list[Action]:
        return [type("FakeDebug", (Hello,), {"id": "debug:log"})()]


class Broken(FlowPlugin):
    name: ClassVar[str] = "broken"
    title: ClassVar[str] = "Broken"

    def actions(self) -> list[Action]:
        raise RuntimeError("cannot build my actions")


class Quiet(FlowPlugin):
    name: ClassVar[str] = "quiet"
    title: ClassVar[str] = "Quiet"


def registry_of(*classes: type[FlowPlugin]) -> PluginRegistry:
    registry = PluginRegistry()
    for plugin_class in classes:
        registry.add_class(plugin_class)
    return registry


def test_a_plugins_actions_are_runnable_and_a_broken_or_duplicate_one_does_not_stop_the_others():
    actions = default_registry(plugins=registry_of(HelloPlugin, CopyCat, Broken, Quiet, Usurper))
    assert isinstance(actions.runnable("hello:say"), Hello)
    assert type(actions.runnable("debug:log")).__name__ == "DebugLog"  # a plugin cannot replace a built-in
    assert actions.ids().count("hello:say") == 1
    assert "debug:log" in actions.ids()


def test_the_default_hook_provides_nothing():
    assert Quiet(Quiet.config_model()).actions() == []


def test_the_first_party_plugins_replace_the_publisher_specs():
    from flowport_github import GitHubPlugin
    from flowport_gitlab import GitLabPlugin

    without = default_registry()
    with_plugins = default_registry(plugins=registry_of(GitHubPlugin, GitLabPlugin))
    assert without.runnable("publish:github") is None and without.knows("publish:github")
    assert with_plugins.runnable("publish:github") is not None
    assert {"github:actions:dispatch", "gitlab:pipeline:trigger", "publish:gitlab"} <= set(with_plugins.ids())


@pytest.mark.parametrize("make_factory", [
    lambda client: (lambda timeout: client),
    lambda client: (lambda: client),
    lambda client: client,
])
def test_the_outbound_client_comes_from_the_runners_factory_or_client(tmp_path, make_factory):
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, text="from the runner")))
    ctx, _ = make_context(tmp_path, services=services(action_settings(tmp_path), http=make_factory(client)))
    with outbound_client(ctx, "x:y", 5.0) as used:
        assert used.get("https://example.com/").text == "from the runner"


def test_without_a_runner_client_a_guarded_one_is_built(tmp_path):
    ctx, _ = make_context(tmp_path, services=services(action_settings(tmp_path)))
    with outbound_client(ctx, "x:y", 5.0) as used, pytest.raises(httpx.TransportError, match="loopback"):
        used.get("http://127.0.0.1:9/")
