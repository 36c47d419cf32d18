"""Scope-aware history (issue 31): a finding is fixed only by a run that looked at its file with
its scanner. Real bandit and detect-secrets scans of one repository (a full run, a
--changed-only run, three shards, an --only bandit run, a run where bandit could not complete a
file, a last full run) are stored in order on SQLite and on PostgreSQL; after each one the test
checks which findings are open and which were fixed, and by which run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan import resultio
from secscan.aggregate import metrics, migrations
from secscan.aggregate.history import History
from secscan.collect import shard_index
from secscan.models import RunResult, ScannerState
from secscan.triage.merge import merge_results
from tests.conftest import require_tool
from tests.support.cli import secscan
from tests.support.mergerequest import commit, new_repo

# The module fixture is real scans: one worker builds it once.
pytestmark = pytest.mark.xdist_group("aggregate-scope")

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SAFE = "import shlex\n\n\ndef run(cmd):\n    return shlex.split(cmd)\n"
PICKLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
# bandit's AST visitor recurses past Python's limit on 1,500 terms: "exception while scanning file".
DEEP = "import subprocess\n\n\ndef run(cmd, x):\n    y = " + " + ".join(["x"] * 1500) + "\n"
DEEP += "    return subprocess.call(cmd, shell=True)\n"
# A Stripe-shaped live key, built from parts so no scanner flags this test's source.
LIVE_KEY = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dcQ9"
BOTH = "bandit,detect-secrets"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Story:
    runs: tuple[tuple[str, RunResult], ...]
    """(label, result) in the order they are stored."""
    shard_of: dict[str, int]
    """1-based shard (of 3) of each file."""


def _scan(repo: Path, out: Path, *args: str) -> RunResult:
    proc = secscan("scan", ".", "--out", str(out), "--no-progress", "--no-cache", "--fail-open", *args, cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    return resultio.loads((out / "secscan.json").read_text(encoding="utf-8"), origin=str(out))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    require_tool("bandit")
    require_tool("detect-secrets")
    tmp = tmp_path_factory.mktemp("scope")
    repo, base = new_repo(
        tmp,
        {
            "app/run.py": VULN,
            "lib/other.py": PICKLE,
            "app/keys.py": f'STRIPE = "{LIVE_KEY}"\n',
            "docs/notes.md": "notes\n",
        },
        branch="main2",
    )
    runs: list[tuple[str, RunResult]] = []
    runs.append(("full", _scan(repo, tmp / "o1", "--only", BOTH)))
    commit(repo, {"docs/notes.md": "more notes\n"}, "docs")
    runs.append(("changed-only", _scan(repo, tmp / "o2", "--only", BOTH, "--changed-only", "--diff-base", base)))
    commit(repo, {"lib/other.py": SAFE.replace("run", "load")}, "fix pickle")
    for k in (1, 2, 3):
        runs.append((f"shard {k}/3", _scan(repo, tmp / f"o3{k}", "--only", BOTH, "--shard", f"{k}/3")))
    commit(repo, {"app/keys.py": "STRIPE = None\n"}, "key rotated")
    runs.append(("only bandit", _scan(repo, tmp / "o4", "--only", "bandit")))
    commit(repo, {"app/run.py": DEEP}, "deep")
    runs.append(("incomplete", _scan(repo, tmp / "o5", "--only", BOTH)))
    commit(repo, {"app/run.py": SAFE}, "fix shell")
    runs.append(("full again", _scan(repo, tmp / "o6", "--only", BOTH)))
    files = ("app/run.py", "lib/other.py", "app/keys.py")
    return Story(runs=tuple(runs), shard_of={f: shard_index(f, 3) + 1 for f in files})


def _fingerprints(result: RunResult) -> dict[tuple[str, str], str]:
    """(path, rule) -> fingerprint of the result's open findings."""
    return {(f.location.path or "", f.rule_id): f.fingerprint for f in result.findings if f.status.value != "fixed"}


def test_the_results_record_their_scope(story: Story) -> None:
    by = dict(story.runs)
    assert by["full"].scope is not None and not by["full"].scope.partial
    changed = by["changed-only"].scope
    assert changed is not None and changed.changed_only and changed.paths == ("docs/notes.md",)
    for k in (1, 2, 3):
        scope = by[f"shard {k}/3"].scope
        assert scope is not None and scope.shard == f"{k}/3"
        assert {f for f, s in story.shard_of.items() if s == k} <= set(scope.paths or ())
    bandit = next(s for s in by["incomplete"].scanners if s.name == "bandit")
    assert bandit.state is ScannerState.FAILED and any(e.startswith("app/run.py (") for e in bandit.incomplete_files)
    assert {s.name for s in by["only bandit"].scanners if s.state is ScannerState.OK} == {"bandit"}
    # The detect-secrets run of --changed-only was clean, and found nothing: the trap of issue 31.
    ds = next(s for s in by["changed-only"].scanners if s.name == "detect-secrets")
    assert ds.state is ScannerState.OK and not any(f.scanner == "detect-secrets" for f in by["changed-only"].findings)


