"""Every setting of every command, declared once.

A setting's type is what msgspec converts it to; ``Annotated`` constraints replace hand-written
range checks. Adding a setting is one entry here (and, for ``scan``, the field of
:class:`secscan.config.ScanConfig` that carries it; a test keeps the two equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from msgspec import Meta

from secscan.settings.declare import UNSET, Setting

# The test-code defaults are data of their own module (a leaf: it imports only the models).
from secscan.settings.defaults import DEFAULT_PRODUCTION_ONLY_RULES, DEFAULT_TEST_PATHS

Strings = tuple[str, ...]
Count = Annotated[int, Meta(ge=0)]
Positive = Annotated[int, Meta(ge=1)]
Days = Positive
Seconds = Annotated[float, Meta(gt=0)]
Sha = Annotated[str, Meta(pattern=r"^[0-9a-fA-F]{7,64}$")]
# The name goes into a hidden HTML marker: letters, digits, . _ - only, so it can never close
# the comment or collide with another report's marker.
ReportName = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]

SCAN = frozenset({"scan", "config"})
TEAM_DB_COMMANDS = frozenset({"triage propose", "triage approve", "triage list", "triage export", "export"})
"""The security team's commands that read the history database (issue 31)."""
"""``config show`` takes scan's options, so it shows what a scan with them would use."""


def _scan(key: str, type_: Any, help_: str, *, default: Any = UNSET, verdict: bool = False, **kw: Any) -> Setting:
    """A ``secscan scan`` setting: an option, a ``[tool.secscan]`` key and ``SECSCAN_<KEY>``."""
    commands = SCAN | kw.pop("also", frozenset())
    env = kw.pop("env", ("SECSCAN_" + key.upper(),))
    return Setting(
        key=key, type=type_, help=help_, default=default, verdict=verdict, file=True, commands=commands, env=env, **kw
    )


def _env(name: str, help_: str) -> Setting:
    """A variable read outside the settings (a tool's executable, the audit trail, the CI
    template's job scripts): known, so it is not reported as a typo."""
    return Setting(key=name.lower(), type=str, help=help_, env=(name,))


