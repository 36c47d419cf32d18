"""Masking on the final bytes (issue 25, trust-2): the operator's credentials never reach an output.

Whatever text reaches a sink (a scanner's message, its error, its stderr, a line of a manifest that
is really ``/proc/self/environ``), the GitLab token, the CI job token, the audit key, every variable
the operator marks secret and every variable named like a credential are masked in every report
format, ``secscan.json``, the terminal, the audit log and the GitLab note and threads, in every form
an escaper can give them (Markdown backslashes, HTML entities, JSON escapes, percent-encoding,
zero-width characters and soft hyphens put in).

The end-to-end cases are real merge requests scanned the way the pipeline job runs secscan, with a
stand-in scanner executable that quotes the job's credentials (as a scanner reading the environment
through a planted link would), and a real publish to the GitLab stand-in.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from secscan import credentials, outputs, resultio
from secscan.audit import dbtrail, trail
from secscan.credentials import MASK, Masker, MaskingStream, fragment_length, secret_values
from secscan.dbtarget import parse_target
from secscan.gitlab.redact import Redactor
from secscan.models import ScannerState, ScannerStatus
from secscan.reporters import render
from secscan.textsafe import gitlab_code_block, md_code_span, md_text, one_line
from tests.support.cli import Run, secscan
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.gitlab_testkit import MD5, SHELL, add_mr, ci_env, finding, result
from tests.support.mergerequest import SECRETS, job_env, make_mr, scan_mr

ROOT = Path(__file__).resolve().parents[2]
CLEAN = "def add(a, b):\n    return a + b\n"
VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"

# Beyond the job's own secrets: one variable only *named* like a credential, one the operator lists.
HINTED = {"DEPLOY_PASSWORD": 'Deploy&Pass<word>/"42"-x'}
LISTED = {"SHOP_DB_URL": "postgres://shop:Pa55-w0rd@db.internal/shop", "SECSCAN_MASK_VARIABLES": "SHOP_DB_*"}
ALL_VALUES = (*SECRETS.values(), *HINTED.values(), LISTED["SHOP_DB_URL"])

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]|<wbr\\s?/?>")


# ------------------------------------------------------------------ how a leak is looked for


def _unbackslash(t: str) -> str:
    return re.sub(r"\\(.)", r"\1", t, flags=re.DOTALL)


def _unjson(t: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), t)


DECODERS: dict[str, Callable[[str], str]] = {
    "backslashes": _unbackslash,
    "html": html.unescape,
    "url": urllib.parse.unquote,
    "json": _unjson,
    "invisible": lambda t: _INVISIBLE.sub("", t),
}


def readings(text: str, depth: int = 3) -> dict[str, str]:
    """The text as each chain of decoders (up to ``depth`` of them) reads it back."""
    found = {"raw": text}
    frontier = dict(found)
    for _ in range(depth):
        nxt: dict[str, str] = {}
        for how, t in frontier.items():
            for name, decode in DECODERS.items():
                out = decode(t)
                if out != t and out not in found.values():
                    nxt[f"{how}+{name}"] = out
        found.update(nxt)
        frontier = nxt
    return found


def leaks(text: str, values: Iterable[str] = ALL_VALUES) -> list[tuple[str, str]]:
    """(piece, how it was read back) for each credential, or a piece of one as long as
    :func:`~secscan.credentials.fragment_length` (a text cut by a length limit), that some decoding
    of ``text`` shows."""
    pieces = set()
    for v in values:
        k = fragment_length(v)
        pieces |= {v, v[:k], v[-k:]}
    out = []
    for how, t in readings(text).items():
        out += [(p, how) for p in pieces if p in t]
    return out


def escaped_forms(value: str) -> dict[str, str]:
    """``value`` as the real escapers give it (secscan's own and the standard library's)."""
    forms = {
        "raw": value,
        "md_text": md_text(value),
        "md_code_span": md_code_span(value),
        "code_block": gitlab_code_block(value),
        "html": html.escape(value),
        "html(md)": html.escape(md_text(value)),
        "json": json.dumps(value),
        "json ascii": json.dumps(value, ensure_ascii=True).replace("/", "\\/"),
        "json(md)": json.dumps(md_text(value)),
        "json(html(md))": json.dumps(html.escape(md_text(value))),
        "every char json": "".join(f"\\u{ord(c):04x}" for c in value),
        "decimal entities": "".join(f"&#{ord(c)};" for c in value),
        "hex entities": "".join(f"&#X{ord(c):X};" for c in value),
        "double html": html.escape(html.escape(value)),
        "quote": urllib.parse.quote(value),
        "quote safe=''": urllib.parse.quote(value, safe=""),
        "quote_plus": urllib.parse.quote_plus(value),
        "double quote": urllib.parse.quote(urllib.parse.quote(value, safe=""), safe=""),
        "repr": repr(value),
        "zero-width": "\u200b".join(value),
        "soft hyphens": "\u00ad".join(value),
        "&shy;": "&shy;".join(value),
        "json zero-width": "\\u200b".join(value),
        "<wbr>": "<wbr>".join(value),
        "html(<wbr>)": html.escape("<wbr>".join(value)),
        "md(zero-width)": md_text("\u2060".join(value)),
    }
    return forms


# ------------------------------------------------------------------ the masker itself


@pytest.mark.parametrize("value", ALL_VALUES)
def test_masker_masks_every_escapers_output(value: str) -> None:
    masker = Masker([value])
    for name, form in escaped_forms(value).items():
        text = f"before {form} after"
        masked = masker(text)
        assert not leaks(masked, [value]), (name, form, masked)
        assert MASK in masked, name
        assert masked.startswith("before ") and masked.endswith(" after"), (name, masked)


def test_every_report_format_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = SECRETS["SECSCAN_GITLAB_TOKEN"]
    quoted = " ".join(form for v in ALL_VALUES for form in escaped_forms(v).values())
    hostile = finding("v1:bbbb0001", line=6, message=f"token {token} and {md_text(token)} {quoted}", snippet=quoted)
    run = result(hostile, MD5)
    formats = ("json", "sarif", "html", "markdown", "junit", "codequality", "gitlab-sast", "terminal")
    # Unmasked, the formats carry the values (so the check below means something) ...
    carried = {fmt for fmt in formats if leaks(render(fmt, run))}
    assert {"json", "sarif", "html", "markdown", "junit"} <= carried, carried
    # ... written by secscan with the credentials in its environment, none of them does.
    for name, value in {**SECRETS, **HINTED, **LISTED}.items():
        monkeypatch.setenv(name, value)
    written = outputs.write_formats(run, formats, out_dir=tmp_path)
    outputs.write_result(run, tmp_path / "secscan.json")
    assert len(written) == len(formats)
    for path in tmp_path.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not leaks(text), (path.name, leaks(text)[:5])
    for name in ("secscan.json", "secscan-report.html", "secscan.sarif"):
        assert MASK in (tmp_path / name).read_text(encoding="utf-8"), name  # masked, not dropped


def test_masker_leaves_other_text_alone_and_keeps_types() -> None:
    masker = Masker(ALL_VALUES)
    text = "glpat-TOKEN-maybe-another-1 is another token; glpat\\-TOKEN is a short prefix; & &amp; %2D \\u002d"
    assert masker(text) == text
    status = ScannerStatus(
        name="pip-audit",
        state=ScannerState.FAILED,
        error=f"cannot read {SECRETS['CI_JOB_TOKEN']}",
        not_audited=(f"SECSCAN_AUDIT_KEY={SECRETS['SECSCAN_AUDIT_KEY']}", "requests==2.0"),
    )
    masked = masker.structure(status)
    assert masked.state is ScannerState.FAILED
    assert masked.error == f"cannot read {MASK}"
    assert masked.not_audited == (f"SECSCAN_AUDIT_KEY={MASK}", "requests==2.0")
    untouched = ScannerStatus(name="bandit", state=ScannerState.OK)
    assert masker.structure(untouched) is untouched


def test_what_a_length_limit_leaves_of_a_value_is_masked_too() -> None:
    token = SECRETS["SECSCAN_GITLAB_TOKEN"]  # 30 characters: pieces of 15 or more are masked
    path_value = "/home/runner/work/credentials.json"
    masker = Masker([token, path_value])
    assert masker(f"reason: ({md_text(token)[:22]})") == f"reason: ({MASK})"  # cut at the end
    assert masker(f"stderr: …{token[-15:]} | next") == f"stderr: {MASK} | next"  # cut at the start
    assert masker(f"stderr: …;{html.escape(token[-16:])}") == f"stderr: {MASK}"  # inside an escape
    assert masker(token[-15:]) == token[-15:]  # a suffix with no cut before it is any text
    assert masker(token[:14]) == token[:14]
    # A credential *file*: its first characters are every path's of the checkout.
    assert masker("/home/runner/work/project/app.py") == "/home/runner/work/project/app.py"
    assert masker(f"read {path_value}") == f"read {MASK}"


@pytest.mark.parametrize(
    "hostile",
    [
        "\\" * 200_000,
        "g" + "\\" * 200_000,
        "gl" + "&amp;" * 60_000 + "p",
        "glp" + "%25" * 100_000,
        "glpat" + "\u200b" * 200_000,
        "g\\" * 100_000,
        "glpat-TOKEN-must-not-leak-123" * 10_000,
        "&#103;" * 50_000,
    ],
)
def test_masker_stays_linear_on_hostile_text(hostile: str) -> None:
    masker = Masker(ALL_VALUES)
    started = time.monotonic()
    masker(hostile)
    assert time.monotonic() - started < 2.0


def test_secret_values_come_from_the_operators_variables() -> None:
    env = {
        **SECRETS,
        **HINTED,
        **LISTED,
        "CI_JOB_JWT_V2": "eyJhbGciOi.jwt.value",
        "GITLAB_TOKEN": "glpat-other",
        "MY_SERVICE_TOKEN": "short",  # named like a credential but too short to be told from a word
        "SSH_PRIVATE_KEY": "-----BEGIN KEY-----\nAAAAB3NzaC1yc2EAAAADAQAB\n-----END KEY-----",
        "HOME": "/home/runner",
        "CI_PROJECT_PATH": "acme/payments",
    }
    values = set(secret_values(env))
    assert set(SECRETS.values()) <= values
    assert {"eyJhbGciOi.jwt.value", "glpat-other", HINTED["DEPLOY_PASSWORD"], LISTED["SHOP_DB_URL"]} <= values
    assert "AAAAB3NzaC1yc2EAAAADAQAB" in values  # a key's lines, one by one
    assert "short" not in values and "/home/runner" not in values and "acme/payments" not in values
    assert "SHOP_DB_*" not in values


def test_the_terminal_stream_masks_values_written_in_pieces() -> None:
    inner = io.StringIO()
    stream = MaskingStream(inner)
    token = SECRETS["CI_JOB_TOKEN"]
    old = dict(os.environ)
    os.environ["CI_JOB_TOKEN"] = token
    try:
        stream.write("error: " + token[:5])
        stream.write(token[5:] + " end\nsecond " + md_text(token))
        stream.flush()
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert inner.getvalue() == f"error: {MASK} end\nsecond {MASK}"


def test_the_gitlab_redactor_masks_a_token_markdown_has_escaped() -> None:
    token = SECRETS["SECSCAN_GITLAB_TOKEN"]
    redact = Redactor([token])
    assert redact(f"note body: {md_text(token)}") == f"note body: {MASK}"
    assert redact(f"other: {md_text('glpat-abcdefgh12345678')}") == f"other: {MASK}"


# ------------------------------------------------------------------ the audit trail


def test_audit_entries_are_masked_before_they_are_chained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**SECRETS, **HINTED, **LISTED, "CI_JOB_ID": "42", "GITLAB_USER_LOGIN": SECRETS["CI_JOB_TOKEN"]}
    payload = {
        "scanners": {"pip-audit": "failed"},
        "error": f"could not read {'&'.join(ALL_VALUES)}",
        "not_audited": [md_text(v) for v in ALL_VALUES] + [json.dumps(v) for v in ALL_VALUES],
    }
    log = tmp_path / "audit.jsonl"
    for _ in range(3):
        trail.append(log, "gate.verdict", payload, env=env)
    text = log.read_text(encoding="utf-8")
    assert not leaks(text), leaks(text)
    key = env["SECSCAN_AUDIT_KEY"].encode()
    check = trail.verify(log, key)
    assert check.ok and check.entries == 3, check.describe()

    db = parse_target(f"sqlite:{tmp_path / 'history.db'}")
    trail.append_to(db, "gate.verdict", payload, env=env)
    trail.append_to(db, "publish", {"errors": [f"GitLab said {SECRETS['SECSCAN_GITLAB_TOKEN']}"]}, env=env)
    assert not leaks("\n".join(dbtrail.read_lines(db)))
    assert dbtrail.verify(db, key).ok


# ------------------------------------------------------------------ a real merge request


def _fake_bandit(tmp_path: Path, *, crash: bool, file_errors: bool = True) -> Path:
    """A stand-in bandit that quotes every credential, in every escaped form, everywhere it can:
    the version it reports, each finding's text, the files it says it could not scan, stdout and
    stderr. It holds no credential of its own (secscan gives scanners none): the test writes them in,
    as a scanner reading a planted link to ``/proc/self/environ`` would find them."""
    quoted = [form for v in ALL_VALUES for form in escaped_forms(v).values()]
    data = {"quoted": quoted, "crash": crash, "first": ALL_VALUES[0], "file_errors": file_errors}
    script = tmp_path / "bandit"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"DATA = json.loads({json.dumps(data)!r})\n"
        "text = ' | '.join(DATA['quoted'])\n"
        "if '--version' in sys.argv:\n"
        "    print('bandit ' + DATA['first'])\n"
        "    sys.exit(0)\n"
        "print('stdout: ' + text)\n"
        "print('stderr: ' + text, file=sys.stderr)\n"
        "if DATA['crash']:\n"
        "    sys.exit(2)\n"
        "out = sys.argv[sys.argv.index('-o') + 1]\n"
        "target = sys.argv[sys.argv.index('--') + 1]\n"
        "path = target if target.endswith('.py') else os.path.join(target, 'app.py')\n"
        "result = {'test_id': 'B602', 'filename': path, 'line_number': 5, 'line_range': [5],\n"
        "          'issue_severity': 'HIGH', 'issue_confidence': 'HIGH', 'test_name': text[:200],\n"
        "          'issue_text': 'subprocess call with shell=True. ' + text, 'more_info': 'https://x.test/?' + text}\n"
        "errors = [{'filename': path, 'reason': text}] if DATA['file_errors'] else []\n"
        "report = {'results': [result], 'errors': errors,\n"
        "          'metrics': {path: {}, '_totals': {}}}\n"
        "open(out, 'w').write(json.dumps(report))\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("crash", [False, True], ids=["quotes-in-findings", "quotes-in-a-crash"])
def test_a_scanner_quoting_the_credentials_leaks_none_of_them(tmp_path: Path, crash: bool) -> None:
    script = _fake_bandit(tmp_path, crash=crash)
    repo, base = make_mr(tmp_path, {"app.py": CLEAN}, {"app.py": VULN})
    env = job_env(base, SECSCAN_BANDIT_BIN=str(script), **HINTED, **LISTED)
    scan = scan_mr(repo, base, "bandit", extra=("--format", "all", "--no-cache"), env=env)
    assert scan.code in (1, 3), scan.stderr  # the gate still fails (a finding, or a failed scanner)
    files = [p for p in scan.out_dir.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"secscan.json", "secscan-audit.jsonl", "secscan.manifest.json"} <= names, names
    assert len(names) >= 6, names  # every format was written
    status = scan.status("bandit")
    # The texts are there, masked: the scanner's quotes reached every field that carries them.
    shown = json.dumps(status) + json.dumps(scan.result["findings"])
    assert MASK in shown, shown[:2000]
    for text in [scan.stdout, scan.stderr, *(p.read_text(encoding="utf-8", errors="replace") for p in files)]:
        assert not leaks(text), leaks(text)[:5]
    assert MASK in scan.stdout + scan.stderr
    # The audit trail still verifies: it was chained over the masked entries.
    audit = trail.verify(scan.out_dir / "secscan-audit.jsonl", SECRETS["SECSCAN_AUDIT_KEY"].encode())
    assert audit.ok, audit.describe()
    check = subprocess.run(
        [sys.executable, "-m", "secscan", "verify-report", str(scan.out_dir / "secscan.manifest.json")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=repo,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_result_cache_holds_no_credential(tmp_path: Path) -> None:
    # The per-file cache is a file secscan writes (kept with GitLab's cache: between pipelines):
    # a scanner's quote of a credential is masked there too, before the entry is sealed.
    script = _fake_bandit(tmp_path, crash=False, file_errors=False)
    repo, base = make_mr(tmp_path, {"app.py": CLEAN}, {"app.py": VULN})
    env = job_env(base, SECSCAN_BANDIT_BIN=str(script), **HINTED, **LISTED)
    cache = tmp_path / "cache"
    first = scan_mr(repo, base, "bandit", extra=("--cache-dir", str(cache)), env=env)
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries and first.status("bandit")["cache_misses"] == 1, first.status("bandit")
    for entry in entries:
        assert not leaks(entry.read_text(encoding="utf-8", errors="replace"))
    again = scan_mr(repo, base, "bandit", extra=("--cache-dir", str(cache)), env=env)
    assert again.status("bandit")["cache_hits"] == 1  # the masked, sealed entry checks
    assert [f["fingerprint"] for f in again.result["findings"]] == [f["fingerprint"] for f in first.result["findings"]]


# ------------------------------------------------------------------ publishing


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    # A real process: what reaches the process's own standard streams is what is checked.
    return secscan(*args, cwd=cwd, clean=True, env=env, process=True)


@pytest.mark.parametrize("dry_run", [False, True], ids=["posted", "dry-run"])
def test_published_notes_and_threads_carry_no_credential(
    gitlab_standin: GitLabStandIn, tmp_path: Path, dry_run: bool
) -> None:
    token = gitlab_standin.private_token
    values = (token, *ALL_VALUES[1:])
    quoted = " | ".join(form for v in values for form in escaped_forms(v).values())
    # The token early in the text, as the /proc/self/environ manifest put it: md_text keeps 300 chars.
    hostile_md5 = finding(
        MD5.fingerprint, line=6, message=f"{token} weak hash {quoted}", snippet=f"digest = '{md_text(token)}'"
    )
    hostile_shell = finding(
        SHELL.fingerprint, line=11, rule="B602", message=f"{md_text(token)} {quoted}", severity=SHELL.severity
    )
    run = result(hostile_md5, hostile_shell)
    path = tmp_path / "secscan.json"
    path.write_text(resultio.dumps(run), encoding="utf-8")  # written unmasked, as a foreign tool would
    assert token in path.read_text()
    add_mr(gitlab_standin)
    env = ci_env(
        gitlab_standin,
        CI_JOB_TOKEN=SECRETS["CI_JOB_TOKEN"],
        SECSCAN_AUDIT_KEY=SECRETS["SECSCAN_AUDIT_KEY"],
        **HINTED,
        **LISTED,
    )
    args = ["--debug", "publish", str(path), "--allow-http"]
    proc = _run([*args, "--dry-run"] if dry_run else args, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    for text in (proc.stdout, proc.stderr):
        assert not leaks(text, values), leaks(text, values)[:5]
    if dry_run:
        assert "would" in proc.stdout and MASK in proc.stdout
        return
    mr = gitlab_standin.merge_requests[(7, 3)]
    bodies = [n["body"] for n in mr.notes()] + [n["body"] for d in mr.threads() for n in d["notes"]]
    assert len(bodies) >= 3, bodies  # the summary and two threads
    sent = [c.body for c in gitlab_standin.write_attempts()]
    for body in [*bodies, *sent]:
        assert not leaks(body, values), leaks(body, values)[:5]
    assert any(MASK in b for b in bodies)
    # A re-run renders the same masked bodies: nothing is edited again.
    gitlab_standin.reset_calls()
    again = _run(args, env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert gitlab_standin.write_count("note_update") == 0
    for f in tmp_path.rglob("*"):
        if f.is_file() and f != path:
            assert not leaks(f.read_text(encoding="utf-8", errors="replace"), values), f


def test_the_process_masker_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    value = "a-secret-set-at-runtime-0042"
    assert credentials.mask(value) == value
    monkeypatch.setenv("RUNTIME_SECRET", value)
    assert credentials.mask(md_text(value)) == MASK


def test_a_dump_of_secscans_environment_is_masked() -> None:
    env = {"HOME": "/home/runner", "PATH": "/usr/local/bin:/usr/bin", "LANG": "C.UTF-8", "CI": "true"}
    masker = Masker([], environment=env)
    dump = "\0".join(f"{k}={v}" for k, v in env.items())  # /proc/self/environ read as a manifest
    for shown in (one_line(dump), md_text(dump), dump.replace("\0", "\n")):
        masked = masker(shown)
        assert not any(v in _unbackslash(masked) for v in env.values()), masked
    assert masker("export HOME=/home/runner") == "export HOME=/home/runner"  # one pair is code, not a dump
