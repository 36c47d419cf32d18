"""A run that read test code only with the rules that can block there (the default since
speed-2) does not mark a test-code finding of another rule fixed (issue 31).

Real bandit scans of one repository, stored in order on SQLite and on PostgreSQL: a run with
--scan-all-test-code finds a shell call in tests/ (bandit B602, tagged test-code); a default run
(bandit does not read test code under the default policy) leaves it open although it no longer
reports it, and closes what it did look for (production code, and a test-path module production
imports); only the next --scan-all-test-code run, after the fix, closes it. A database of the
previous schema (version 5) migrates and behaves the same.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan import dbtarget, resultio
from secscan.aggregate import metrics, migrations, sqldb
from secscan.aggregate.history import History
from secscan.models import NarrowedTestCode, RunResult, ScannerRules, Scope
from secscan.testcode import rule_ran
from secscan.triage.merge import merge_results, merged_scope
from tests.conftest import require_tool
from tests.support.cli import secscan
from tests.support.mergerequest import commit, new_repo

# The module fixture is real scans: one worker builds it once.
pytestmark = pytest.mark.xdist_group("aggregate-test-code")

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
SAFE = "import shlex\n\n\ndef run(cmd):\n    return shlex.split(cmd)\n"
PICKLE = "import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n"
JSON = "import json\n\n\ndef load(blob):\n    return json.loads(blob)\n"
T0 = datetime(2026, 4, 1, tzinfo=UTC)
TEST_FILE = "tests/test_run.py"
HELPER = "tests/helpers.py"


@dataclass(frozen=True)
class Story:
    all_rules: RunResult
    """--scan-all-test-code: the shell call in tests/ is reported."""
    default: RunResult
    """Default: test code not read by bandit; production fixed (app/run.py, tests/helpers.py)."""
    shards: tuple[RunResult, ...]
    """The default run's tree in 3 shards (same commit)."""
    all_again: RunResult
    """--scan-all-test-code after tests/test_run.py was fixed."""
    with_baseline: RunResult
    """The default run against a baseline made of ``all_rules``."""


def _scan(repo: Path, out: Path, *args: str) -> RunResult:
    proc = secscan("scan", ".", "--out", str(out), "--no-progress", "--no-cache", "--only", "bandit", *args, cwd=repo)
    assert proc.returncode in (0, 1), proc.stderr
    return resultio.loads((out / "secscan.json").read_text(encoding="utf-8"), origin=str(out))


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    require_tool("bandit")
    tmp = tmp_path_factory.mktemp("testcode")
    repo, _ = new_repo(
        tmp,
        {
            "app/__init__.py": "",
            "app/run.py": VULN,
            "app/main.py": "from tests.helpers import load\n\nprint(load)\n",
            "tests/__init__.py": "",
            HELPER: PICKLE,
            TEST_FILE: VULN,
        },
        branch="main2",
    )
    all_rules = _scan(repo, tmp / "o1", "--scan-all-test-code")
    commit(repo, {"app/run.py": SAFE, HELPER: JSON}, "fix production")
    default = _scan(repo, tmp / "o2")
    made = secscan("baseline", "create", str(tmp / "o1" / "secscan.json"), "-o", str(tmp / "baseline.json"))
    assert made.returncode == 0, made.stderr
    with_baseline = _scan(repo, tmp / "o5", "--baseline", str(tmp / "baseline.json"))
    shards = tuple(_scan(repo, tmp / f"o3{k}", "--shard", f"{k}/3") for k in (1, 2, 3))
    commit(repo, {TEST_FILE: SAFE}, "fix the test")
    all_again = _scan(repo, tmp / "o4", "--scan-all-test-code")
    return Story(all_rules=all_rules, default=default, shards=shards, all_again=all_again, with_baseline=with_baseline)


def _open(result: RunResult) -> dict[tuple[str, str], str]:
    return {(f.location.path or "", f.rule_id): f.fingerprint for f in result.findings if f.status.value != "fixed"}


def test_the_result_records_how_test_code_was_read(story: Story) -> None:
    assert story.all_rules.scope is not None and story.all_rules.scope.test_code is None
    assert story.all_again.scope is not None and story.all_again.scope.test_code is None
    scope = story.default.scope
    assert scope is not None and scope.test_code is not None
    narrowed = scope.test_code
    # The default policy blocks nothing bandit finds in test code: bandit did not read it at all.
    assert narrowed.rules == (ScannerRules(scanner="bandit", rules=()),)
    assert narrowed.rules_of("bandit") == () and narrowed.rules_of("semgrep") is None
    # app/main.py imports tests.helpers (and so its package): production code, every rule.
    assert narrowed.production == ("tests/__init__.py", HELPER)
    assert "tests/" in narrowed.test_paths
    assert (TEST_FILE, "B602") in _open(story.all_rules) and (TEST_FILE, "B602") not in _open(story.default)
    # secscan.json carries it.
    assert resultio.loads(resultio.dumps(story.default), origin="x").scope == scope