SCAN_SETTINGS: tuple[Setting, ...] = (
    _scan("out_dir", Path, "Output directory.", default=Path("secscan-out"), flags=("-o", "--out"), metavar="DIR"),
    _scan("only", Strings, "Run only these scanners (repeat or comma-separate).", verdict=True, metavar="SCANNER"),
    _scan("skip", Strings, "Do not run these scanners.", verdict=True, metavar="SCANNER"),
    _scan(
        "timeouts",
        dict[str, float],
        "Per-scanner time limit; past it the scanner's whole process group is killed "
        "[unset: the scanner's own limit for its mode].",
        flags=("--timeout",),
        metavar="SCANNER=SECONDS",
        env=(),
        env_family="SECSCAN_TIMEOUT_",
    ),
    _scan("semgrep_rules", Strings, "Extra local semgrep rule files or folders.", verdict=True, metavar="PATH"),
    _scan(
        "semgrep_builtin_rules",
        bool,
        "Use secscan's payment-security semgrep rules.",
        default=True,
        verdict=True,
        flags=("--builtin-rules",),
        off_flag="--no-builtin-rules",
    ),
    _scan(
        "exclude",
        Strings,
        "gitignore-style patterns no scanner looks at (virtualenvs, .git, node_modules, build output always).",
        verdict=True,
        metavar="GLOB",
    ),
    _scan(
        "test_paths",
        Strings,
        "Test code: findings there are tagged test-code and do not block unless the policy says so "
        "('dir/' a folder at any depth, 'name' a file name, else a path glob).",
        default=DEFAULT_TEST_PATHS,
        verdict=True,
        metavar="GLOB",
    ),
    _scan(
        "production_only_rules",
        Strings,
        "Rules not reported in test code (assert, random, subprocess, /tmp).",
        default=DEFAULT_PRODUCTION_ONLY_RULES,
        verdict=True,
        metavar="RULE",
    ),
    _scan(
        "scan_all_test_code",
        bool,
        "Scan test code with every rule (its findings reported, tagged test-code) [off: test code gets "
        "only the rules whose findings can block there under the policy: live credentials, secrets if "
        "block.test_code says so].",
        default=False,
        verdict=True,
    ),
    _scan(
        "requirements",
        Strings,
        "Requirements files for pip-audit (default: discovered under PATH).",
        verdict=True,
        flags=("-r", "--requirements"),
        metavar="FILE",
    ),
    _scan(
        "audit_installed", bool, "Also audit the installed environment (python on PATH).", default=False, verdict=True
    ),
    _scan(
        "advisory_db", Path, "Local OSV advisory database (or folder/zip of OSV files).", verdict=True, metavar="PATH"
    ),
    _scan("osv_url", str, "An OSV-compatible endpoint for pip-audit.", verdict=True, metavar="URL"),
    _scan("zap_target", str, "Run ZAP against this URL.", verdict=True, metavar="URL"),
    _scan(
        "zap_image",
        str,
        "ZAP container image.",
        default="ghcr.io/zaproxy/zaproxy:stable",
        verdict=True,
        metavar="IMAGE",
    ),
    _scan("zap_pull", bool, "Pull the ZAP image if it is not present.", default=False),
    _scan("zap_minutes", Count, "ZAP spider minutes (-m) [1; full scans 10].", verdict=True, metavar="N"),
    _scan(
        "zap_options",
        str,
        "Extra option for zap-baseline.py (repeatable).",
        verdict=True,
        flags=("--zap-option",),
        joined=True,
        metavar="OPT",
    ),
    _scan("zap_config", Path, "ZAP rule config (-c) [rules/zap/baseline.conf].", verdict=True, metavar="FILE"),
    # zap-2 (issue 22): ZAP modes and authentication, checked by secscan/zap/settings.py. All
    # decide what is scanned and with which credentials: trusted side only.
    _scan("zap_mode", str, "ZAP scan: baseline, api or full [api with a definition].", verdict=True, metavar="MODE"),
    _scan(
        "zap_api_definition", str, "OpenAPI/WSDL/GraphQL schema for --zap-mode api.", verdict=True, metavar="PATH|URL"
    ),
    _scan("zap_api_format", str, "API format: openapi, soap or graphql [detected].", verdict=True, metavar="FORMAT"),
    _scan(
        "zap_auth_header",
        str,
        "Header ZAP sends to the target (value: --zap-auth-header-env).",
        verdict=True,
        metavar="NAME",
    ),
    _scan(
        "zap_auth_header_env",
        str,
        "Variable holding the header value [ZAP_AUTH_HEADER_VALUE].",
        verdict=True,
        metavar="VAR",
    ),
    _scan("zap_context", Path, "ZAP context file for form/script logins (-n).", verdict=True, metavar="FILE"),
    _scan("zap_user", str, "User of --zap-context to scan as (-U).", verdict=True, metavar="NAME"),
    _scan(
        "baseline",
        Path,
        "Baseline file: mark findings new/existing/fixed.",
        verdict=True,
        metavar="FILE",
        also=frozenset({"import"}),
    ),
    _scan(
        "diff_base",
        str,
        "Git ref: findings on lines changed since REF are new; settings, policy, suppressions and baseline "
        "are read as they are at REF [CI_MERGE_REQUEST_DIFF_BASE_SHA].",
        metavar="REF",
        also=frozenset({"import"}),
    ),
    _scan("changed_only", bool, "Scan only files changed since --diff-base.", default=False, verdict=True),
    _scan(
        "secrets_history",
        str,
        "Also scan the added lines of every commit since REF for secrets [the diff base, if any].",
        verdict=True,
        metavar="REF",
    ),
    _scan(
        "suppressions",
        Path,
        "Suppressions file [.secscan/suppressions.toml].",
        verdict=True,
        metavar="FILE",
        also=frozenset({"import", "suppress"}),
        helps={
            "suppress": "The suppressions file to add the entry to "
            "[.secscan/suppressions.toml at the top of the git checkout]."
        },
    ),
    _scan(
        "policy",
        Path,
        "Gate policy TOML [rules/policy/default.toml].",
        verdict=True,
        metavar="FILE",
        also=frozenset({"gate", "suppress", "compliance check", "dashboard"}),
        helps={
            "compliance check": "Policy whose [sla] days decide which open findings are past their SLA"
            " [rules/policy/default.toml].",
            "dashboard": "Policy whose [sla] days decide which open findings are past their SLA"
            " [rules/policy/default.toml].",
            "gate": "Policy file, overriding the one the result records "
            "(default: the recorded policy, else the shipped default).",
            "suppress": "Policy whose suppressions.max_days limits the expiry "
            "(default: the policy the result records, else the shipped default).",
        },
    ),
    _scan(
        "formats",
        Strings,
        "Extra report formats ('all' for every one).",
        flags=("-f", "--format"),
        metavar="FORMAT",
    ),
    _scan("publish", bool, "Post the result to the GitLab merge request.", default=False),
    _scan(
        "require_publish",
        bool,
        "Exit 4 when publishing fails.",
        default=False,
        also=frozenset({"publish"}),
        helps={"publish": "Exit 4 when publishing fails (otherwise report it and exit 0)."},
    ),
    _scan(
        "fail_closed",
        bool,
        "Whether a failed scanner fails the gate (exit 3) [the policy's fail_closed].",
        verdict=True,
        off_aliases=("--fail-open",),
        also=frozenset({"gate"}),
    ),
    _scan(
        "verbose",
        bool,
        "Show every finding in full, not only the blocking ones (the others are counted per rule).",
        default=False,
        flags=("-v", "--verbose"),
        off_flag="",
        also=frozenset({"gate"}),
    ),
    _scan(
        "heartbeat",
        Seconds,
        "Without a terminal, print a line for each scanner still running at least this often.",
        default=15.0,
        metavar="SECONDS",
    ),
    _scan("jobs", Positive, "Scanners running at the same time.", default=4, flags=("-j", "--jobs"), metavar="N"),
    _scan("cache", bool, "Reuse per-file results of bandit and semgrep for files that did not change.", default=True),
    _scan("cache_dir", Path, "Folder of the per-file result cache [the user cache folder].", metavar="DIR"),
    _scan(
        "shard",
        str,
        "Scan the K-th of N deterministic slices of the files (merge the N results with secscan merge).",
        verdict=True,
        metavar="K/N",
    ),
)

