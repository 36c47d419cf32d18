"""What detect-secrets reads of bulky content (secscan.scanners.secret_text), from both sides.

The speed side: a minified bundle, a binary file or a lockfile backup over 512 KiB is handed to
detect-secrets as the few parts where a key could be, not line by line. The attacker's side: a
key of every provider format detect-secrets (and secscan's plugins) know, planted in such
content, is found by the real detect-secrets exactly as in a small config file, at its line.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from pathlib import Path

import pytest

from secscan import collect
from secscan.config import ScanConfig
from secscan.models import ScannerState
from secscan.scanners import registry
from secscan.scanners.base import RunContext, ScanOutcome
from secscan.scanners.secret_text import LARGE_FILE, LONG_LINE, text_form
from secscan.sourcefiles import SourceTree
from tests.conftest import require, require_tool

_RNG = random.Random(29)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _r(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def _jwt() -> str:
    def part(doc: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': _r(8)})}.{_r(43)}"


_HEX = "0123456789abcdef"
_LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
# One planted key per detector (built at run time: this file holds no key literal). Keyed by
# detect-secrets' secret type; secscan's own plugins' types included.
SAMPLES: dict[str, str] = {
    "AWS Access Key": 'aws_id = "' + "AK" + "IA" + _r(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") + '"',
    "Artifactory Credentials": 'token = "' + "AK" + "C" + _r(30) + '"',
    "Azure Storage Account access key": "conn = 'Account" + "Key=" + _r(86) + "=='",
    "Cloudant Credentials": 'cl_apikey = "' + _r(24, "abcdefghijklmnopqrstuvwxyz") + '"',
    "Discord Bot Token": 'bot = "M' + _r(23) + "." + _r(6) + "." + _r(27) + '"',
    "GitHub Token": 'gh = "' + "gh" + "p_" + _r(36) + '"',
    "GitLab Token": 'gl = "' + "gl" + "pat-" + _r(20) + '"',
    "IBM COS HMAC Credentials": 'cos_hmac_secret_access_key = "' + _r(48, _HEX) + '"',
    "IBM Cloud IAM Key": 'ibm_cloud_iam_api_key = "' + _r(44) + '"',
    "JSON Web Token": 'jwt = "' + _jwt() + '"',
    "Mailchimp Access Key": 'mc = "' + _r(32, _LOWER) + "-us" + "12" + '"',
    "NPM tokens": "//registry.npmjs.org/:_auth" + "Token=" + "npm" + "_" + _r(36),
    "OpenAI Token": 'oa = "' + "sk" + "-" + _r(20) + "T3Blbk" + "FJ" + _r(20) + '"',
    "Private Key": "-----BEGIN RSA " + "PRIVATE KEY-----",
    "PyPI Token": 'pypi = "' + "pypi-AgEIcHlwaS5vcm" + "c" + _r(70) + '"',
    "SendGrid API Key": 'sg = "' + "S" + "G." + _r(22) + "." + _r(43) + '"',
    "Slack Token": 'slack = "' + "xo" + "xb-" + _r(10, "0123456789") + "-" + _r(24, _LOWER) + '"',
    "SoftLayer Credentials": 'sl_api_key = "' + _r(64, _LOWER) + '"',
    "Square OAuth Secret": 'sq = "' + "sq0" + "csp-" + _r(43) + '"',
    "Stripe Access Key": 'stripe = "' + "sk" + "_live_" + _r(24) + '"',
    "Telegram Bot Token": 'tg = "' + _r(9, "0123456789") + ":" + _r(35) + '"',
    "Twilio API Key": 'tw = "' + "S" + "K" + _r(32, _HEX) + '"',
    "Braintree Credential": 'bt = "' + "access_token$" + "production$" + _r(16, _LOWER) + "$" + _r(32, _HEX) + '"',
    # (Plaid's production token is left out: detect-secrets' UUID filter drops it in any file.)
    "Adyen API Key": 'adyen = "' + "AQ" + "E" + _r(60) + "-" + _r(30) + '"',
    "PayPal Client Secret": 'paypal_client_secret = "E' + _r(79) + '"',
    "Stripe Restricted or Webhook Key": 'hook = "' + "wh" + "sec_" + _r(32) + '"',
}
# Detectors that find a kind of string, not a provider's key: their findings on lines too long
# for configuration are noise already, and so is what they would say of bulky content.
GENERIC = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword", "Basic Auth Credentials"}
DISABLED = {"Public IP (ipv4)"}  # secscan turns it off


def _minified(rng: random.Random, size: int) -> str:
    words = ["function", "return", "var", "this", "null", "void 0", "typeof", "prototype", "length"]
    return "".join(
        f"{rng.choice(words)} {_r(3)}{rng.randrange(99)}=({_r(2)},{_r(2)})=>{{}};" for _ in range(size // 30)
    )


def _planted_tree(root: Path) -> dict[str, dict[str, int]]:
    """Every sample in a small config file, in a minified bundle, a binary file and a large
    lockfile backup; returns {file: {secret type: line}}."""
    rng = random.Random(7)
    where: dict[str, dict[str, int]] = {}
    (root / "plain").mkdir(parents=True)
    for n, (kind, line) in enumerate(SAMPLES.items()):
        (root / "plain" / f"{n}.cfg").write_text(f"{line}\n")
        where[f"plain/{n}.cfg"] = {kind: 1}
    # A bundle: one long line per sample, the key in its middle.
    bundle = []
    for line in SAMPLES.values():
        half = _minified(rng, 4000)
        bundle.append(f"{half}{line};{half}")
    (root / "static").mkdir()
    (root / "static" / "app.js").write_text("\n".join(bundle) + "\n")
    where["static/app.js"] = {kind: n + 1 for n, kind in enumerate(SAMPLES)}
    # A binary model: random bytes (with NULs) around each key, on a line of its own (lines as
    # secscan numbers them: str.splitlines of the decoded bytes).
    blob = b"".join(
        bytes(rng.randrange(256) for _ in range(3000)) + b"\n" + line.encode() + b"\n" for line in SAMPLES.values()
    )
    (root / "static" / "model.glb").write_bytes(blob)
    numbered = blob.decode("utf-8", errors="replace").splitlines()
    where["static/model.glb"] = {kind: numbered.index(line) + 1 for kind, line in SAMPLES.items()}
    # A lockfile backup over LARGE_FILE: short lines of hashes, a key every few thousand lines.
    lock: list[str] = []
    lock_lines: dict[str, int] = {}
    for kind, line in SAMPLES.items():
        lock += [f'    "integrity": "sha512-{_r(86)}==",' for _ in range(LARGE_FILE // 100 // len(SAMPLES) + 10)]
        lock.append(line)
        lock_lines[kind] = len(lock)
    (root / "package-lock.json.bak").write_text("\n".join(lock) + "\n")
    assert (root / "package-lock.json.bak").stat().st_size > LARGE_FILE
    where["package-lock.json.bak"] = lock_lines
    return where


def _run(tree: Path, work: Path) -> ScanOutcome:
    work.mkdir(parents=True, exist_ok=True)
    cfg = ScanConfig(target=tree, cache=False)
    ctx = RunContext(workdir=work, tree=SourceTree(tree), cancel=threading.Event())
    return collect.run_scanner(registry.get("detect-secrets"), cfg, ctx)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, int]], ScanOutcome]:
    require_tool("detect-secrets")
    root = tmp_path_factory.mktemp("planted")
    where = _planted_tree(root / "tree")
    return where, _run(root / "tree", root / "work")


def test_every_provider_detector_has_a_planted_sample() -> None:
    """A detect-secrets release with a new provider format fails here until the anchors and the
    samples know it (secret_text.provider() must be at least as wide as every detector)."""
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:  # pragma: no cover - detect-secrets is a test dependency
        require(False, "detect-secrets importable")
        return
    known = set(get_mapping_from_secret_type_to_class()) - GENERIC - DISABLED
    assert known <= set(SAMPLES), sorted(known - set(SAMPLES))


def test_a_key_planted_in_bulky_content_is_found_as_in_a_config_file(
    planted: tuple[dict[str, dict[str, int]], ScanOutcome],
) -> None:
    where, out = planted
    assert out.status.state == ScannerState.OK, out.status
    found: dict[str, set[tuple[str, int]]] = {}
    for f in out.findings:
        found.setdefault(f.location.path or "", set()).add((f.severity_original or "", f.location.start_line or 0))
    # Each sample is a real key for detect-secrets in a small file.
    for path, kinds in where.items():
        if path.startswith("plain/"):
            ((kind, _),) = kinds.items()
            assert (kind, 1) in found.get(path, set()), (kind, found.get(path))
    # And found at its line in the bundle, the binary file and the lockfile backup.
    for path in ("static/app.js", "static/model.glb", "package-lock.json.bak"):
        missing = {k: n for k, n in where[path].items() if (k, n) not in found.get(path, set())}
        assert not missing, (path, missing)
    # A generic (keyword/entropy) finding in a line too long for configuration stays noise.
    bulky = {p for p in where if not p.startswith("plain/")} - {"package-lock.json.bak"}
    assert not [f for f in out.findings if f.location.path in bulky and f.severity_original in GENERIC], (
        "generic findings in bulk content"
    )
    # The snippet is the window around the key, not a 100 kB line.
    assert all(len(f.location.snippet or "") < 4000 for f in out.findings)
    assert any("read only where a provider's key format could be" in w for w in out.warnings), out.warnings


def test_bulky_content_is_handed_over_as_its_few_candidate_parts() -> None:
    rng = random.Random(3)
    bundle = (_minified(rng, 2_000_000) + "\n").encode()
    form = text_form(bundle)
    assert form is not None and form.bulk is not None and form.bulk.reason == "minified asset"
    assert len(form.data) < 1000, "a bundle without a key is read as (almost) nothing"
    noise = bytes(rng.randrange(256) for _ in range(1_000_000))
    binary = text_form(noise)
    assert binary is not None and binary.bulk is not None and binary.bulk.reason == "binary file"
    assert len(binary.data) < len(noise) // 20
    lock = "".join(f'    "shasum": "{_r(64, _HEX)}",\n' for _ in range(LARGE_FILE // 70)).encode()
    large = text_form(lock)
    assert large is not None and large.left_out == LARGE_FILE // 70
    assert large.data == b"\n" * (LARGE_FILE // 70), "line numbers kept, nothing to read"
    # Small clean text is read as it is; a long line keeps the lines around it whole.
    assert text_form(b"a = 1\n" * 100) is None
    mixed = text_form(b"x = 1\n" + b"y" * (LONG_LINE + 1) + b"\nz = 2\n")
    assert mixed is not None and mixed.data == b"x = 1\n\nz = 2\n"
    assert mixed.bulk is not None and mixed.bulk.lines == frozenset({2})
