"""`${{ … }}` expressions in template steps and outputs, rendered in a sandboxed Jinja2 environment.

Backstage's rules (https://backstage.io/docs/features/software-templates/writing-templates):
a string that is exactly one `${{ expr }}` gives the expression's own value (object, list, number,
boolean); any other string renders to text. An undefined variable renders as nothing, and a value that
renders to nothing (undefined, or empty text) is left out of the object holding it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import Template as JinjaTemplate
from jinja2 import TemplateSyntaxError

from portal.scaffolder.filters import BACKSTAGE_FILTERS, to_plain
from portal.scaffolder.nunjucks_syntax import translate_nunjucks_syntax
from portal.scaffolder.sandbox import ExpressionLimitExceeded, ExpressionLimits, ScaffolderSandbox, work_budget

COMPILED_CACHE_SIZE = 2048
MAX_CACHED_TEXT = 256 * 1024
SECRET_MASK = "***"


class ExpressionError(ValueError):
    """An expression could not be rendered; the message names where it is and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def expression_context(
    parameters: Mapping[str, Any],
    steps: Mapping[str, Any] | None = None,
    user: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The variables a template's steps and output see: parameters, steps.<id>.output, user, secrets."""
    return {"parameters": dict(parameters), "steps": dict(steps or {}), "user": dict(user or {}),
            "secrets": dict(secrets or {})}


def mask_secrets(message: str, secrets: Mapping[str, Any] | Iterable[Any] | None) -> str:
    """The message with every secret value replaced by ***."""
    values = secrets.values() if isinstance(secrets, Mapping) else (secrets or ())
    for secret in sorted((str(v) for v in values if v not in (None, "")), key=len, reverse=True):
        message = message.replace(secret, SECRET_MASK)
    return message


class ExpressionRenderer:
    """Renders template values in one sandbox; cheap to reuse, compiled templates are cached."""

    def __init__(self, limits: ExpressionLimits | None = None,
                 extra_filters: Mapping[str, Callable[..., Any]] | None = None, **jinja_options: Any) -> None:
        self.limits = limits or ExpressionLimits()
        self.environment = ScaffolderSandbox(self.limits, **jinja_options)
        self.environment.filters.update(BACKSTAGE_FILTERS)
        self.environment.filters.update(extra_filters or {})
        self._compiled: dict[str, JinjaTemplate] = {}
        self._expressions: dict[str, Callable[..., Any]] = {}
        self._single: dict[str, str | None] = {}

    def render_value(self, value: Any, context: Mapping[str, Any], *, where: str,
                     secrets: Mapping[str, Any] | None = None) -> Any:
        """Render every string in a value (walking dicts and lists); None means 'left out'."""
        if isinstance(value, str):
            return self._render_string(value, context, where, secrets)
        if isinstance(value, Mapping):
            rendered = {key: self.render_value(item, context, where=f"{where}.{key}", secrets=secrets)
                        for key, item in value.items()}
            return {key: item for key, item in rendered.items() if item is not None}
        if isinstance(value, list):
            return [self.render_value(item, context, where=f"{where}[{index}]", secrets=secrets)
                    for index, item in enumerate(value)]
        return value

    def evaluate_condition(self, condition: Any, context: Mapping[str, Any], *, where: str,
                           secrets: Mapping[str, Any] | None = None) -> bool:
        """A step's `if`: rendered, then truthy as in JavaScript (empty lists and objects are false)."""
        return bool(self.render_value(condition, context, where=where, secrets=secrets))

    def render_text(self, text: str, context: Mapping[str, Any], *, where: str,
                    secrets: Mapping[str, Any] | None = None) -> str:
        """Render a string to text (file contents and names), never a native value."""
        if not _has_template_syntax(text):
            return text
        try:
            return self._render_template(text, context)
        except Exception as error:  # noqa: BLE001 - every failure becomes one message for people
            raise _expression_error(where, text, error, secrets) from None

    def _render_string(self, text: str, context: Mapping[str, Any], where: str,
                       secrets: Mapping[str, Any] | None) -> Any:
        if not _has_template_syntax(text):
            return text
        try:
            expression = self._single_expression(text)
            if expression is not None:
                return self._evaluate_native(expression, context)
            rendered = self._render_template(text, context)
        except Exception as error:  # noqa: BLE001 - every failure becomes one message for people
            raise _expression_error(where, text, error, secrets) from None
        return rendered if rendered != "" else None

    def _single_expression(self, text: str) -> str | None:
        """The expression if `text` is exactly one `${{ expr }}` (surrounding spaces allowed), else None."""
        if text in self._single:
            return self._single[text]
        expression = self._find_single_expression(text)
        self._remember(self._single, text, expression)
        return expression

    def _find_single_expression(self, text: str) -> str | None:
        tokens = list(self.environment.lexer.tokeniter(text.strip(), None))
        if len(tokens) < 2 or tokens[0][1] != "variable_begin" or tokens[-1][1] != "variable_end":
            return None
        if any(kind in ("variable_begin", "variable_end", "block_begin", "data") for _, kind, _ in tokens[1:-1]):
            return None
        return "".join(raw for _, _, raw in tokens[1:-1])

    def _evaluate_native(self, expression: str, context: Mapping[str, Any]) -> Any:
        compiled = self._expressions.get(expression)
        if compiled is None:
            translated = translate_nunjucks_syntax(self.environment, "${{" + expression + "}}")[3:-2]
            compiled = self.environment.compile_guarded_expression(translated)
            self._remember(self._expressions, expression, compiled)
        with work_budget(self.limits):
            value = to_plain(compiled(**context))
        if len(json.dumps(value)) > self.limits.max_output_chars:
            raise ExpressionLimitExceeded(f"the value is longer than {self.limits.max_output_chars} characters")
        return value

    def _render_template(self, text: str, context: Mapping[str, Any]) -> str:
        template = self._compiled.get(text)
        if template is None:
            tree = self.environment.parse_guarded(translate_nunjucks_syntax(self.environment, text))
            template = self.environment.from_string(tree)
            self._remember(self._compiled, text, template)
        pieces, length = [], 0
        with work_budget(self.limits):
            # Streamed, so that an oversized rendering stops as soon as it passes the limit.
            for piece in template.generate(context):
                length += len(piece)
                if length > self.limits.max_output_chars:
                    raise ExpressionLimitExceeded(f"the text is longer than {self.limits.max_output_chars} characters")
                pieces.append(piece)
        return "".join(pieces)

    @staticmethod
    def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
        # Templates are few and reused; a full cache is simply started again rather than tracked per entry.
        if len(key) > MAX_CACHED_TEXT:
            return
        if len(cache) >= COMPILED_CACHE_SIZE:
            cache.clear()
        cache[key] = value


def _has_template_syntax(text: str) -> bool:
    return "${{" in text or "{%" in text or "{#" in text


def _expression_error(where: str, text: str, error: BaseException, secrets: Mapping[str, Any] | None) -> ExpressionError:
    if isinstance(error, TemplateSyntaxError):
        reason = f"syntax error: {error.message}"
    elif isinstance(error, RecursionError):
        reason = "the expression recursed too deeply"
    elif isinstance(error, (ExpressionLimitExceeded, MemoryError)):
        reason = f"too large: {error}"
    else:
        reason = str(error) or type(error).__name__
    excerpt = text if len(text) <= 120 else text[:117] + "..."
    return ExpressionError(where, mask_secrets(f"{reason} (in {excerpt!r})", secrets))
