"""Retries with exponential backoff and jitter, a total time budget, and a circuit breaker.

A flaky GitLab (429 with Retry-After, 5xx, timeouts, connection resets) is retried; a GitLab that
keeps failing is not hammered: after ``threshold`` consecutive failed attempts the circuit opens
and every further call fails at once. The whole publish shares one deadline, so a CI job never
hangs on GitLab. Clock, sleep and randomness are injectable for tests.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("secscan.gitlab")


class CallFailed(Exception):
    """One API call failed for good (after retries, or not retryable). Message is already redacted."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        """GitLab's own error text (redacted), to tell 400 and 403 reasons apart."""


class CircuitOpen(CallFailed):
    """The circuit breaker is open: GitLab was not called."""


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """How one failed attempt is classified (see ``api.classify``)."""

    retryable: bool
    message: str
    status: int | None = None
    retry_after: float | None = None
    ambiguous: bool = False
    """A write whose outcome is unknown (timeout, reset, 500/502/504): it may have landed."""
    detail: str = ""
    """GitLab's error text (redacted)."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failed attempts; any success closes it again."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.failures = 0

    @property
    def is_open(self) -> bool:
        return self.failures >= self.threshold

    def success(self) -> None:
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1


class Retrier:
    """Runs API calls under one budget, one breaker and one backoff policy."""

    def __init__(
        self,
        *,
        budget_s: float,
        base_s: float,
        max_sleep_s: float,
        max_attempts: int,
        breaker: CircuitBreaker,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.deadline = clock() + budget_s
        self.base_s = base_s
        self.max_sleep_s = max_sleep_s
        self.max_attempts = max_attempts
        self.breaker = breaker
        self.clock = clock
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.retries = 0
        """Total retries made (for the outcome and the benchmark)."""

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random (spreads retrying clients)."""
        cap = min(self.max_sleep_s, self.base_s * (2**attempt))
        return cap / 2 + self.rng.uniform(0, cap / 2)

    def call(
        self,
        what: str,
        fn: Callable[[], T],
        classify: Callable[[BaseException], Attempt],
        *,
        recheck: Callable[[], T | None] | None = None,
    ) -> T:
        """``fn()`` with retries. ``recheck`` (for non-idempotent writes) looks for the object by its
        marker before re-sending a write whose outcome is unknown (timeout, reset, 500/502/504), so
        a lost answer never makes a duplicate note, thread, reply or status."""
        attempt = 0
        while True:
            if self.breaker.is_open:
                raise CircuitOpen(f"{what}: not attempted, GitLab keeps failing (circuit breaker open)")
            if self.remaining() <= 0:
                raise CallFailed(f"{what}: time budget for publishing exhausted")
            try:
                result = fn()
            except Exception as e:  # noqa: BLE001 - classified below; unknown errors are not retried
                info = classify(e)
                if info.retryable:
                    self.breaker.failure()
                attempt += 1
                if not info.retryable or attempt >= self.max_attempts or self.breaker.is_open:
                    return self._give_up(what, info, recheck, classify, "")
                wait = self.backoff(attempt - 1)
                if info.retry_after is not None:
                    wait = max(wait, info.retry_after)
                if wait >= self.remaining():
                    late = f"; retrying in {wait:.1f}s would exceed the time budget"
                    return self._give_up(what, info, recheck, classify, late)
                found = self._pause(what, info, attempt, wait, recheck=recheck, classify=classify)
                if found is not None:
                    return found
                continue
            self.breaker.success()
            return result

    def _give_up(
        self,
        what: str,
        info: Attempt,
        recheck: Callable[[], T | None] | None,
        classify: Callable[[BaseException], Attempt],
        why: str,
    ) -> T:
        """The write that landed after all (found by its marker), else :class:`CallFailed`."""
        landed = self._last_look(what, info, recheck, classify)
        if landed is not None:
            return landed
        raise CallFailed(f"{what}: {info.message}{why}", status=info.status, detail=info.detail) from None

    def _pause(
        self,
        what: str,
        info: Attempt,
        attempt: int,
        wait: float,
        *,
        recheck: Callable[[], T | None] | None,
        classify: Callable[[BaseException], Attempt],
    ) -> T | None:
        """Wait before retry ``attempt``; then, if the failed write may have landed, look for it."""
        log.debug("%s: %s; retry %d in %.2fs", what, info.message, attempt, wait)
        self.retries += 1
        self.sleep(wait)
        if info.ambiguous and recheck is not None:
            found = self._recheck(what, recheck, classify)
            if found is not None:
                log.debug("%s: the earlier attempt had landed; not sending it again", what)
                return found
        return None

    def _last_look(
        self,
        what: str,
        info: Attempt,
        recheck: Callable[[], T | None] | None,
        classify: Callable[[BaseException], Attempt],
    ) -> T | None:
        """Giving up after a write whose outcome is unknown: look once more, so a write that did
        land is not reported as failed (and the caller does not write it again another way)."""
        if info.ambiguous and recheck is not None and self.remaining() > 0 and not self.breaker.is_open:
            return self._recheck(what, recheck, classify)
        return None

    def _recheck(
        self, what: str, recheck: Callable[[], T | None], classify: Callable[[BaseException], Attempt]
    ) -> T | None:
        try:
            return recheck()
        except Exception as e:  # noqa: BLE001 - a failed look-up just means "send again"
            info = classify(e)
            if info.retryable:
                self.breaker.failure()
            log.debug("%s: re-check failed: %s", what, info.message)
            return None
