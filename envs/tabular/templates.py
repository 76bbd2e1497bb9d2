"""Jinja2 templates and expressions of a YAML family, checked when the file is read.

Every text (prompt parts, the lookup file name) is a template and every computed number
(payoffs over context columns, features) an expression, in one sandboxed Jinja2 environment
(``jinja2.sandbox.SandboxedEnvironment``): a YAML file is data, and rendering it must not
reach into Python.  ``StrictUndefined`` makes a misspelt name an error instead of an empty
string, and the names a template uses are compared with the names its scope will hold as
soon as it is compiled, so ``stag.yaml: prompt.rules: 'ofer' is undefined`` comes when
the family is loaded, not after an hour of scoring.  What only a value can reveal (an
attribute it lacks, a division by zero) is reported the same way, with the decision, when
it is first rendered.

Whitespace: ``trim_blocks`` and ``lstrip_blocks`` are on (a ``{% for %}`` line leaves no
blank line behind), the template's own final newline is dropped (``keep_trailing_newline``
off) and a rendered text loses its trailing newlines, so a loop may end every line with one.

Functions every template and expression can call: ``log exp sqrt abs min max float int len
round sum mean count`` (``count(xs, x)`` = how many items of ``xs`` equal ``x``; ``mean(xs)``
the arithmetic mean), and the filter ``num`` writes a number as Python's ``f"{x:g}"`` does
(8.0 -> ``8``, 0.5 -> ``0.5``).  In a decision's scope ``round`` is the round number, which
hides the function of the same name.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from envs.tabular.errors import FamilySpecError


def _mean(xs: Iterable[float]) -> float:
    xs = list(xs)
    if not xs:
        raise ValueError("mean of an empty sequence")
    return sum(xs) / len(xs)


def _count(xs: Iterable[Any], x: Any) -> int:
    return sum(1 for y in xs if y == x)


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) and not isinstance(x, bool) else str(x)


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, trim_blocks=True,
                               lstrip_blocks=True, autoescape=False)
    env.globals.update(log=math.log, exp=math.exp, sqrt=math.sqrt, abs=abs, min=min, max=max, float=float,
                       int=int, len=len, round=round, sum=sum, mean=_mean, count=_count)
    env.filters["num"] = _num
    return env


ENV = _environment()
#: names every template can use whatever its scope
GLOBAL_NAMES = frozenset(ENV.globals)


def _undefined(names: set[str]) -> str:
    quoted = ", ".join(repr(n) for n in sorted(names))
    return f"{quoted} {'is' if len(names) == 1 else 'are'} undefined"


class _Compiled:
    """What templates and expressions share: where they come from and the names they use."""

    def __init__(self, source: str, file: str, key: str, allowed: Iterable[str], wrapped: str):
        self.source, self.file, self.key = source, file, key
        try:
            ast = ENV.parse(wrapped)
        except TemplateError as exc:
            raise FamilySpecError(file, key, _message(exc)) from None
        #: the scope names this text reads (loop variables and globals aside)
        self.names = frozenset(meta.find_undeclared_variables(ast)) - GLOBAL_NAMES
        unknown = set(self.names) - set(allowed)
        if unknown:
            raise FamilySpecError(file, key, _undefined(unknown))

    def _fail(self, exc: Exception, where: str) -> FamilySpecError:
        return FamilySpecError(self.file, self.key, _message(exc) + (f" (in {where})" if where else ""))


def _message(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.message} (line {exc.lineno})"
    if isinstance(exc, TemplateError):
        return exc.message or str(exc)
    return f"{type(exc).__name__}: {exc}"


class Template(_Compiled):
    """A text template; ``render(scope)`` gives the text, without trailing newlines."""

    def __init__(self, source: str, file: str, key: str, allowed: Iterable[str]):
        if not isinstance(source, str):
            raise FamilySpecError(file, key, f"expected a text (a Jinja2 template), got {type(source).__name__}")
        super().__init__(source, file, key, allowed, source)
        self._template = ENV.from_string(source)

    def render(self, scope: Mapping[str, Any], where: str = "") -> str:
        try:
            return self._template.render(scope).rstrip("\n")
        except Exception as exc:  # any failure inside a user's template is that template's error
            raise self._fail(exc, where) from None


class Expression(_Compiled):
    """A Jinja2 expression (``"stake - offer"``); calling it with a scope gives its value."""

    def __init__(self, source: str, file: str, key: str, allowed: Iterable[str]):
        if not isinstance(source, str) or not source.strip():
            raise FamilySpecError(file, key, f"expected an expression (a text), got {source!r}")
        super().__init__(source, file, key, allowed, "{{ (" + source + ") }}")
        try:
            self._expr = ENV.compile_expression(source, undefined_to_none=False)
        except TemplateError as exc:
            raise FamilySpecError(file, key, _message(exc)) from None

    def __call__(self, scope: Mapping[str, Any], where: str = "") -> Any:
        try:
            value = self._expr(**scope)
            if isinstance(value, StrictUndefined):
                str(value)  # raises the UndefinedError naming the missing name
            return value
        except Exception as exc:
            raise self._fail(exc, where) from None


class Constant:
    """A number written as a number (``10``) where an expression may stand."""

    names: frozenset[str] = frozenset()

    def __init__(self, value: float):
        self.value = value

    def __call__(self, scope: Mapping[str, Any], where: str = "") -> float:
        return self.value


def number_or_expression(value: Any, file: str, key: str, allowed: Iterable[str]) -> Constant | Expression:
    """A YAML value that is either a number or an expression text."""
    if isinstance(value, bool):
        raise FamilySpecError(file, key, f"expected a number or an expression, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise FamilySpecError(file, key, f"expected a finite number, got {value!r}")
        return Constant(float(value))
    return Expression(value, file, key, allowed)
