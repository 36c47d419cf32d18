"""Fixes offered as GitLab suggestions (issue 30): an inline thread carries a
```` ```suggestion:-0+0 ```` block where secscan's own semgrep rule has a ``fix`` and it applies to
the thread's line, and the suggestion applies cleanly to the merge request's head (checked with
``git apply --check`` of the equivalent patch on a real checkout). A fix carrying text that could
change other lines (a line break, a fence-breaking backtick), or one that is not the trusted
rule's template, or from a rule that is not secscan's, gives no suggestion.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import subprocess
from pathlib import Path

import pytest

from secscan import resultio
from secscan.gitlab import notes, suggest
from secscan.gitlab.publish import publish_result
from secscan.models import Finding, RunResult
from tests.conftest import require_tool
from tests.support.cli import secscan
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.gitlab_testkit import settings
from tests.support.mergerequest import commit, new_repo

OLD = "import yaml\n\n\ndef config(text):\n    return {}\n"
NEW = (
    "import yaml\n\n\ndef config(text):\n"
    "    data = yaml.load(text, Loader=yaml.Loader)  # the settings\n"  # line 5: added
    "    return data\n"
)

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# scanned and pinned are real scans.
pytestmark = pytest.mark.xdist_group("gitlab-suggestions")

LINE = 5
BLOCK = re.compile(r"^```suggestion:-0\+0\n(.*?)\n```$", re.M | re.S)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult]:
    require_tool("semgrep")
    base = tmp_path_factory.mktemp("suggest")
    repo, _ = new_repo(base, {"app/settings.py": OLD})
    commit(repo, {"app/settings.py": NEW}, "load the settings")
    out = base / "out"
    run = secscan("scan", ".", "--only", "semgrep", "-o", out, "--no-progress", cwd=repo, clean=True)
    assert run.code in (0, 1), run.stderr[-2000:]
    return repo, resultio.load(out / "secscan.json")


def _yaml_finding(result: RunResult) -> Finding:
    (f,) = [f for f in result.findings if f.rule_id == "payment.unsafe-yaml-load"]
    return f


def _threads(gl: GitLabStandIn) -> list[str]:
    return [str(d["notes"][0]["body"]) for d in gl.merge_requests[(7, 3)].threads()]


def _patch(head_text: str, line: int, replacement: str, path: str) -> str:
    old = head_text.splitlines(keepends=True)
    new = [*old[: line - 1], replacement + "\n", *old[line:]]
    return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))


def test_the_thread_offers_the_rules_fix_and_it_applies_to_the_head(
    scanned: tuple[Path, RunResult], gitlab_standin: GitLabStandIn, tmp_path: Path
) -> None:
    repo, result = scanned
    f = _yaml_finding(result)
    assert f.fix == "yaml.safe_load(text)"  # semgrep rendered the trusted template
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"app/settings.py": (OLD, NEW)})
    publish_result(result, settings(gitlab_standin))
    (body,) = [b for b in _threads(gitlab_standin) if "payment.unsafe-yaml-load" in b]
    (replacement,) = BLOCK.findall(body)
    assert replacement == "    data = yaml.safe_load(text)  # the settings"
    patch = tmp_path / "suggestion.patch"
    patch.write_text(_patch(NEW, LINE, replacement, "app/settings.py"), encoding="utf-8")
    check = subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    # ... and it changes that line alone.
    assert patch.read_text(encoding="utf-8").count("\n-") == 1


@pytest.mark.parametrize(
    "fix",
    [
        "yaml.safe_load(text)\nimport os; os.system('id')",  # a second line
        "yaml.safe_load(text)  # ```\n/approve",  # a fence break and a quick action
        "yaml.safe_load(text` + `)",  # a backtick
        "os.system(text)",  # not the rule's template
        "yaml.safe_load(__import__('os').system('id'))",  # template, but text not in the matched code
    ],
)
def test_an_untrusted_fix_gives_no_suggestion(scanned: tuple[Path, RunResult], fix: str) -> None:
    _repo, result = scanned
    planted = dataclasses.replace(_yaml_finding(result), fix=fix)
    assert suggest.fixed_line(planted, line=LINE) is None
    body = notes.thread_body(planted, report="secscan", key="k", line=LINE)
    assert "suggestion" not in body


def test_only_secscans_own_rules_and_the_threads_line(scanned: tuple[Path, RunResult]) -> None:
    _repo, result = scanned
    f = _yaml_finding(result)
    assert suggest.fixed_line(f, line=LINE) is not None
    assert suggest.fixed_line(f, line=LINE + 1) is None  # the thread sits elsewhere
    assert suggest.fixed_line(dataclasses.replace(f, rule_id="custom.yaml-load"), line=LINE) is None
    assert suggest.fixed_line(dataclasses.replace(f, scanner="bandit"), line=LINE) is None
    assert "payment.unsafe-yaml-load" in suggest.trusted_fixes()


def test_a_planted_fix_in_a_published_result_posts_no_suggestion(
    scanned: tuple[Path, RunResult], gitlab_standin: GitLabStandIn
) -> None:
    _repo, result = scanned
    planted = dataclasses.replace(_yaml_finding(result), fix="yaml.safe_load(text)\n    import os")
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"app/settings.py": (OLD, NEW)})
    publish_result(dataclasses.replace(result, findings=(planted,)), settings(gitlab_standin))
    bodies = _threads(gitlab_standin)
    assert bodies and not any("suggestion" in b for b in bodies)


# ------------------------------------------------------------------ vulnerable pins

EXAMPLE = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult, dict[str, str]]:
    """A merge request adding the example app's pinned requirements and its Node service,
    audited for real (pip-audit, the npm lockfile audit) against the example advisories."""
    require_tool("pip-audit")
    base = tmp_path_factory.mktemp("pins")
    app = EXAMPLE / "payment-app"
    head = {
        "requirements.txt": (app / "requirements.txt").read_text(encoding="utf-8"),
        "checkout-node/package.json": (app / "checkout-node" / "package.json").read_text(encoding="utf-8"),
        "checkout-node/package-lock.json": (app / "checkout-node" / "package-lock.json").read_text(encoding="utf-8"),
    }
    repo, _ = new_repo(base, {"README.md": "app\n"})
    commit(repo, dict(head), "dependencies")
    out = base / "out"
    run = secscan(
        "scan", ".", "--only", "pip-audit,npm-audit", "--advisory-db", EXAMPLE / "advisories", "-o", out,
        "--no-progress", cwd=repo, clean=True,
    )  # fmt: skip
    assert run.code == 1, run.stdout[-2000:] + run.stderr[-2000:]
    return repo, resultio.load(out / "secscan.json"), head


def test_a_vulnerable_pin_gets_a_thread_with_the_fixed_version_that_applies_to_the_head(
    pinned: tuple[Path, RunResult, dict[str, str]], gitlab_standin: GitLabStandIn, tmp_path: Path
) -> None:
    repo, result, head = pinned
    files = {path: ("", head[path]) for path in ("requirements.txt", "checkout-node/package.json")}
    gitlab_standin.add_merge_request(project_id=7, iid=3, files=files)
    publish_result(result, settings(gitlab_standin, min_severity="low", max_threads=100))
    offered: dict[tuple[str, int], str] = {}
    for d in gitlab_standin.merge_requests[(7, 3)].threads():
        note = d["notes"][0]
        for replacement in BLOCK.findall(str(note["body"])):
            where = (note["position"]["new_path"], note["position"]["new_line"])
            assert offered.setdefault(where, replacement) == replacement  # one version per pin
    shown = {path: head[path].splitlines() for path in files}
    by_line = {(p, n): shown[p][n - 1] for p, n in offered}
    # jinja2 2.10 has two advisories (fixed in 2.10.1 and 2.11.3): one click fixes both.
    assert offered[("requirements.txt", by_line_index(shown, "requirements.txt", "jinja2=="))] == "jinja2==2.11.3"
    assert offered[("requirements.txt", by_line_index(shown, "requirements.txt", "requests=="))] == "requests==2.31.0"
    mysql = by_line_index(shown, "checkout-node/package.json", '"mysql2"')
    assert offered[("checkout-node/package.json", mysql)] == '    "mysql2": "3.9.7",'
    # A transitive dependency (body-parser: in the lockfile, not in package.json) is not pinned by
    # hand in the merge request: no thread, no suggestion; a safe pin (urllib3) neither.
    assert not any("body-parser" in text or "urllib3" in text for text in by_line.values())
    for (path, line), replacement in offered.items():
        patch = tmp_path / "p.patch"
        patch.write_text(_patch(head[path], line, replacement, path), encoding="utf-8")
        check = subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, capture_output=True, text=True)
        assert check.returncode == 0, (path, line, check.stderr)


def by_line_index(shown: dict[str, list[str]], path: str, prefix: str) -> int:
    return next(n for n, text in enumerate(shown[path], 1) if text.strip().startswith(prefix))


def test_a_pin_is_only_ever_moved_to_a_version_above_it(pinned: tuple[Path, RunResult, dict[str, str]]) -> None:
    _repo, result, _head = pinned
    f = next(f for f in result.findings if f.location.package == "jinja2")
    line = "jinja2==2.10  # templates"
    assert suggest.bumped_pin(f, line, "requirements.txt", "2.11.3") == "jinja2==2.11.3  # templates"
    for planted in (("0.1",), ("2.11.3\n-r /etc/passwd",), ("`1.0`",)):
        g = dataclasses.replace(f, fixed_versions=planted)
        assert suggest.bumped_pin(g, line, "requirements.txt") is None
    assert suggest.bumped_pin(f, "jinja2==2.9  # another pin", "requirements.txt") is None
    assert suggest.bumped_pin(f, "jinja2>=2.10", "requirements.txt") is None


def test_several_advisories_on_one_pin_give_one_thread_resolved_once_the_pin_moves(
    pinned: tuple[Path, RunResult, dict[str, str]], gitlab_standin: GitLabStandIn, tmp_path: Path
) -> None:
    """jinja2 2.10 has two advisories: one thread on its pin lists both, with one suggestion to the
    version fixing both; publishing again posts nothing; after the author moves the pin (a real
    rescan of the new head) that thread is resolved and the other pins' threads stay open."""
    repo, result, head = pinned
    files = {path: ("", head[path]) for path in ("requirements.txt", "checkout-node/package.json")}
    mr = gitlab_standin.add_merge_request(project_id=7, iid=3, files=files)
    publish_result(result, settings(gitlab_standin, min_severity="low", max_threads=100))
    threads = gitlab_standin.merge_requests[(7, 3)].threads()
    places = [(d["notes"][0]["position"]["new_path"], d["notes"][0]["position"]["new_line"]) for d in threads]
    assert len(places) == len(set(places)), places  # one thread per pin

    jinja = [f for f in result.findings if f.location.package == "jinja2"]
    assert len(jinja) == 2
    line = by_line_index({"requirements.txt": head["requirements.txt"].splitlines()}, "requirements.txt", "jinja2==")
    (thread,) = [d for d in threads if d["notes"][0]["position"]["new_line"] == line]
    body = str(thread["notes"][0]["body"])
    assert "2 advisories" in body
    for f in jinja:
        assert f.rule_id.replace("-", "\\-") in body or f.rule_id in body, (f.rule_id, body)
    assert BLOCK.findall(body) == ["jinja2==2.11.3"]

    publish_result(result, settings(gitlab_standin, min_severity="low", max_threads=100))
    assert len(gitlab_standin.merge_requests[(7, 3)].threads()) == len(threads)  # never posted twice

    # The author applies the suggestion; the next pipeline scans the new head for real.
    moved = head["requirements.txt"].replace("jinja2==2.10", "jinja2==2.11.3")
    sha = commit(repo, {"requirements.txt": moved}, "apply the suggestion")
    out = tmp_path / "out"
    run = secscan(
        "scan", ".", "--only", "pip-audit,npm-audit", "--advisory-db", EXAMPLE / "advisories", "-o", out,
        "--no-progress", cwd=repo, clean=True,
    )  # fmt: skip
    assert run.code == 1, run.stdout[-2000:] + run.stderr[-2000:]  # the other pins are still vulnerable
    after = resultio.load(out / "secscan.json")
    assert not [f for f in after.findings if f.location.package == "jinja2"]
    gitlab_standin.push_version(mr, head_sha=sha, files={**files, "requirements.txt": ("", moved)})
    publish_result(
        after, dataclasses.replace(settings(gitlab_standin, min_severity="low", max_threads=100), commit_sha=sha)
    )
    now = gitlab_standin.merge_requests[(7, 3)].threads()
    assert len(now) == len(threads)
    state = {d["id"]: bool(d["notes"][0].get("resolved")) for d in now}
    assert state[thread["id"]] is True
    assert not any(resolved for d_id, resolved in state.items() if d_id != thread["id"])


