"""The git pre-push hook: the diff-aware scan a merge request pipeline will run, before the push.

``install`` writes ``<git dir>/hooks/pre-push`` (honouring ``core.hooksPath``); the script only
calls ``secscan hook run``, which reads git's pre-push lines from stdin
(``<local ref> <local sha> <remote ref> <remote sha>``), picks the base the merge request will be
compared with, and runs ``secscan scan --changed-only --diff-base <merge-base>`` on exactly the
commit being pushed. The scan reads the same ``[tool.secscan]`` / ``.secscan.toml`` settings
(policy, suppressions, baseline) as the CI job, so the verdict is the one the pipeline gives.

Only :func:`parse_push_lines` and :func:`render_hook` are pure; the rest asks the real git.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan import config
from secscan.errors import ConfigError, InputError
from secscan.fsutil import atomic_write
from secscan.gitutil import run_git

MARKER = "# secscan-managed pre-push hook"
"""First comment line of a hook we wrote: only such a hook is replaced without --force."""
BACKUP_SUFFIX = ".secscan-backup"
SKIP_VARIABLE = "SECSCAN_SKIP_HOOK"
BASE_VARIABLE = "SECSCAN_HOOK_BASE"


@dataclass(frozen=True, kw_only=True)
class RefUpdate:
    """One line of git's pre-push stdin."""

    local_ref: str
    """e.g. ``refs/heads/feature`` (``(delete)`` when a remote ref is deleted)."""
    local_sha: str
    remote_ref: str
    remote_sha: str
    """All zeros when the remote ref does not exist yet (a new branch)."""

    @property
    def is_delete(self) -> bool:
        return set(self.local_sha) == {"0"}

    @property
    def is_new(self) -> bool:
        return set(self.remote_sha) == {"0"}

    @property
    def is_tag(self) -> bool:
        return self.local_ref.startswith("refs/tags/")


@dataclass(frozen=True, kw_only=True)
class InstallOutcome:
    path: Path
    """The hook file written."""
    replaced: str | None
    """"secscan" (our own older hook), "foreign" (with --force) or None (no hook before)."""
    backup: Path | None
    """Where a foreign hook was moved (only with --force)."""


@dataclass(frozen=True, kw_only=True)
class ScanPlan:
    """What one pushed commit is checked with."""

    sha: str
    base_ref: str | None
    """The ref the merge-base was taken with (None: no base known, the whole tree is scanned)."""
    merge_base: str | None