PUBLISH = frozenset({"publish"})


def _publish(key: str, type_: Any, help_: str, *env: str, **kw: Any) -> Setting:
    """A ``secscan publish`` setting (also read by ``scan --publish`` from the environment)."""
    return Setting(key=key, type=type_, help=help_, env=env, commands=kw.pop("commands", PUBLISH), **kw)


PUBLISH_SETTINGS: tuple[Setting, ...] = (
    _publish(
        "api_url",
        str,
        "GitLab API v4 URL.",
        "CI_API_V4_URL",
        flags=("--gitlab-url",),
        metavar="URL",
        commands=PUBLISH | {"scan"},
        helps={"scan": "GitLab API v4 URL for --publish."},
    ),
    _publish("project_id", str, "Project id or path.", "CI_MERGE_REQUEST_PROJECT_ID", metavar="ID"),
    _publish("mr_iid", Positive, "Merge request IID.", "CI_MERGE_REQUEST_IID", metavar="IID"),
    _publish("diff_base_sha", Sha, "The merge request's diff base (informational).", "CI_MERGE_REQUEST_DIFF_BASE_SHA"),
    _publish("commit_sha", Sha, "Commit for the status, and the scanned commit.", "CI_COMMIT_SHA", metavar="SHA"),
    _publish(
        "source_branch_sha",
        Sha,
        "Merged-results pipelines: the merge request head that was merged (the scanned commit).",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
        commands=frozenset(),
    ),
    _publish("job_url", str, "Link in the note and status.", "CI_JOB_URL", metavar="URL"),
    _publish("pipeline_url", str, "Link to the pipeline.", "CI_PIPELINE_URL", metavar="URL"),
    _publish(
        "report_name",
        ReportName,
        "One summary note per report name.",
        "SECSCAN_REPORT_NAME",
        default="secscan",
        metavar="NAME",
    ),
    _publish(
        "min_severity",
        str,
        "Inline threads for new findings at or above this.",
        "SECSCAN_THREAD_MIN_SEVERITY",
        default="medium",
        metavar="SEV",
    ),
    _publish(
        "max_threads", Count, "At most N findings discussed inline.", "SECSCAN_MAX_THREADS", default=10, metavar="N"
    ),
    _publish("commit_status", bool, "Also set a `secscan` commit status.", "SECSCAN_COMMIT_STATUS", default=False),
    _publish("dry_run", bool, "Print what would be posted; write nothing.", default=False, off_flag=""),
    _publish(
        "allow_http",
        bool,
        "Allow a plain-HTTP GitLab URL (test servers only).",
        "SECSCAN_GITLAB_ALLOW_HTTP",
        default=False,
        off_flag="",
    ),
    _publish("html_report_url", str, "Link to the HTML report artifact.", "SECSCAN_HTML_REPORT_URL", metavar="URL"),
    _publish(
        "path_prefix",
        str,
        "Repository path of the scanned directory (if not the root).",
        "SECSCAN_PATH_PREFIX",
        metavar="DIR",
    ),
    _publish(
        "budget_s",
        Seconds,
        "Total time for publishing, retries included.",
        default=60.0,
        flags=("--timeout-budget",),
        metavar="SECONDS",
    ),
    Setting(
        key="gitlab_token",
        type=str,
        help="GitLab access token (api scope); from the environment only, never a flag.",
        env=("SECSCAN_GITLAB_TOKEN", "GITLAB_TOKEN"),
        secret=True,
    ),
)

