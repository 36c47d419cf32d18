"""Pure pieces of the ZAP runner: command line, rule config, target checks, IGNORE handling."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from secscan.config import ScanConfig
from secscan.errors import ConfigError
from secscan.models import ScannerState
from secscan.scanners.base import RunContext
from secscan.scanners.zap import ZapScanner, apply_levels
from secscan.scanners.zap_report import parse_json
from secscan.sourcefiles import SourceTree
from secscan.zap import baseline_conf
from secscan.zap.job import ZapJob, split_options
from secscan.zap.reaper import LABEL, Reaper
from secscan.zap.target import host_port, redact
from tests.zap.conftest import SAMPLE_JSON, Engine

ROOT = Path(__file__).resolve().parents[2]


def test_job_argv() -> None:
    job = ZapJob(target="http://app:8080/", minutes=2, options=("-j",))
    assert job.argv() == (
        "zap-baseline.py", "-t", "http://app:8080/", "-c", "secscan-zap-baseline.conf", "-m", "2",
        "-J", "secscan-zap-report.json", "-x", "secscan-zap-report.xml", "-j",
    )  # fmt: skip


def test_split_options() -> None:
    assert split_options("-a -j -z '-config api.disablekey=true'") == ("-a", "-j", "-z", "-config api.disablekey=true")
    assert split_options("") == ()
    for bad, needle in [
        ("-Q", "not recognized"),
        ("-t http://other", "--zap-target"),
        ("-J mine.json", "secscan reads this report"),
        ("-c other.conf", "--zap-config"),
        ("-z 'unbalanced", "No closing quotation"),
        ("stray", "unexpected argument"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            split_options(bad)


def test_bundled_rule_config_is_valid_and_explained() -> None:
    path = ROOT / "rules" / "zap" / "baseline.conf"
    assert baseline_conf.default_path() == path
    _, conf = baseline_conf.load(path)
    ids = [pid for pid, _ in conf.levels]
    assert len(ids) == len(set(ids)) >= 50
    # Every rule line carries a one-line rationale (the 4th, "user message" field).
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            assert len(fields) == 4 and fields[2].startswith("(") and len(fields[3]) > 10, line
    # Payment-relevant choices: missing CSP and HSTS fail; the noisy timestamp rule is ignored.
    assert conf.level_of("10038") == "FAIL" and conf.level_of("10035") == "FAIL"
    assert "10096" in conf.ignored()
    assert conf.level_of("424242") == "WARN"  # unlisted: zap-baseline's default


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("10038 FAIL (CSP)", "line 1: expected TAB-separated"),
        ("# c\n10038\tBLOCK\t(CSP)", "line 2: level 'BLOCK'"),
        ("abc\tFAIL\t(x)", "plugin id 'abc'"),
        ("10038\tFAIL\t(CSP)\tmsg\tmore", "too many TABs"),
        ("10038\tOUTOFSCOPE\t[", "bad OUTOFSCOPE regex"),
    ],
)
def test_rule_config_errors(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        baseline_conf.parse(text)


def test_rule_config_out_of_scope() -> None:
    conf = baseline_conf.parse("10038,10035\tOUTOFSCOPE\t.*/static/.*\n10020\tIGNORE\t(x)\n")
    assert conf.out_of_scope == (("10038", ".*/static/.*"), ("10035", ".*/static/.*"))
    assert conf.ignored() == {"10020"}


def test_bad_rule_config_fails_before_zap(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("10038\tBLOCK\t(CSP)\n")
    cfg = ScanConfig(zap_target="http://127.0.0.1:1/", zap_config=conf)
    out = ZapScanner(env={"PATH": ""}).run(cfg, RunContext(workdir=tmp_path, tree=SourceTree(None)))
    assert out.status.state is ScannerState.FAILED
    assert out.status.error == f"{conf}, line 1: level 'BLOCK' is not one of PASS, IGNORE, INFO, WARN, FAIL"


def test_no_target_is_skipped(tmp_path: Path) -> None:
    out = ZapScanner(env={}).run(ScanConfig(), RunContext(workdir=tmp_path, tree=SourceTree(None)))
    assert out.status.state is ScannerState.SKIPPED


def test_target_urls() -> None:
    assert host_port("http://127.0.0.1:8080/x") == ("127.0.0.1", 8080)
    assert host_port("https://shop.example") == ("shop.example", 443)
    for bad in ("ftp://x/", "127.0.0.1:8080", "http://", "http://h:99999/"):
        with pytest.raises(ConfigError):
            host_port(bad)
    # Credentials in a target URL never reach messages.
    assert redact("https://user:s3cret@shop.example:8443/a?b=1") == "https://***@shop.example:8443/a?b=1"
    with pytest.raises(ConfigError) as e:
        host_port("ftp://user:s3cret@h/")
    assert "s3cret" not in str(e.value)


def test_ignored_rules_are_left_out_with_a_warning() -> None:
    findings = parse_json(SAMPLE_JSON.read_text())
    conf = baseline_conf.parse("10049\tIGNORE\t(Storable)\tnoise\n10055\tFAIL\t(CSP)\n")
    kept, warnings = apply_levels(findings, conf)
    assert len(kept) == len(findings) - 4
    assert all(f.rule_id != "10049" for f in kept)
    assert warnings == ("zap: left out alerts of rules set to IGNORE in the ZAP rule config: 10049 (4)",)
    levels = {f.rule_id: [t for t in f.tags if t.startswith("zap-level:")] for f in kept}
    assert levels["10055-13"] == ["zap-level:FAIL"] and levels["90004-2"] == ["zap-level:WARN"]


def test_reaper_usage() -> None:
    for argv in (["no-label-value"], ["--create-grace", "soon"]):
        proc = subprocess.run(
            [sys.executable, "-m", "secscan.zap.reaper", *argv], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 2 and "usage" in proc.stderr


@pytest.mark.integration
@pytest.mark.xdist_group("zap-docker")
def test_reaper_removes_labelled_containers_when_its_pipe_closes(docker_engine: Engine, zap_image: str) -> None:
    client = docker_engine.client()
    kept = client.containers.create(zap_image, command=["sleep", "60"], labels={"secscan.scanner": "zap", LABEL: "b"})
    victim = client.containers.create(zap_image, command=["sleep", "60"], labels={"secscan.scanner": "zap", LABEL: "a"})
    try:
        victim.start()
        done = Reaper.start("b", env=docker_engine.env())
        done.done()  # "done": the watchdog exits without touching Docker
        lost = Reaper.start("a", env=docker_engine.env())
        lost.handoff()  # "handoff": the watchdog removes the run's containers
        deadline = time.monotonic() + 30
        while victim.id in {c.id for c in client.containers.list(all=True, ignore_removed=True)}:
            assert time.monotonic() < deadline, "the watchdog did not remove the container"
            time.sleep(0.1)
        assert kept.id in {c.id for c in client.containers.list(all=True, ignore_removed=True)}
    finally:
        kept.remove(force=True)


def test_recorded_command_hides_credentials() -> None:
    opts = split_options("-a -z '-config replacer.full_list(0).replacement=Bearer s3cret' -j -zX=s3cret -ajz s3cret")
    job = ZapJob(target="https://bot:s3cret@shop.example/", options=opts)
    shown = job.display_argv()
    assert "s3cret" not in " ".join(shown)
    assert shown[:3] == ("zap-baseline.py", "-t", "https://***@shop.example/")
    assert shown[11:] == ("-a", "-z", "***", "-j", "-z***", "-ajz", "***")
    # ZAP itself still gets the real values.
    assert "s3cret" in " ".join(job.argv())
