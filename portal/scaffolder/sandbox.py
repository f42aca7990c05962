"""The Jinja2 sandbox that template expressions run in, with limits on what they may build and how long they loop."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, Undefined, nodes
from jinja2.environment import TemplateExpression
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# Expressions use Backstage's `${{ … }}`; `{% … %}` blocks and `{# … #}` comments stay active, as in
# Backstage's Nunjucks setup, so a skeleton that works there renders the same here.
VARIABLE_START = "${{"
VARIABLE_END = "}}"


@dataclass(frozen=True)
class ExpressionLimits:
    """How much one rendering may produce and how much work it may do."""

    max_output_chars: int = 1_000_000
    max_work_steps: int = 100_000
    max_range: int = 10_000
    max_power_exponent: int = 256


class ExpressionLimitExceeded(SecurityError):
    """An expression tried to build or loop more than the limits allow."""


# Filters that Jinja and Nunjucks (Backstage's engine) share, plus a few harmless Jinja ones. Left out
# on purpose: `format`, `attr`, `pprint`, `xmlattr`, `filesizeformat`, `urlize`, `wordwrap`, `safe`.
KEPT_JINJA_FILTERS = (
    "abs", "batch", "capitalize", "center", "d", "default", "dictsort", "e", "escape", "first", "float",
    "groupby", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min",
    "reject", "rejectattr", "replace", "reverse", "round", "select", "selectattr", "slice", "sort",
    "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode",
    "wordcount",
)

# Filters whose numeric arguments set a width or a count of pieces to build.
AMPLIFYING_FILTERS = frozenset({"center", "indent", "truncate", "batch", "slice", "join"})

# Methods callable on values inside an expression; everything else (and every `_` name) is refused.
ALLOWED_METHODS = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit",
    "splitlines", "title", "capitalize", "replace", "find", "count", "isdigit", "isalpha", "isalnum",
    "islower", "isupper", "keys", "values", "items", "get", "index",
})

# Numbers beyond this many bits take noticeable time to compute and print.
MAX_NUMBER_BITS = 4096

_work_budget: ContextVar[list[int] | None] = ContextVar("scaffolder_work_budget", default=None)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, list, tuple, dict)) else 0


def _is_sized(value: Any) -> bool:
    return isinstance(value, (str, bytes, list, tuple))


class ScaffolderSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox that also bounds sizes, loops and the attributes an expression can reach."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, limits: ExpressionLimits, **options: Any) -> None:
        super().__init__(
            variable_start_string=VARIABLE_START, variable_end_string=VARIABLE_END,
            undefined=ChainableUndefined, finalize=_finalize, autoescape=False, keep_trailing_newline=True,
            **options,
        )
        self.limits = limits
        self.filters = {name: _bounded(name, self.filters[name], limits) for name in KEPT_JINJA_FILTERS}
        self.filters["replace"] = bounded_replace(limits)
        self.globals = {"range": self.bounded_range, "dict": dict, "true": True, "false": False, "null": None}

    def bounded_range(self, *args: int) -> range:
        """Python's range, refused beyond `max_range` items."""
        numbers = range(*args)
        if len(numbers) > self.limits.max_range:
            raise ExpressionLimitExceeded(
                f"range() of {len(numbers)} items is more than the {self.limits.max_range} allowed")
        return numbers

    def charge_work(self) -> None:
        """Count one loop iteration or call against the rendering's budget."""
        budget = _work_budget.get()
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                raise ExpressionLimitExceeded(
                    f"loops and calls ran more than {self.limits.max_work_steps} times in one rendering")

    def guard_loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Charge each `{% for %}` iteration to the rendering's budget (nested loops multiply)."""
        for item in iterable:
            self.charge_work()
            yield item

    def bounded_concat(self, values: list[Any]) -> str:
        """The `~` operator, refused before it builds text over the limit."""
        pieces = [str(value) for value in values]
        if sum(map(len, pieces)) > self.limits.max_output_chars:
            raise ExpressionLimitExceeded(f"joining with ~ would build more than {self.limits.max_output_chars} characters")
        return "".join(pieces)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(attribute, str) and attribute.startswith("_"):
            raise SecurityError(f"access to {attribute!r} is not allowed: names starting with '_' are private")
        if isinstance(obj, str) and attribute in ("format", "format_map"):
            # Jinja's sandbox offers a wrapped str.format; widths in its spec could still build huge text.
            return self.unsafe_undefined(obj, attribute)
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]  # data first: `parameters.items` is a field, not dict.items
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(value, Undefined):
            return True  # a missing attribute of a missing value stays undefined, as in Nunjucks
        if callable(value) and attr not in ALLOWED_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} value is not allowed in a template")

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        # Every call in a sandboxed template comes here, macros included: recursion spends the budget too.
        __self.charge_work()
        if getattr(__obj, "__name__", "") == "replace" and isinstance(getattr(__obj, "__self__", None), str):
            _check_replace_size(__obj.__self__, args, __self.limits)
        result = super().call(__context, __obj, *args, **kwargs)
        return _checked_size(result, __self.limits)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        _check_binop(operator_name, left, right, self.limits)
        return _checked_size(super().call_binop(context, operator_name, left, right), self.limits)

    def parse_guarded(self, source: str) -> nodes.Template:
        """Parse a template, with loops and `~` routed through their guards."""
        return _Guards().visit(self.parse(source))

    def compile_guarded_expression(self, source: str) -> TemplateExpression:
        """Like `compile_expression`, with the same guards, keeping undefined values undefined."""
        parser = Parser(self, source, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("unexpected text after the expression", parser.stream.current.lineno)
        body = [nodes.Assign(nodes.Name("result", "store"), _Guards().visit(expression), lineno=1)]
        return TemplateExpression(self.from_string(nodes.Template(body, lineno=1)), False)


class _Guards(NodeTransformer):
    """Rewrites a parsed template so loops and `~` go through the sandbox's guards.

    The guards are reached as environment attributes, so that no template variable can shadow them.
    """

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _guard_call("guard_loop", node.iter, node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _guard_call("bounded_concat", nodes.List(node.nodes, lineno=node.lineno), node.lineno)


def _guard_call(guard: str, argument: nodes.Expr, lineno: int) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(guard, lineno=lineno), [argument], [], None, None, lineno=lineno)


def _finalize(value: Any) -> Any:
    """Print values as Nunjucks does: nothing for null/undefined, `true`/`false` for booleans."""
    if value is None or isinstance(value, ChainableUndefined):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _check_binop(operator_name: str, left: Any, right: Any, limits: ExpressionLimits) -> None:
    if operator_name == "**" and isinstance(right, (int, float)) and isinstance(left, (int, float)):
        left_bits = left.bit_length() if isinstance(left, int) else 64
        if abs(right) > limits.max_power_exponent or left_bits * abs(right) > MAX_NUMBER_BITS:
            raise ExpressionLimitExceeded(f"{left} ** {right} would be a number too large to compute")
    if operator_name == "*":
        sized, count = (left, right) if _is_sized(left) else (right, left)
        if _is_sized(sized) and isinstance(count, int) and len(sized) * count > limits.max_output_chars:
            raise ExpressionLimitExceeded(
                f"repeating a value {count} times would exceed {limits.max_output_chars} characters")
    if operator_name == "%" and isinstance(left, str):
        raise SecurityError("the % string formatting operator is not allowed; use ~ to join text")
    if operator_name == "+" and _is_sized(left) and _is_sized(right):
        if len(left) + len(right) > limits.max_output_chars:
            raise ExpressionLimitExceeded(f"a value longer than {limits.max_output_chars} characters")


def _check_replace_size(text: str, args: tuple[Any, ...], limits: ExpressionLimits) -> None:
    if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        occurrences = text.count(args[0]) if args[0] else len(text) + 1
        if len(text) + occurrences * max(len(args[1]) - len(args[0]), 0) > limits.max_output_chars:
            raise ExpressionLimitExceeded(f"replace() would build more than {limits.max_output_chars} characters")


def _checked_size(value: Any, limits: ExpressionLimits) -> Any:
    if _size(value) > limits.max_output_chars:
        raise ExpressionLimitExceeded(f"a value longer than {limits.max_output_chars} characters")
    return value


def _bounded(name: str, jinja_filter: Callable[..., Any], limits: ExpressionLimits) -> Callable[..., Any]:
    """Wrap a built-in filter: widths and counts stay within the limits, and so does the result."""

    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        if name in AMPLIFYING_FILTERS:
            args = _checked_amplifier(name, args, kwargs, limits, has_context=hasattr(jinja_filter, "jinja_pass_arg"))
        return _checked_size(jinja_filter(*args, **kwargs), limits)

    # Jinja reads this marker to pass the context or environment first.
    if hasattr(jinja_filter, "jinja_pass_arg"):
        bounded_filter.jinja_pass_arg = jinja_filter.jinja_pass_arg  # type: ignore[attr-defined]
    return bounded_filter


def _checked_amplifier(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], limits: ExpressionLimits,
                       has_context: bool) -> tuple[Any, ...]:
    """Refuse widths and counts over the limit, and `indent`/`join` whose result would be too long."""
    first = 1 if has_context else 0
    value, options = args[first], [*args[first + 1:], *kwargs.values()]
    for option in options:
        if isinstance(option, int) and option > limits.max_range:
            raise ExpressionLimitExceeded(f"{name}() with {option} is more than the {limits.max_range} allowed")
    if name == "indent" and isinstance(value, str):
        width = next((o for o in options if isinstance(o, int) and not isinstance(o, bool)), 4)
        estimate = len(value) + (value.count("\n") + 1) * width
    elif name == "join":
        value = list(value)  # read once: it may be a generator
        args = (*args[:first], value, *args[first + 1:])
        separator = next((o for o in options if isinstance(o, str)), "")
        estimate = sum(len(str(item)) for item in value) + len(separator) * max(len(value) - 1, 0)
    else:
        estimate = 0
    if estimate > limits.max_output_chars:
        raise ExpressionLimitExceeded(f"{name}() would build more than {limits.max_output_chars} characters")
    return args


def bounded_replace(limits: ExpressionLimits) -> Callable[..., str]:
    """The `replace` filter, refused when it would build more than the limits allow."""

    def replace(text: Any, old: str, new: str, count: int | None = None) -> str:
        text = str(text)
        _check_replace_size(text, (old, new), limits)
        return text.replace(old, new, -1 if count is None else count)

    return replace


@contextmanager
def work_budget(limits: ExpressionLimits) -> Iterator[None]:
    """Give one rendering its own budget of loop iterations and calls."""
    token = _work_budget.set([limits.max_work_steps])
    try:
        yield
    finally:
        _work_budget.reset(token)


__all__ = ["ExpressionLimitExceeded", "ExpressionLimits", "ScaffolderSandbox", "work_budget"]
