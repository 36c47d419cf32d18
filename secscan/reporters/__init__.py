"""Report formats: one module per format, an explicit registry keyed by :class:`Format`.

Every reporter is pure: ``render(result) -> str``; the clock, tool versions and statuses all come
from the :class:`RunResult`. The CLI writes what they return (atomically). Modules are imported
on first use so ``secscan report --format sarif`` never pays for jinja2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, cast

from secscan.errors import ConfigError
from secscan.models import Kind, RunResult, ScannerState


class Format(str, Enum):  # noqa: UP042 - same str-valued enum style as secscan.models
    SARIF = "sarif"
    GITLAB_SAST = "gitlab-sast"
    GITLAB_DEPENDENCY_SCANNING = "gitlab-dependency-scanning"
    GITLAB_DAST = "gitlab-dast"
    GITLAB_SECRET_DETECTION = "gitlab-secret-detection"  # noqa: S105 - a format name, not a password
    CODEQUALITY = "codequality"
    JUNIT = "junit"
    HTML = "html"
    MARKDOWN = "markdown"
    JSON = "json"
    TERMINAL = "terminal"

    def __str__(self) -> str:
        return self.value


class _RenderFn(Protocol):
    def __call__(self, result: RunResult) -> str: ...


@dataclass(frozen=True, kw_only=True)
class FormatSpec:
    """How one format is produced and where it goes."""

    module: str
    """``module:function`` with signature ``(result: RunResult) -> str``."""
    filename: str
    """Default file name in the output directory."""
    description: str
    gitlab_report: str | None = None
    """The ``artifacts:reports:`` key of a GitLab CI job that takes this file, if any."""
    applies: Callable[[RunResult], bool] = lambda result: True
    """Whether ``all`` includes this format for a given result."""


def _has_kind(kind: Kind) -> Callable[[RunResult], bool]:
    """A GitLab report applies when findings of its kind exist or a scanner producing that kind
    (as the scanner registry declares) actually ran.

    An empty report from a scanner that ran matters: it tells GitLab the earlier findings are gone.
    """

    def check(result: RunResult) -> bool:
        if any(f.kind is kind for f in result.findings):
            return True
        from secscan.scanners import registry

        # Only the scanners of the result are asked: their backends are loaded already.
        return any(s.state is not ScannerState.SKIPPED and registry.produces(s.name, kind) for s in result.scanners)

    return check


REGISTRY: dict[Format, FormatSpec] = {
    Format.SARIF: FormatSpec(
        module="secscan.reporters.sarif:render",
        filename="secscan.sarif",
        description="SARIF 2.1.0, one run per scanner (GitHub code scanning, IDE viewers)",
    ),
    Format.GITLAB_SAST: FormatSpec(
        module="secscan.reporters.gitlab:render_sast",
        filename="gl-sast-report.json",
        description="GitLab SAST report (schema 15.2.1)",
        gitlab_report="sast",
        applies=_has_kind(Kind.SAST),
    ),
    Format.GITLAB_DEPENDENCY_SCANNING: FormatSpec(
        module="secscan.reporters.gitlab:render_dependency_scanning",
        filename="gl-dependency-scanning-report.json",
        description="GitLab dependency scanning report (schema 15.2.1)",
        gitlab_report="dependency_scanning",
        applies=_has_kind(Kind.DEPENDENCY),
    ),
    Format.GITLAB_DAST: FormatSpec(
        module="secscan.reporters.gitlab:render_dast",
        filename="gl-dast-report.json",
        description="GitLab DAST report (schema 15.2.1)",
        gitlab_report="dast",
        applies=_has_kind(Kind.DAST),
    ),
    Format.GITLAB_SECRET_DETECTION: FormatSpec(
        module="secscan.reporters.gitlab:render_secret_detection",
        filename="gl-secret-detection-report.json",
        description="GitLab secret detection report (schema 15.2.1)",
        gitlab_report="secret_detection",
        applies=_has_kind(Kind.SECRET),
    ),
    Format.CODEQUALITY: FormatSpec(
        module="secscan.reporters.codequality:render",
        filename="gl-code-quality-report.json",
        description="GitLab Code Quality (CodeClimate subset)",
        gitlab_report="codequality",
    ),
    Format.JUNIT: FormatSpec(
        module="secscan.reporters.junit:render",
        filename="secscan-junit.xml",
        description="JUnit XML, one test case per finding (blocking ones fail)",
        gitlab_report="junit",
    ),
    Format.HTML: FormatSpec(
        module="secscan.reporters.html:render",
        filename="secscan-report.html",
        description="Self-contained HTML report (no network fetches)",
    ),
    Format.MARKDOWN: FormatSpec(
        module="secscan.reporters.markdown:render",
        filename="secscan-summary.md",
        description="Markdown summary (merge request note, job log)",
    ),
    Format.JSON: FormatSpec(
        module="secscan.reporters.resultjson:render",
        filename="secscan.json",
        description="secscan's own result document (schema secscan/1)",
    ),
    Format.TERMINAL: FormatSpec(
        module="secscan.reporters.terminal:render",
        filename="secscan.txt",
        description="Plain-text summary for terminals and CI logs",
    ),
}

ALL = "all"


def valid_names() -> str:
    return ", ".join([*(f.value for f in Format), ALL])


def parse_format(name: str) -> Format:
    """A format by name (case-insensitive); :class:`ConfigError` naming the valid ones."""
    try:
        return Format(name.strip().lower())
    except ValueError:
        raise ConfigError(f"unknown report format {name!r} (valid: {valid_names()})") from None


def spec(fmt: str | Format) -> FormatSpec:
    return REGISTRY[parse_format(fmt) if isinstance(fmt, str) else fmt]


def applies(fmt: str | Format, result: RunResult) -> bool:
    return spec(fmt).applies(result)


def expand(names: Sequence[str], result: RunResult | None = None) -> tuple[str, ...]:
    """Validate format names (commas allowed) and expand ``all``; order kept, duplicates dropped.

    ``all`` means every format that applies to ``result`` (e.g. gitlab-secret-detection only
    when there are secret findings); without a result it means every format. Formats named
    explicitly are always kept: the user asked for them.
    """
    out: list[str] = []
    for raw in names:
        for name in (n.strip() for n in raw.split(",")):
            if not name:
                continue
            if name.lower() == ALL:
                chosen = [f.value for f in Format if result is None or REGISTRY[f].applies(result)]
            else:
                chosen = [parse_format(name).value]
            out.extend(c for c in chosen if c not in out)
    return tuple(out)


def default_filename(fmt: str | Format) -> str:
    return spec(fmt).filename


def _load(fmt: Format) -> _RenderFn:
    module_name, attr = REGISTRY[fmt].module.split(":")
    return cast(_RenderFn, getattr(importlib.import_module(module_name), attr))


def render(fmt: str | Format, result: RunResult, *, report_url: str | None = None) -> str:
    """Render ``result`` in format ``fmt`` (a :class:`Format` or its name).

    ``report_url`` (where the full report will be, e.g. the job's artifact URL) is used by the
    summary formats that point to it when they truncate.
    """
    f = parse_format(fmt) if isinstance(fmt, str) else fmt
    if f is Format.MARKDOWN and report_url is not None:
        from secscan.reporters import markdown

        return markdown.render(result, report_url=report_url)
    return _load(f)(result)
