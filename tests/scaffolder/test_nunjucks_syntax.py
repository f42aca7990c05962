from __future__ import annotations

from portal.scaffolder.nunjucks_syntax import translate_nunjucks_syntax
from portal.scaffolder.sandbox import ExpressionLimits, ScaffolderSandbox

SANDBOX = ScaffolderSandbox(ExpressionLimits())


def test_strict_equality_becomes_jinja_equality():
    assert translate_nunjucks_syntax(SANDBOX, "${{ a === 'b' }}") == "${{ a == 'b' }}"
    assert translate_nunjucks_syntax(SANDBOX, "${{ a !== 'b' }}") == "${{ a != 'b' }}"


def test_bare_object_keys_are_quoted():
    assert translate_nunjucks_syntax(SANDBOX, "${{ f({ kind: 'x', b:1 }) }}") == "${{ f({ 'kind': 'x', 'b':1 }) }}"


def test_text_outside_expressions_and_inside_strings_is_left_alone():
    source = "a === b { key: 1 } ${{ 'x === y { k: 1 }' }}"
    assert translate_nunjucks_syntax(SANDBOX, source) == source


def test_quoted_keys_and_slices_stay_as_written():
    source = "${{ {'a': 1} }} ${{ items[1:2] }} ${{ {'a': x if y else z} }}"
    assert translate_nunjucks_syntax(SANDBOX, source) == source