def _states(h: History) -> dict[str, metrics.FindingState]:
    (stream,) = list(h.iter_streams())
    return metrics.finding_states(stream)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_only_a_covering_run_marks_a_finding_fixed(
    story: Story, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = str(tmp_path / "h.sqlite3") if kind == "sqlite" else str(request.getfixturevalue("pg_url"))
    full = _fingerprints(story.runs[0][1])
    shell = full[("app/run.py", "B602")]
    pickle_fps = {fp for (path, _), fp in full.items() if path == "lib/other.py"}
    assert full[("lib/other.py", "B301")] in pickle_fps
    secret = next(fp for (path, _), fp in full.items() if path == "app/keys.py")
    when = {}
    with History(target) as h:
        for i, (label, result) in enumerate(story.runs):
            at = T0 + timedelta(days=i)
            when[label] = int(at.timestamp())
            h.add(result, project="shop", ref="main", finished_at=at.isoformat())
            states = _states(h)
            open_now = {fp for fp, s in states.items() if s.open_since is not None}
            fixed = {fp: s.fixed_at for fp, s in states.items() if s.fixed_at is not None}
            if label in ("full", "changed-only"):
                # detect-secrets "ok" after scanning only docs/notes.md says nothing of app/keys.py.
                assert {shell, secret} | pickle_fps <= open_now and not fixed, label
            elif label.startswith("shard"):
                k = int(label[6])
                # Only the shard holding lib/other.py (fixed in the code) may close it.
                expect_fixed = pickle_fps if k >= story.shard_of["lib/other.py"] else set()
                assert set(fixed) == expect_fixed, (label, story.shard_of)
                for fp in expect_fixed:
                    assert fixed[fp] == when[f"shard {story.shard_of['lib/other.py']}/3"]
                assert {shell, secret} <= open_now, label
            elif label == "only bandit":
                # The key is gone from the code, but detect-secrets did not run: still open.
                assert secret in open_now and shell in open_now and set(fixed) == pickle_fps
            elif label == "incomplete":
                # bandit could not read app/run.py: its finding there stays open; detect-secrets
                # ran over the whole tree and no longer finds the key: fixed by this run.
                assert shell in open_now and secret not in open_now
                assert fixed[secret] == when["incomplete"]
            else:
                assert shell not in open_now and fixed[shell] == when["full again"]
                assert fixed[secret] == when["incomplete"]
                assert {fixed[fp] for fp in pickle_fps} == {when[f"shard {story.shard_of['lib/other.py']}/3"]}
        rows = h.db.execute(
            "SELECT scope_partial, scope_changed_only, scope_shard FROM runs ORDER BY finished_epoch"
        ).fetchall()
        assert [tuple(r) for r in rows][:5] == [(0, 0, None), (1, 1, None), (1, 0, "1/3"), (1, 0, "2/3"), (1, 0, "3/3")]
        # Mean time to fix counts only the covering runs' fixes.
        (row,) = metrics.compute(list(h.iter_streams()), now=T0 + timedelta(days=30)).projects
        assert row.fixed_total == len(set(full.values())) and row.open_total == 0


def test_a_database_made_before_scopes_migrates_and_keeps_its_runs(story: Story, tmp_path: Path) -> None:
    """A version-2 file (as the previous secscan wrote it) gains the scope tables in place; its
    runs read as whole-tree runs, the paths of its code findings are filled in."""
    db = tmp_path / "v2.sqlite3"
    con = sqlite3.connect(db)
    for version in (1, 2):
        for statement in migrations.MIGRATIONS[version]["sqlite"]:
            con.execute(statement)
    con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '2')")
    con.execute("INSERT INTO projects (id, name) VALUES (1, 'shop')")
    con.execute(
        "INSERT INTO runs (id, project_id, ref, finished_at, finished_epoch, passed, result_sha256)"
        " VALUES (1, 1, 'main', '2026-02-01T00:00:00Z', ?, 0, 'x')",
        (int(datetime(2026, 2, 1, tzinfo=UTC).timestamp()),),
    )
    con.execute("INSERT INTO scanner_runs (run_id, name, state) VALUES (1, 'bandit', 'ok')")
    shell = _fingerprints(story.runs[0][1])[("app/run.py", "B602")]
    con.execute(
        "INSERT INTO findings (id, project_id, fingerprint, kind, scanner, rule_id, title, location, cwes, compliance)"
        " VALUES (1, 1, ?, 'sast', 'bandit', 'B602', 't', 'app/run.py', '', '')",
        (shell,),
    )
    con.execute("INSERT INTO observations (run_id, finding_id, status, severity) VALUES (1, 1, 'existing', 'high')")
    con.commit()
    con.close()
    with History(db) as h:
        assert migrations.current_version(h.db) == migrations.LATEST
        assert h.db.execute("SELECT path FROM findings WHERE id = 1").fetchone()[0] == "app/run.py"
        # A later shard that does not hold app/run.py cannot close the old run's finding.
        scoped = [(r, r.scope) for label, r in story.runs if label.startswith("shard") and r.scope is not None]
        other = next(r for r, scope in scoped if "app/run.py" not in (scope.paths or ()))
        h.add(other, project="shop", ref="main", finished_at="2026-02-02T00:00:00Z")
        assert _states(h)[shell].open_since is not None
        h.add(story.runs[-1][1], project="shop", ref="main", finished_at="2026-02-03T00:00:00Z")
        assert _states(h)[shell].fixed_at == int(datetime(2026, 2, 3, tzinfo=UTC).timestamp())


def test_merged_shards_cover_the_tree_only_when_all_are_there(story: Story) -> None:
    by = dict(story.runs)
    shards = [by[f"shard {k}/3"] for k in (1, 2, 3)]
    whole = merge_results(shards)
    assert whole.scope is not None and not whole.scope.partial
    two = merge_results(shards[:2])
    assert two.scope is not None and two.scope.partial
    assert set(two.scope.paths or ()) == {p for s in shards[:2] if s.scope for p in (s.scope.paths or ())}
    # A whole-tree result (maybe another scanner's job) does not make a shard whole.
    mixed = merge_results([by["full"], shards[0]])
    assert mixed.scope is not None and mixed.scope.paths == shards[0].scope.paths  # type: ignore[union-attr]
    # Round trip through the file format keeps the scope.
    again = resultio.loads(resultio.dumps(two), origin="x")
    assert again.scope == two.scope