def test_a_baseline_entry_in_test_code_stays_open(story: Story, tmp_path: Path) -> None:
    """The same trap through the baseline: the run does not report an entry it did not look for
    as "fixed", and the history would not close it if it did (it closes what it looked at)."""
    status = {(f.location.path, f.rule_id): f.status.value for f in story.with_baseline.findings}
    assert status[("app/run.py", "B602")] == "fixed" and status[(HELPER, "B301")] == "fixed"
    # The run itself does not call it fixed: it did not run B602 on tests/.
    assert (TEST_FILE, "B602") not in status
    full = _open(story.all_rules)
    test_fp, prod_fp = full[(TEST_FILE, "B602")], full[("app/run.py", "B602")]
    with History(tmp_path / "h.sqlite3") as h:
        h.add(story.all_rules, project="shop", ref="main", finished_at=T0.isoformat())
        h.add(story.with_baseline, project="shop", ref="main", finished_at=(T0 + timedelta(days=1)).isoformat())
        states = _states(h)
        assert states[test_fp].open_since is not None and states[prod_fp].fixed_at == _epoch(1)
        # A covering run closes it (the entry is absent from the --scan-all-test-code run).
        h.add(story.all_again, project="shop", ref="main", finished_at=(T0 + timedelta(days=2)).isoformat())
        assert _states(h)[test_fp].fixed_at == _epoch(2)


def test_merged_shards_keep_the_narrowed_test_code(story: Story) -> None:
    narrowed = story.default.scope.test_code  # type: ignore[union-attr]
    tests_shard = next(r for r in story.shards if r.scope and TEST_FILE in (r.scope.paths or ()))
    assert tests_shard.scope is not None and tests_shard.scope.test_code == narrowed
    merged = merge_results(list(story.shards))
    assert merged.scope is not None and not merged.scope.partial and merged.scope.test_code == narrowed
    # With a result that read test code with every rule, the merge is still narrowed (fail closed).
    mixed = merge_results([story.all_rules, story.default])
    assert mixed.scope is not None and mixed.scope.test_code == narrowed
    assert merge_results([story.all_rules, story.all_again]).scope == Scope()


def test_merged_test_code_keeps_what_every_input_ran() -> None:
    a = NarrowedTestCode(
        test_paths=("tests/",),
        production=("tests/a.py", "tests/b.py"),
        rules=(ScannerRules(scanner="bandit", rules=("B105", "B106")), ScannerRules(scanner="semgrep", rules=("x",))),
    )
    b = NarrowedTestCode(
        test_paths=("tests/",), production=("tests/b.py",), rules=(ScannerRules(scanner="bandit", rules=("B105",)),)
    )
    merged = merged_scope([Scope(test_code=a), None, Scope(test_code=b)])
    assert merged == Scope(
        test_code=NarrowedTestCode(
            test_paths=("tests/",),
            production=("tests/b.py",),
            rules=(ScannerRules(scanner="bandit", rules=("B105",)), ScannerRules(scanner="semgrep", rules=("x",))),
        )
    )


def test_a_rule_ran_only_where_the_run_says() -> None:
    narrowed = NarrowedTestCode(
        test_paths=("tests/", "test_*.py"),
        production=("tests/shared.py",),
        rules=(
            ScannerRules(scanner="bandit", rules=()),
            ScannerRules(scanner="semgrep", rules=("payment.stripe-live-secret-key",)),
        ),
    )

    def ran(scanner: str, rule: str, path: str) -> bool:
        return rule_ran(narrowed, scanner=scanner, rule_id=rule, path=path)

    assert not ran("bandit", "B105", "tests/test_a.py")
    assert not ran("bandit", "B105", "pkg/test_a.py")
    assert ran("bandit", "B105", "tests/shared.py")  # production imports it
    assert ran("bandit", "B105", "app/a.py")
    assert ran("semgrep", "payment.stripe-live-secret-key", "tests/test_a.py")
    assert ran("semgrep", "rules.payment.stripe-live-secret-key", "tests/test_a.py")
    assert not ran("semgrep", "payment.sql-injection", "tests/test_a.py")
    assert ran("detect-secrets", "Secret Keyword", "tests/test_a.py")  # every rule
    assert rule_ran(None, scanner="bandit", rule_id="B105", path="tests/test_a.py")


def _states(h: History) -> dict[str, metrics.FindingState]:
    (stream,) = list(h.iter_streams())
    return metrics.finding_states(stream)


def _epoch(days: int) -> int:
    return int((T0 + timedelta(days=days)).timestamp())