def test_a_thread_an_earlier_secscan_posted_for_one_advisory_counts_for_the_pin(
    pinned: tuple[Path, RunResult, dict[str, str]], gitlab_standin: GitLabStandIn
) -> None:
    """Before pins had one thread, each advisory got its own: such a thread on the jinja2 pin keeps
    the pin from getting a second one."""
    _repo, result, head = pinned
    files = {path: ("", head[path]) for path in ("requirements.txt", "checkout-node/package.json")}
    mr = gitlab_standin.add_merge_request(project_id=7, iid=3, files=files)
    jinja = sorted((f for f in result.findings if f.location.package == "jinja2"), key=lambda f: f.fingerprint)
    line = by_line_index({"requirements.txt": head["requirements.txt"].splitlines()}, "requirements.txt", "jinja2==")
    old = notes.thread_body(jinja[1], report="secscan", key=jinja[1].fingerprint)
    gitlab_standin.add_thread(
        mr, old, author=gitlab_standin.bot_user, position={"new_path": "requirements.txt", "new_line": line}
    )
    publish_result(result, settings(gitlab_standin, min_severity="low", max_threads=100))
    on_pin = [
        d
        for d in gitlab_standin.merge_requests[(7, 3)].threads()
        if d["notes"][0].get("position", {}).get("new_path") == "requirements.txt"
        and d["notes"][0]["position"].get("new_line") == line
    ]
    assert len(on_pin) == 1 and not on_pin[0]["notes"][0].get("resolved")