def parse_push_lines(text: str) -> tuple[RefUpdate, ...]:
    """Git's pre-push stdin (pure). A malformed line is an :class:`InputError` (exit 2)."""
    out = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 4 or not all(_is_sha(p) for p in (parts[1], parts[3])):
            raise InputError(f"pre-push input line {n}: expected '<local ref> <sha> <remote ref> <sha>', got {raw!r}")
        out.append(RefUpdate(local_ref=parts[0], local_sha=parts[1], remote_ref=parts[2], remote_sha=parts[3]))
    return tuple(out)


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def render_hook(*, python: str, run_args: Sequence[str] = ()) -> str:
    """The hook script (pure). It runs the interpreter secscan was installed with, falling back to
    ``secscan`` on PATH when that interpreter is gone (a recreated virtualenv)."""
    args = " ".join(shlex.quote(a) for a in run_args)
    args = f" {args}" if args else ""
    return (
        "#!/bin/sh\n"
        f"{MARKER} (written by `secscan hook install`; replace with `secscan hook install --force`)\n"
        "# Runs the diff-aware scan of the pushed commits with the project's CI policy.\n"
        f"# Skip once: `git push --no-verify` or {SKIP_VARIABLE}=1 git push\n"
        f'if [ "${{{SKIP_VARIABLE}:-0}}" != "0" ]; then\n'
        f'  echo "secscan: pre-push scan skipped ({SKIP_VARIABLE} is set)" >&2\n'
        "  exit 0\n"
        "fi\n"
        f"SECSCAN_PYTHON={shlex.quote(python)}\n"
        'if [ -x "$SECSCAN_PYTHON" ]; then\n'
        # -P: git runs hooks in the work tree, whose secscan.py must never shadow secscan.
        f'  exec "$SECSCAN_PYTHON" -P -m secscan hook run{args} "$@"\n'
        "fi\n"
        f'exec secscan hook run{args} "$@"\n'
    )


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run the real git in ``repo``; failures become a one-line :class:`ConfigError`."""
    return run_git(repo, *args, check=check, purpose="the pre-push hook").strip()


def toplevel(repo: Path) -> Path:
    top = git(repo, "rev-parse", "--show-toplevel", check=False)
    if not top:
        raise ConfigError(f"{repo} is not inside a git work tree")
    return Path(top)


def hook_path(repo: Path) -> Path:
    """``pre-push`` in the hooks folder git actually uses (core.hooksPath, worktrees)."""
    rel = git(repo, "rev-parse", "--git-path", "hooks/pre-push")
    p = Path(rel)
    return p if p.is_absolute() else (toplevel(repo) / p)


def install(
    repo: Path, *, force: bool = False, python: str | None = None, run_args: Sequence[str] = ()
) -> InstallOutcome:
    """Write the pre-push hook. A hook secscan did not write is kept unless ``force`` (then it is
    moved aside to ``pre-push.secscan-backup``, never deleted)."""
    path = hook_path(repo)
    replaced: str | None = None
    backup: Path | None = None
    if path.exists() or path.is_symlink():
        try:
            current = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            current = ""
        if MARKER in current:
            replaced = "secscan"
        elif not force:
            raise ConfigError(
                f"{path} already exists and was not written by secscan; keep it, or re-run with --force "
                f"(it is then moved to {path.name}{BACKUP_SUFFIX})"
            )
        else:
            replaced = "foreign"
            backup = path.with_name(path.name + BACKUP_SUFFIX)
            try:
                os.replace(path, backup)
            except OSError as e:
                raise ConfigError(f"cannot move {path} aside: {e.strerror or e}") from e
    atomic_write(path, render_hook(python=python or sys.executable, run_args=run_args), mode=0o755)
    return InstallOutcome(path=path, replaced=replaced, backup=backup)


def _verify(repo: Path, ref: str) -> str | None:
    return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False) or None


def choose_base(repo: Path, update: RefUpdate, *, remote: str, base: str | None) -> str | None:
    """The ref whose merge-base with the pushed commit the scan is diffed against.

    In order: an explicit base (``--base``/SECSCAN_HOOK_BASE); the remote's default branch
    (``<remote>/HEAD``, what a merge request targets by default); the pushed branch's upstream;
    the remote's current tip of the pushed ref. None when nothing is known (first push to an empty
    remote): then the whole tree is scanned, as CI's first pipeline would.
    """
    if base:
        if _verify(repo, base) is None:
            raise ConfigError(f"pre-push base {base!r} is not a commit in this repository (git fetch it first)")
        return base
    if remote:
        default = git(repo, "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD", check=False)
        if default and _verify(repo, default):
            return default
    if update.local_ref.startswith("refs/heads/"):
        upstream = git(repo, "rev-parse", "--symbolic-full-name", f"{update.local_ref}@{{upstream}}", check=False)
        if upstream and _verify(repo, upstream):
            return upstream
    if not update.is_new and _verify(repo, update.remote_sha):
        return update.remote_sha
    return None


def plan(repo: Path, update: RefUpdate, *, remote: str, base: str | None) -> ScanPlan:
    base_ref = choose_base(repo, update, remote=remote, base=base)
    mb = None
    if base_ref is not None:
        mb = git(repo, "merge-base", base_ref, update.local_sha, check=False) or _verify(repo, base_ref)
    return ScanPlan(sha=update.local_sha, base_ref=base_ref, merge_base=mb)


def updates_from_env(env: Mapping[str, str]) -> tuple[RefUpdate, ...]:
    """pre-commit's pre-push stage passes the refs in PRE_COMMIT_* variables, not on stdin."""
    to_ref = env.get("PRE_COMMIT_TO_REF", "").strip()
    if not _is_sha(to_ref):
        return ()
    from_ref = env.get("PRE_COMMIT_FROM_REF", "").strip()
    return (
        RefUpdate(
            local_ref=env.get("PRE_COMMIT_LOCAL_BRANCH", "HEAD") or "HEAD",
            local_sha=to_ref,
            remote_ref=env.get("PRE_COMMIT_REMOTE_BRANCH", "") or "HEAD",
            remote_sha=from_ref if _is_sha(from_ref) else "0" * len(to_ref),
        ),
    )


def head_update(repo: Path) -> RefUpdate:
    """A push of the current branch (``secscan hook run`` typed by hand, no stdin)."""
    sha = git(repo, "rev-parse", "--verify", "HEAD")
    ref = git(repo, "symbolic-ref", "--quiet", "HEAD", check=False) or "HEAD"
    return RefUpdate(local_ref=ref, local_sha=sha, remote_ref=ref, remote_sha="0" * len(sha))


def _clean(repo: Path) -> bool:
    return git(repo, "status", "--porcelain", "--untracked-files=normal") == ""