_RESULT_OUT = "Also write the result with its verdict to this file."

COMMAND_SETTINGS: tuple[Setting, ...] = (
    # import
    Setting(
        key="tool",
        type=str,
        help="Which tool wrote the reports: a scanner (bandit, semgrep, pip-audit, zap, ...), sarif "
        "(any SARIF 2.1.0) or gitlab (a GitLab SAST, dependency scanning, secret detection or DAST report).",
        commands=frozenset({"import"}),
        required=True,
    ),
    Setting(
        key="out",
        type=Path,
        help="The secscan.json to write.",
        default=Path("secscan.json"),
        commands=frozenset({"import"}),
        flags=("-o", "--out"),
        metavar="FILE",
    ),
    Setting(
        key="root",
        type=Path,
        help="The scanned source tree (snippets, fingerprints, inline suppressions).",
        default=Path("."),
        commands=frozenset({"import"}),
        metavar="DIR",
    ),
    Setting(
        key="manifest",
        type=str,
        help="pip-audit: the requirements file the report audited (its findings' location).",
        commands=frozenset({"import"}),
        metavar="FILE",
    ),
    # merge, gate
    Setting(
        key="out",
        type=Path,
        help="Merged result file.",
        default=Path("merged.json"),
        commands=frozenset({"merge"}),
        flags=("-o", "--out"),
        metavar="FILE",
    ),
    Setting(
        key="out", type=Path, help=_RESULT_OUT, commands=frozenset({"gate"}), flags=("-o", "--out"), metavar="FILE"
    ),
    # report
    Setting(
        key="formats",
        type=Strings,
        help="Report format (repeatable, or comma-separated).",
        commands=frozenset({"report"}),
        flags=("-f", "--format"),
        metavar="FORMAT",
        required=True,
    ),
    Setting(
        key="output",
        type=str,
        help="Output file for a single format ('-' prints to stdout). Default: the format's file name in --out-dir.",
        commands=frozenset({"report"}),
        flags=("-o", "--out"),
        aliases=("--output",),
        metavar="FILE",
    ),
    Setting(
        key="out_dir",
        type=Path,
        help="Directory for the reports when -o is not given.",
        default=Path("."),
        commands=frozenset({"report"}),
        metavar="DIR",
    ),
    Setting(
        key="report_url",
        type=str,
        help="URL of the full report, linked from the Markdown summary when it is cut.",
        commands=frozenset({"report"}),
        metavar="URL",
    ),
    # suppress
    Setting(
        key="reason",
        type=str,
        help="Why the finding is an accepted risk (reviewed with the entry).",
        commands=frozenset({"suppress"}),
        required=True,
        metavar="TEXT",
    ),
    Setting(
        key="expires",
        type=str,
        help="Expiry date, YYYY-MM-DD: after it the finding blocks again (at most the policy's "
        "suppressions.max_days ahead).",
        commands=frozenset({"suppress"}),
        required=True,
        metavar="DATE",
    ),
    Setting(
        key="ticket",
        type=str,
        help="Ticket tracking the accepted risk (e.g. SEC-123).",
        commands=frozenset({"suppress"}),
        metavar="ID",
    ),
    Setting(
        key="owner",
        type=str,
        help="Who owns the accepted risk [git config user.email, else user.name].",
        commands=frozenset({"suppress"}),
        metavar="WHO",
    ),
    Setting(
        key="result",
        type=Path,
        help="The result the fingerprint is looked up in.",
        default=Path("secscan-out") / "secscan.json",
        commands=frozenset({"suppress"}),
        metavar="FILE",
    ),
    Setting(
        key="force",
        type=bool,
        help="Write the entry even when the fingerprint is not in the result.",
        default=False,
        commands=frozenset({"suppress"}),
        off_flag="",
    ),
    # history
    Setting(
        key="db",
        type=str,
        help="History database: an SQLite file or a postgresql://user@host/db URL"
        " [else history.sqlite3 in the user data directory].",
        commands=frozenset(
            {
                "history add",
                "history list",
                "history prune",
                "aggregate",
                "dashboard",
                "compliance check",
                *TEAM_DB_COMMANDS,
            }
        ),
        env=("SECSCAN_HISTORY_DB",),
        metavar="PATH|URL",
    ),
    Setting(
        key="project",
        type=str,
        help="Project name, e.g. group/payment-api.",
        commands=frozenset({"history add"}),
        required=True,
    ),
    Setting(
        key="ref",
        type=str,
        help="Branch or tag the run scanned [from the result's CI metadata, else 'default'].",
        commands=frozenset({"history add"}),
    ),
    Setting(
        key="at",
        type=str,
        help="Record the run as finished at this ISO-8601 time (backfilling old results).",
        commands=frozenset({"history add"}),
    ),
    Setting(
        key="keep_days",
        type=Positive,
        help="Remove runs older than this many days (at least 365: the audit trail's retention).",
        commands=frozenset({"history prune"}),
        required=True,
    ),
    Setting(
        key="now",
        type=str,
        help="Count the days back from this ISO-8601 time [the current time].",
        commands=frozenset({"history prune"}),
    ),
)

