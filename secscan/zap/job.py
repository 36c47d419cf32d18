"""The command line secscan runs for each ZAP mode (pure).

The three packaged scans of ZAP's image share one contract: every file option (``-c``, ``-J``,
``-x``, ``-r``, ``-n``, an API definition file, ``--schema``) is resolved relative to the work
directory ``/zap/wrk``, so secscan passes bare file names and places/reads the files there.
Exit codes are the same too: 0 pass, 1 FAIL rules hit, 2 WARN rules hit, 3 failure.

* ``baseline``: ``zap-baseline.py -t URL`` (spider + passive scan; minutes = spider time);
* ``full``: ``zap-full-scan.py -t URL`` (spider + active scan; for scheduled pipelines);
* ``api``: ``zap-api-scan.py -t DEFINITION -f openapi|soap|graphql`` (imports the definition,
  then active-scans every operation). For GraphQL ``-t`` is the endpoint URL and a schema file
  goes to ``--schema``.

The option strings below are the scripts' own ``getopt`` strings (zaproxy/zaproxy ``docker/``,
ZAP 2.16), so a pass-through option is checked exactly as the script would check it.
"""

from __future__ import annotations

import getopt
import shlex
from dataclasses import dataclass

from secscan.errors import ConfigError

WRK = "/zap/wrk"
"""The scripts' work directory inside ZAP's image (hard-coded in them)."""

MODES = ("baseline", "api", "full")
SCRIPTS: dict[str, str] = {"baseline": "zap-baseline.py", "api": "zap-api-scan.py", "full": "zap-full-scan.py"}
SCRIPT = SCRIPTS["baseline"]
API_FORMATS = ("openapi", "soap", "graphql")

# (short options, long options) of each script.
_GETOPT: dict[str, tuple[str, list[str]]] = {
    "baseline": ("t:c:u:g:m:n:r:J:w:x:l:hdaijp:sz:P:D:T:IU:", ["hook=", "auto", "autooff"]),
    "full": ("t:c:u:g:m:n:r:J:w:x:l:hdaijp:sz:P:D:T:IU:", ["hook="]),
    "api": ("t:f:c:u:g:m:n:r:J:w:x:l:hdaijSp:sz:P:D:T:IO:U:", ["hook=", "schema="]),
}
# Options secscan sets itself; a second value would silently redirect the target or the reports.
_RESERVED = {
    "-t": "--zap-target / --zap-api-definition",
    "-f": "--zap-api-format",
    "-c": "--zap-config",
    "-u": "--zap-config",
    "-m": "--zap-minutes",
    "-J": "(secscan reads this report)",
    "-x": "(secscan reads this report)",
    "-n": "--zap-context",
    "-U": "--zap-user",
    "--schema": "--zap-api-definition (a GraphQL schema file)",
    "-g": "(generates a config instead of scanning)",
    "-h": "(prints help instead of scanning)",
}
_NO_ARG = frozenset("hdaijsSI")
"""Short options of the scripts that take no argument (all others take one)."""


@dataclass(frozen=True, kw_only=True)
class ZapJob:
    target: str
    """The application URL (baseline/full; the GraphQL endpoint in api mode)."""
    mode: str = "baseline"
    minutes: int = 1
    """Spider minutes (baseline and full; zap-api-scan.py has no spider)."""
    api_format: str | None = None
    """openapi, soap or graphql (api mode)."""
    api_definition: str | None = None
    """What ``-t`` gets in api mode for openapi/soap: a URL, or a file name in the work dir. For
    graphql: the schema (URL or file name) given to ``--schema``."""
    context_name: str | None = None
    """A ZAP context file (``-n``) copied into the work directory: form or script logins."""
    context_user: str | None = None
    """``-U``: the context's user to scan as."""
    config_name: str = "secscan-zap-baseline.conf"
    json_report: str = "secscan-zap-report.json"
    xml_report: str = "secscan-zap-report.xml"
    options: tuple[str, ...] = ()
    """Extra options for the script, already split and validated."""

    @property
    def script(self) -> str:
        return SCRIPTS[self.mode]

    def _head(self, *, shown: bool) -> list[str]:
        from secscan.zap.target import redact

        def url(u: str) -> str:
            return redact(u) if shown else u

        argv = [self.script]
        if self.mode == "api":
            fmt = self.api_format or "openapi"
            if fmt == "graphql":
                argv += ["-t", url(self.target), "-f", fmt]
            else:
                argv += ["-t", url(self.api_definition or self.target), "-f", fmt]
        else:
            argv += ["-t", url(self.target)]
        argv += ["-c", self.config_name]
        if self.mode != "api":
            argv += ["-m", str(self.minutes)]
        argv += ["-J", self.json_report, "-x", self.xml_report]
        if self.mode == "api" and self.api_format == "graphql" and self.api_definition:
            argv += ["--schema", url(self.api_definition)]
        if self.context_name:
            argv += ["-n", self.context_name]
            if self.context_user:
                argv += ["-U", self.context_user]
        return argv

    def argv(self) -> tuple[str, ...]:
        return (*self._head(shown=False), *self.options)

    def display_argv(self) -> tuple[str, ...]:
        """The argv as recorded in results and logs: credentials in URLs and the values of
        ``-z`` (ZAP options, where auth headers are often passed by hand) are masked."""
        return (*self._head(shown=True), *_mask_zap_options(self.options))

    def files(self) -> tuple[str, ...]:
        """The files this job puts in or expects from the work directory."""
        names = [self.config_name, self.json_report, self.xml_report]
        if self.context_name:
            names.append(self.context_name)
        if self.api_definition and not self.api_definition.startswith(("http://", "https://")):
            names.append(self.api_definition)
        return tuple(names)


def split_options(raw: str, mode: str = "baseline") -> tuple[str, ...]:
    """Split ``--zap-option`` text like a shell and check it against the mode's script options.

    A typo then fails at once with a clear message instead of ZAP's usage text and exit 3.
    """
    try:
        tokens = shlex.split(raw)
    except ValueError as e:
        raise ConfigError(f"ZAP options {raw!r}: {e}") from None
    short, long = _GETOPT[mode]
    try:
        opts, rest = getopt.getopt(tokens, short, long)
    except getopt.GetoptError as e:
        raise ConfigError(f"ZAP options: {e.msg} (see {SCRIPTS[mode]} -h)") from None
    if rest:
        raise ConfigError(f"ZAP options: unexpected argument {rest[0]!r}")
    for opt, _ in opts:
        if opt in _RESERVED:
            raise ConfigError(f"ZAP option {opt} is set by secscan; use {_RESERVED[opt]}")
    return tuple(tokens)


def _mask_zap_options(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Mask the argument of -z in getopt's forms: ``-z V``, ``-zV`` and clusters like ``-aj -zV``."""
    out: list[str] = []
    mask_next = False
    for tok in tokens:
        if mask_next:
            out.append("***")
            mask_next = False
            continue
        shown = tok
        if tok.startswith("-") and not tok.startswith("--"):
            flags = tok[1:]
            for k, ch in enumerate(flags):
                if ch == "z":
                    if k == len(flags) - 1:
                        mask_next = True
                    else:
                        shown = tok[: k + 2] + "***"
                    break
                if ch not in _NO_ARG:
                    break  # an option that takes the rest of the token as its value
        out.append(shown)
    return tuple(out)
