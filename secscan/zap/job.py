"""The zap-baseline.py command line secscan runs (pure).

zap-baseline.py resolves every file option (``-c``, ``-J``, ``-x``, ``-r``) relative to its work
directory ``/zap/wrk``, so secscan passes bare file names and places/reads the files there.
"""

from __future__ import annotations

import getopt
import shlex
from dataclasses import dataclass

from secscan.errors import ConfigError

SCRIPT = "zap-baseline.py"
WRK = "/zap/wrk"
"""zap-baseline.py's work directory inside ZAP's image (hard-coded in the script)."""
# zap-baseline.py's own getopt string (ZAP 2.x): used to validate pass-through options up front.
_OPTSTRING = "t:c:u:g:m:n:r:J:w:x:l:hdaijp:sz:P:D:T:I"
# Options secscan sets itself; a second value would silently redirect the target or the reports.
_RESERVED = {
    "-t": "--zap-target",
    "-c": "--zap-config",
    "-u": "--zap-config",
    "-m": "--zap-minutes",
    "-J": "(secscan reads this report)",
    "-x": "(secscan reads this report)",
    "-g": "(generates a config instead of scanning)",
    "-h": "(prints help instead of scanning)",
}


@dataclass(frozen=True, kw_only=True)
class ZapJob:
    target: str
    minutes: int = 1
    config_name: str = "secscan-zap-baseline.conf"
    json_report: str = "secscan-zap-report.json"
    xml_report: str = "secscan-zap-report.xml"
    options: tuple[str, ...] = ()
    """Extra zap-baseline.py options, already split and validated."""

    def argv(self) -> tuple[str, ...]:
        return (
            SCRIPT,
            "-t",
            self.target,
            "-c",
            self.config_name,
            "-m",
            str(self.minutes),
            "-J",
            self.json_report,
            "-x",
            self.xml_report,
            *self.options,
        )

    def display_argv(self) -> tuple[str, ...]:
        """The argv as recorded in results and logs: credentials in the target URL and the
        values of ``-z`` (ZAP options, where auth headers are usually passed) are masked."""
        from secscan.zap.target import redact

        head = list(self.argv()[: len(self.argv()) - len(self.options)])
        head[2] = redact(self.target)
        return (*head, *_mask_zap_options(self.options))

    def files(self) -> tuple[str, ...]:
        """The files this job puts in or expects from the work directory."""
        return (self.config_name, self.json_report, self.xml_report)


def split_options(raw: str) -> tuple[str, ...]:
    """Split ``--zap-option`` text like a shell and check it against zap-baseline's options.

    A typo then fails at once with a clear message instead of ZAP's usage text and exit 3.
    """
    try:
        tokens = shlex.split(raw)
    except ValueError as e:
        raise ConfigError(f"ZAP options {raw!r}: {e}") from None
    try:
        opts, rest = getopt.getopt(tokens, _OPTSTRING)
    except getopt.GetoptError as e:
        raise ConfigError(f"ZAP options: {e.msg} (see zap-baseline.py -h)") from None
    if rest:
        raise ConfigError(f"ZAP options: unexpected argument {rest[0]!r}")
    for opt, _ in opts:
        if opt in _RESERVED:
            raise ConfigError(f"ZAP option {opt} is set by secscan; use {_RESERVED[opt]}")
    return tuple(tokens)


_NO_ARG = frozenset("hdaijsI")


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