# The security team's triage and export commands (issue 31).
TRIAGE_COMMANDS = frozenset({"triage propose", "triage approve", "triage list", "triage export"})
_Date = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
TEAM_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="project",
        type=str,
        help="Project name, as stored by `secscan history add`.",
        commands=frozenset({"triage propose", "triage export", "export"}),
        required=True,
    ),
    Setting(key="project", type=str, help="Only this project.", commands=frozenset({"triage list"})),
    Setting(
        key="fingerprint",
        type=str,
        help="The finding's fingerprint (the dashboard's finding page shows it).",
        commands=frozenset({"triage propose"}),
        required=True,
    ),
    Setting(
        key="decision",
        type=str,
        help="false-positive, accepted-risk (needs --expires) or fix-planned (needs --owner and --due).",
        commands=frozenset({"triage propose"}),
        required=True,
    ),
    Setting(
        key="reason", type=str, help="Why (shown in reports and the trail).", commands=frozenset({"triage propose"})
    ),
    Setting(
        key="expires",
        type=_Date,
        help="Accepted risk: the last day it holds (then the finding reopens).",
        commands=frozenset({"triage propose"}),
        metavar="YYYY-MM-DD",
    ),
    Setting(key="owner", type=str, help="Planned fix: who fixes it.", commands=frozenset({"triage propose"})),
    Setting(
        key="due",
        type=_Date,
        help="Planned fix: by when.",
        commands=frozenset({"triage propose"}),
        metavar="YYYY-MM-DD",
    ),
    Setting(
        key="by",
        type=str,
        help="Who proposes or approves (an approver must differ from the author).",
        commands=frozenset({"triage propose", "triage approve"}),
        env=("SECSCAN_TRIAGE_USER", "GITLAB_USER_LOGIN"),
        metavar="NAME",
    ),
    Setting(
        key="now",
        type=str,
        help="Decide as of this ISO-8601 time [the current time].",
        commands=frozenset({*TRIAGE_COMMANDS, "export"}),
    ),
    Setting(
        key="out",
        type=Path,
        help="The suppressions file to update (its triage block is rewritten, other entries kept).",
        default=Path(".secscan") / "suppressions.toml",
        commands=frozenset({"triage export"}),
        flags=("-o", "--out"),
        metavar="FILE",
    ),
    Setting(
        key="out",
        type=Path,
        help="File to write.",
        commands=frozenset({"export"}),
        flags=("-o", "--out"),
        metavar="FILE",
        required=True,
    ),
    Setting(
        key="pages",
        type=bool,
        help="Also write a page per project and per finding in <dashboard>-pages/ beside it.",
        default=True,
        commands=frozenset({"dashboard"}),
    ),
    Setting(
        key="format",
        type=str,
        help="defectdojo (Generic Findings Import JSON) or csv.",
        commands=frozenset({"export"}),
        flags=("-f", "--format"),
        required=True,
    ),
)