def scan_command(
    root: Path, p: ScanPlan, *, out_dir: Path, scan_args: Sequence[str], skip: Sequence[str] = ()
) -> list[str]:
    from secscan.scanners import registry

    # -P: the repository is the working directory, and a committed secscan.py (or click.py...)
    # must never be imported instead of secscan's own modules.
    cmd = [sys.executable, "-P", "-m", "secscan", "scan", str(root), "--out", str(out_dir), "--no-progress"]
    if p.merge_base:
        cmd += ["--changed-only", "--diff-base", p.merge_base]
    # Scanners of a running deployment (DAST) are left to CI: a pre-push check is static.
    # --skip replaces the configured list, so the project's own skips are carried over.
    cmd += ["--skip", ",".join(sorted({*skip, *registry.needing_deployment()})), *scan_args]
    return cmd


def run(
    repo: Path,
    updates: Sequence[RefUpdate],
    *,
    remote: str,
    base: str | None = None,
    scan_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> int:
    """Scan every pushed commit and return the worst exit code (0 lets the push through).

    The commit being pushed is what is scanned: the work tree itself when it is that commit and
    clean (fast path), otherwise a temporary detached worktree of it, so uncommitted edits never
    decide the verdict of a push that does not contain them.
    """
    env = dict(os.environ if env is None else env)
    top = toplevel(repo)
    wanted = [u for u in updates if not u.is_delete and not u.is_tag]
    if not wanted:
        print("secscan: nothing to scan in this push (deletions and tags only)", file=sys.stderr)
        return 0
    head = git(top, "rev-parse", "--verify", "HEAD", check=False)
    state_dir = Path(git(top, "rev-parse", "--git-path", "secscan"))
    state_dir = state_dir if state_dir.is_absolute() else top / state_dir
    worst = 0
    seen: set[str] = set()
    for update in wanted:
        if update.local_sha in seen:
            continue
        seen.add(update.local_sha)
        p = plan(top, update, remote=remote, base=base)
        # Reports go under the git dir: never into the work tree, where they would be untracked
        # files that the next diff-aware scan counts as changed.
        out_dir = state_dir / "pre-push" / update.local_sha[:12]
        what = f"{update.local_ref} ({update.local_sha[:12]})"
        how = f"changes since {p.base_ref} ({(p.merge_base or '')[:12]})" if p.merge_base else "the whole tree"
        print(f"secscan: pre-push scan of {what}: {how}", file=sys.stderr, flush=True)
        if update.local_sha == head and _clean(top):
            code = _scan(top, p, out_dir=out_dir, scan_args=scan_args, env=env)
        else:
            code = _scan_worktree(top, p, out_dir=out_dir, scan_args=scan_args, env=env)
        if code != 0:
            verdict = {1: "gate failed", 2: "usage or configuration error", 3: "a scanner failed"}.get(code, "error")
            print(
                f"secscan: push blocked for {update.local_ref}: {verdict} (exit {code}); reports in {out_dir}. "
                "Bypass once with `git push --no-verify`.",
                file=sys.stderr,
            )
            if code == 1:
                print(
                    f"secscan: a false positive? `secscan suppress FINGERPRINT --reason ... --expires YYYY-MM-DD"
                    f" --result {out_dir / 'secscan.json'}` writes the entry; it applies once merged into"
                    f" {p.base_ref or 'the target branch'} (the .secscan/ code owners approve it in review),"
                    " so the pipeline of this branch still counts the finding.",
                    file=sys.stderr,
                )
        worst = max(worst, code)
    return worst


def _scan(root: Path, p: ScanPlan, *, out_dir: Path, scan_args: Sequence[str], env: Mapping[str, str]) -> int:

    skip = config.load(root, {}, env=env).skip
    cmd = scan_command(root, p, out_dir=out_dir, scan_args=scan_args, skip=skip)
    # stdin closed: the scan must never eat git's remaining pre-push lines or wait on a terminal.
    return subprocess.run(cmd, cwd=root, env=dict(env), stdin=subprocess.DEVNULL, check=False).returncode


def _scan_worktree(top: Path, p: ScanPlan, *, out_dir: Path, scan_args: Sequence[str], env: Mapping[str, str]) -> int:
    with tempfile.TemporaryDirectory(prefix="secscan-push-") as tmp:
        wt = Path(tmp) / "tree"
        git(top, "worktree", "add", "--detach", "--quiet", str(wt), p.sha)
        try:
            return _scan(wt, p, out_dir=out_dir, scan_args=scan_args, env=env)
        finally:
            git(top, "worktree", "remove", "--force", str(wt), check=False)
            git(top, "worktree", "prune", check=False)