def _check_story(h: History, story: Story, *, start: int) -> None:
    """Store the default run, then the second full run, and check what each closed."""
    full = _open(story.all_rules)
    test_fp, prod_fp = full[(TEST_FILE, "B602")], full[("app/run.py", "B602")]
    helper_fp = full[(HELPER, "B301")]
    h.add(story.default, project="shop", ref="main", finished_at=(T0 + timedelta(days=start)).isoformat())
    states = _states(h)
    # The default run looked at production code (app/run.py, and the test-path module production
    # imports) and closed what it no longer found; it did not run B602 on tests/: still open.
    assert states[prod_fp].fixed_at == _epoch(start) and states[helper_fp].fixed_at == _epoch(start)
    assert states[test_fp].open_since is not None and states[test_fp].fixed_at is None
    h.add(story.all_again, project="shop", ref="main", finished_at=(T0 + timedelta(days=start + 1)).isoformat())
    states = _states(h)
    assert states[test_fp].fixed_at == _epoch(start + 1) and states[test_fp].open_since is None


def test_a_narrowed_run_leaves_a_test_code_finding_of_another_rule_open(story: Story, store: str) -> None:
    with History(store) as h:
        h.add(story.all_rules, project="shop", ref="main", finished_at=T0.isoformat())
        _check_story(h, story, start=1)
        # Runs that read test code alike share one stored record.
        assert h.db.execute("SELECT COUNT(*) FROM test_scopes").fetchone()[0] == 1
        assert h.db.execute("SELECT COUNT(*) FROM runs WHERE scope_test_id IS NOT NULL").fetchone()[0] == 1


def test_a_narrowed_shard_leaves_it_open_too(story: Story, tmp_path: Path) -> None:
    test_fp = _open(story.all_rules)[(TEST_FILE, "B602")]
    tests_shard = next(r for r in story.shards if r.scope and TEST_FILE in (r.scope.paths or ()))
    with History(tmp_path / "h.sqlite3") as h:
        h.add(story.all_rules, project="shop", ref="main", finished_at=T0.isoformat())
        h.add(
            merge_results(list(story.shards)),
            project="shop",
            ref="main",
            finished_at=(T0 + timedelta(days=1)).isoformat(),
        )
        h.add(tests_shard, project="shop", ref="main", finished_at=(T0 + timedelta(days=2)).isoformat())
        assert _states(h)[test_fp].open_since is not None
        # The same runs recorded as if they had read test code with every rule would close it:
        # the test checks the record, not that nothing closes.
        whole = replace(tests_shard, scope=replace(tests_shard.scope, test_code=None))  # type: ignore[type-var]
        h.add(whole, project="shop", ref="main", finished_at=(T0 + timedelta(days=3)).isoformat())
        assert _states(h)[test_fp].fixed_at == _epoch(3)


def _v5_database(target: str, story: Story) -> None:
    """A history as the previous secscan wrote it (schema 5): the --scan-all-test-code run, by hand."""
    db = sqldb.connect(dbtarget.parse_target(target))
    try:
        with db.transaction():
            for version in range(1, 6):
                for statement in migrations.MIGRATIONS[version][db.dialect]:
                    db.execute(statement)
            db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '5')")
            # No ids given: PostgreSQL's identity columns count only the ones they hand out.
            pid = db.execute("INSERT INTO projects (name) VALUES ('shop') RETURNING id").fetchone()[0]
            run = db.execute(
                "INSERT INTO runs (project_id, ref, finished_at, finished_epoch, passed, result_sha256)"
                " VALUES (?, 'main', ?, ?, 0, 'v5') RETURNING id",
                (pid, T0.strftime("%Y-%m-%dT%H:%M:%SZ"), _epoch(0)),
            ).fetchone()[0]
            db.execute("INSERT INTO scanner_runs (run_id, name, state) VALUES (?, 'bandit', 'ok')", (run,))
            for f in story.all_rules.findings:
                path = f.location.path or ""
                fid = db.execute(
                    "INSERT INTO findings (project_id, fingerprint, kind, scanner, rule_id, title, location,"
                    " cwes, compliance, path) VALUES (?, ?, 'sast', 'bandit', ?, 't', ?, '', '', ?) RETURNING id",
                    (pid, f.fingerprint, f.rule_id, path, path),
                ).fetchone()[0]
                db.execute(
                    "INSERT INTO observations (run_id, finding_id, status, severity) VALUES (?, ?, 'existing', 'high')",
                    (run, fid),
                )
    finally:
        db.close()


def test_a_version_5_database_migrates(story: Story, store: str) -> None:
    _v5_database(store, story)
    with History(store) as h:
        assert migrations.current_version(h.db) == migrations.LATEST == 6
        assert "test_scopes" in h.db.table_names()
        # The old run reads as one that read test code with every rule, as it did.
        (stream,) = list(h.iter_streams())
        assert stream.runs[0].test_code is None
        _check_story(h, story, start=1)