OSV_EXPORTS_URL = "https://osv-vulnerabilities.storage.googleapis.com"
"""OSV's public bucket of exports: ``<URL>/PyPI/all.zip``, ``<URL>/npm/all.zip``."""
_UPDATE = frozenset({"advisories update"})

ADVISORIES_SETTINGS: tuple[Setting, ...] = (
    Setting(
        key="store",
        type=Path,
        help="The advisory database to update (a file, or a folder for its advisories.sqlite) "
        "[secscan/advisories.sqlite in the user data folder].",
        commands=_UPDATE,
        env=("SECSCAN_ADVISORY_DB",),
        metavar="PATH",
    ),
    Setting(
        key="source_url",
        type=str,
        help="Base URL of OSV's exports, <URL>/PyPI/all.zip and <URL>/npm/all.zip (a mirror for closed networks).",
        default=OSV_EXPORTS_URL,
        commands=_UPDATE,
        env=("SECSCAN_ADVISORY_SOURCE_URL",),
        metavar="URL",
    ),
    Setting(
        key="timeout",
        type=Seconds,
        help="Longest wait for the server, to connect and for each read of a download.",
        default=300.0,
        commands=_UPDATE,
        env=("SECSCAN_ADVISORY_TIMEOUT",),
        metavar="SECONDS",
    ),
    Setting(
        key="sha256",
        type=Strings,
        help="The archive of an ecosystem must have this sha256, else it is refused (repeatable).",
        commands=_UPDATE,
        metavar="ECOSYSTEM=HEX",
    ),
)


def _of(commands: str, key: str, type_: Any, help_: str, **kw: Any) -> Setting:
    """An option of the commands named (comma-separated), nothing else unless ``kw`` says so."""
    return Setting(key=key, type=type_, help=help_, commands=frozenset(commands.split(",")), **kw)


def _switch(commands: str, key: str, help_: str, **kw: Any) -> Setting:
    """A plain flag (no ``--no-`` form), off unless given."""
    return _of(commands, key, bool, help_, default=False, off_flag="", **kw)


_ADVISORY_DB = "advisories import,advisories serve,advisories info"

