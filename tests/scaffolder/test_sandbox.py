"""Hostile expressions: each is refused with an error that says why, and nothing leaves the sandbox."""

from __future__ import annotations

import pytest

from portal.scaffolder.expressions import ExpressionError, ExpressionRenderer, expression_context
from portal.scaffolder.sandbox import ExpressionLimits


def attempt(renderer: ExpressionRenderer, text: str):
    return renderer.render_value(text, expression_context({"name": "svc", "items": list(range(100))}),
                                 where="template:default/evil step 'x' (#1): input.message")


@pytest.mark.parametrize("text", [
    "${{ ''.__class__.__mro__ }}",
    "${{ ''.__class__.__mro__[1].__subclasses__() }}",
    "${{ cycler.__init__.__globals__ }}",
    "${{ joiner.__init__.__globals__.os }}",
    "${{ parameters.name.__class__ }}",
    "${{ parameters._private }}",
    "${{ range.__self__ }}",
    "x ${{ parameters.name.upper.__globals__ }}",
])
def test_underscore_names_are_refused(renderer, text):
    with pytest.raises(ExpressionError, match="names starting with '_' are private"):
        attempt(renderer, text)


@pytest.mark.parametrize("text", [
    "${{ parameters['__class__'] }}",
    "${{ parameters.name.encode() }}",
    "${{ parameters.name.format(parameters) }}",
    "${{ parameters.name.center(1000000000) }}",
    "${{ parameters.name.zfill(1000000000) }}",
])
def test_unlisted_methods_and_item_tricks_are_refused(renderer, text):
    with pytest.raises(ExpressionError, match="is not allowed in a template"):
        attempt(renderer, text)


@pytest.mark.parametrize("text", ["${{ lipsum() }}", "${{ namespace(a=1) }}", "${{ cycler(1, 2).next() }}"])
def test_jinja_globals_that_are_not_needed_are_gone(renderer, text):
    with pytest.raises(ExpressionError, match="undefined"):
        attempt(renderer, text)


@pytest.mark.parametrize("text", ["${{ 'x' | format }}", "${{ parameters | attr('items') }}",
                                  "${{ parameters | pprint }}", "${{ parameters | xmlattr }}"])
def test_unneeded_filters_are_gone(renderer, text):
    with pytest.raises(ExpressionError, match="No filter named"):
        attempt(renderer, text)


@pytest.mark.parametrize(("text", "why"), [
    ("${{ 'a' * 100000000 }}", "repeating a value 100000000 times"),
    ("${{ [1] * 100000000 }}", "repeating a value 100000000 times"),
    ("${{ range(100000000) | list }}", "range\\(\\) of 100000000 items"),
    ("${{ 10 ** 100000 }}", "too large to compute"),
    ("${{ (2 ** 200) ** 200 }}", "too large to compute"),
    ("${{ 'x' | center(1000000000) }}", "center\\(\\) with 1000000000"),
    ("${{ 'ab'.replace('', 'x' * 900000) }}", "replace\\(\\) would build"),
    ("${{ parameters.name | replace('s', 'x' * 900000) | replace('x', 'yy') }}", "replace\\(\\) would build"),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "loops and calls ran more than"),
    ("{% for i in range(2000) %}${{ 'x' * 1000 }}{% endfor %}", "the text is longer than"),
    ("${{ ('x' * 900000) ~ ('y' * 900000) }}", "joining with ~ would build"),
    ("${{ range(10000) | join('x' * 900000) }}", "join\\(\\) would build"),
    ("${{ ('a\n' * 400000) | indent(10) }}", "indent\\(\\) would build"),
    ("{% macro grow(s, n) %}{% if n %}${{ grow(s ~ s, n - 1) }}{% endif %}{% endmacro %}${{ grow('ab', 40) }}",
     "joining with ~ would build"),
    ("{% macro spin(n) %}{% if n %}${{ spin(n - 1) }}${{ spin(n - 1) }}{% endif %}{% endmacro %}${{ spin(30) }}",
     "loops and calls ran more than"),
    ("{% for a in parameters.items %}{% for b in parameters.items %}{% for c in parameters.items %}"
     "{% endfor %}{% endfor %}{% endfor %}", "loops and calls ran more than"),
])
def test_oversized_work_is_stopped(renderer, text, why):
    with pytest.raises(ExpressionError, match="too large") as caught:
        attempt(renderer, text)
    assert caught.match(why)


def test_the_string_format_operator_is_refused(renderer):
    with pytest.raises(ExpressionError, match="% string formatting operator is not allowed"):
        attempt(renderer, "${{ '%999999999d' % 1 }}")


def test_runaway_recursion_is_stopped(renderer):
    with pytest.raises(ExpressionError, match="recursed too deeply"):
        attempt(renderer, "{% macro f() %}${{ f() }}{% endmacro %}${{ f() }}")


def test_a_loop_variable_cannot_switch_off_the_loop_guard(renderer):
    text = ("{% set guard_loop = none %}{% for i in range(10000) %}{% for j in range(10000) %}"
            "{% endfor %}{% endfor %}")
    with pytest.raises(ExpressionError, match="loops and calls ran more than"):
        attempt(renderer, text)


def test_a_native_value_over_the_limit_is_refused():
    renderer = ExpressionRenderer(ExpressionLimits(max_output_chars=50))
    with pytest.raises(ExpressionError, match="longer than 50 characters"):
        renderer.render_value("${{ parameters.big }}", expression_context({"big": ["x" * 20] * 3}), where="w")


def test_work_within_the_limits_still_renders(renderer):
    assert attempt(renderer, "${{ 'ab' * 3 }}") == "ababab"
    assert attempt(renderer, "{% for i in range(3) %}${{ i }}{% endfor %}") == "012"
    assert attempt(renderer, "${{ 2 ** 10 }}") == 1024
    assert attempt(renderer, "${{ parameters.name | center(7) }}") == "  svc  "


@pytest.mark.parametrize("text", ["{% include '/etc/passwd' %}", "{% import 'x.html' as x %}",
                                  "{% extends '../../etc/passwd' %}"])
def test_templates_cannot_load_other_files(renderer, text):
    with pytest.raises(ExpressionError, match="no loader for this environment specified"):
        attempt(renderer, text)