TOOL_SETTINGS: tuple[Setting, ...] = (
    # baseline
    _of(
        "baseline create",
        "out",
        Path,
        "Baseline file to write.",
        default=Path(".secscan") / "baseline.json",
        flags=("-o", "--out"),
        metavar="FILE",
    ),
    # hook
    _of("hook install", "repo", Path, "The git repository.", default=Path("."), flags=("-C", "--repo"), metavar="DIR"),
    _of("hook run", "repo", Path, "The git repository.", default=Path("."), flags=("-C", "--repo"), hidden=True),
    _switch("hook install", "force", "Replace a pre-push hook secscan did not write (it is kept as a backup)."),
    _of(
        "hook install",
        "base",
        str,
        "Compare with this ref instead of the remote's default branch (e.g. origin/develop).",
        metavar="REF",
    ),
    _of("hook run", "base", str, "Compare with this ref [the remote's default branch].", env=("SECSCAN_HOOK_BASE",)),
    _of(
        "hook install,hook run",
        "scan_args",
        Strings,
        "Extra option for `secscan scan` (repeatable).",
        helps={
            "hook install": "Extra option passed to `secscan scan` by the hook (repeatable), "
            "e.g. --scan-arg=--advisory-db=osv.db."
        },
        flags=("--scan-arg",),
        verbatim=True,
        metavar="ARG",
    ),
    # advisories
    _of(
        _ADVISORY_DB,
        "db",
        Path,
        "Advisory database [the user data dir's secscan/advisories.sqlite].",
        env=("SECSCAN_ADVISORY_DB",),
        metavar="PATH",
    ),
    _switch("advisories import", "strict", "Fail (exit 2, database unchanged) if any file is malformed."),
    _of("advisories serve", "host", str, "Address to bind (the API has no authentication).", default="127.0.0.1"),
    _of("advisories serve", "port", Annotated[int, Meta(ge=0, le=65535)], "Port (0: any free port).", default=0),
    _switch("advisories serve", "log_requests", "Log every request to stderr.", flags=("--log",)),
    _switch("advisories info", "as_json", "Print the description as JSON.", flags=("--json",)),
    # aggregate
    _of(
        "aggregate",
        "group",
        str,
        "Group id or full path, e.g. payments/backend.",
        flags=("--gitlab-group",),
        required=True,
    ),
    _of(
        "aggregate",
        "api_url",
        str,
        "GitLab API URL [$CI_API_V4_URL], e.g. https://gitlab.example.com/api/v4.",
        flags=("--url",),
        metavar="URL",
    ),
    _of(
        "aggregate",
        "artifact_path",
        str,
        "Path of secscan.json inside the job artifacts.",
        default="secscan-out/secscan.json",
        metavar="PATH",
    ),
    _of("aggregate", "job_name", str, "Only take the artifact from jobs with this name.", flags=("--job",)),
    _of(
        "aggregate",
        "pipelines",
        Annotated[int, Meta(ge=1, le=100)],
        "Newest pipelines to search per project.",
        default=5,
    ),
    # dashboard
    _of(
        "dashboard",
        "out",
        Path,
        "Dashboard file.",
        default=Path("dashboard.html"),
        flags=("-o", "--out"),
        aliases=("--output",),
        metavar="FILE",
    ),
    _of("dashboard", "now", str, "Compute ages and windows as of this ISO-8601 time [the current time]."),
    _of("dashboard", "days", Annotated[int, Meta(ge=7, le=730)], "Days shown in the trend charts.", default=60),
    _of("dashboard", "title", str, "The dashboard's title.", default="Security dashboard"),
    # audit verify, compliance check
    _of(
        "audit verify",
        "log",
        str,
        "Audit log: a JSON-lines file, or a history database (postgresql://... or sqlite:PATH) holding the"
        " trail [$SECSCAN_AUDIT_LOG, else secscan-out/secscan-audit.jsonl].",
        metavar="PATH|URL",
    ),
    _of(
        "audit verify,compliance check",
        "expect_head",
        str,
        "The head hash recorded earlier: also detects entries cut off the end.",
        helps={"compliance check": "The audit trail's head hash kept elsewhere: also catches entries cut off the end."},
    ),
    _of("compliance check", "now", str, "Check as of this ISO-8601 time [the current time]."),
    _of("compliance check", "max_scan", Days, "Days a scan may be old.", default=7, flags=("--max-scan-age",)),
    _of(
        "compliance check",
        "max_dep",
        Days,
        "Days a clean dependency audit may be old.",
        default=7,
        flags=("--max-dependency-age",),
    ),
    _of(
        "compliance check",
        "retention",
        Days,
        "Days the audit trail must reach back (or to the first run in the history).",
        default=365,
        flags=("--audit-retention",),
    ),
    _of(
        "compliance check",
        "dep_scanners",
        Strings,
        "Scanner whose clean run is a dependency audit (repeatable).",
        default=("pip-audit",),
        flags=("--dependency-scanner",),
    ),
    _of(
        "compliance check",
        "audit_log",
        str,
        "Audit trail to check [$SECSCAN_AUDIT_LOG, else the history database's audit table].",
        metavar="PATH|URL",
    ),
    _of("compliance check", "fmt", Literal["text", "json"], "Output format.", default="text", flags=("--format",)),
    # config show
    _of(
        "config",
        "for_command",
        str,
        "Show another command's settings instead (defaults and environment: its flags are its own), "
        "e.g. --for 'compliance check'.",
        flags=("--for",),
        metavar="COMMAND",
    ),
)

# Variables read outside these settings: known, so that only a real typo is reported.
OTHER_VARIABLES: tuple[Setting, ...] = (
    _env("SECSCAN_DEBUG", "Show tracebacks for unexpected errors (the CLI)."),
    *(
        _env(f"SECSCAN_{tool}_BIN", "Pin the scanner's executable.")
        for tool in ("BANDIT", "SEMGREP", "PIP_AUDIT", "DETECT_SECRETS")
    ),
    _env("SECSCAN_AUDIT_LOG", "The audit trail's log (file or database URL)."),
    _env("SECSCAN_AUDIT_KEY", "HMAC key of the audit trail's hash chain."),
    _env("SECSCAN_AUDIT_HEAD", "The audit log's head hash from the previous run (CI template)."),
    _env("SECSCAN_SKIP_HOOK", "Skip the pre-push hook once."),
    _env("SECSCAN_REQUIRE_COMPONENTS", "The test suite: a missing component fails instead of skipping."),
    _env("SECSCAN_MASK_VARIABLES", "More variables whose values are masked in every output."),
    _env("SECSCAN_CACHE_KEY", "HMAC key of the per-file result cache."),
    _env("SECSCAN_ZAP_RUNNER", "docker or local: how ZAP runs."),
    _env("SECSCAN_ZAP_STANDIN_SAMPLES", "The test suite's stand-in ZAP scripts."),
    # The CI template's own variables (templates/gitlab/), read by its job scripts.
    *(
        _env("SECSCAN_" + name, "Read by the CI template's job scripts (README, GitLab CI).")
        for name in (
            "IMAGE",
            "PIP_SPEC",
            "TARGET",
            "REPORT_FORMATS",
            "PUBLISH_MR",
            "PUBLISH_OPTIONS",
            "DISABLED",
            "SCANNER",
            "VENV",
            "PYTHON",
            "RC",
            "PUBLISH_RC",
            "REQUIRE_FLAG",
            "VARIABLES",
            "ZAP_WRK",
            "OUT",
            "SHARD_ARGS",
            "INPUTS",
            "ZAP_SCHEDULE_MODE",
        )
    ),
)

ALL: tuple[Setting, ...] = (
    SCAN_SETTINGS
    + PUBLISH_SETTINGS
    + COMMAND_SETTINGS
    + TEAM_SETTINGS
    + ADVISORIES_SETTINGS
    + TOOL_SETTINGS
    + OTHER_VARIABLES
)


def for_command(command: str) -> dict[str, Setting]:
    """The settings offered by ``command`` (``"scan"``, ``"history add"``), by key."""
    out: dict[str, Setting] = {}
    for s in ALL:
        if command in s.commands:
            assert s.key not in out, f"{command}: two settings named {s.key}"
            out[s.key] = s
    return out


def file_settings() -> dict[str, Setting]:
    """The ``[tool.secscan]`` keys."""
    return {s.key: s for s in ALL if s.file}


def by_key(group: tuple[Setting, ...]) -> dict[str, Setting]:
    return {s.key: s for s in group}
