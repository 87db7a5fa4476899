"""When a failed call may be sent again, and how long to wait first (pure, no I/O).

The rule is Go clientv3's: reads and other idempotent calls are retried when the cluster is
unavailable; mutations only when the request certainly never left this process, so that a
write is applied at most once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .error_mapping import request_never_sent, strip_server_prefix

if TYPE_CHECKING:
    import random

# Answers after which another member may well succeed.
_TRY_ELSEWHERE: Final = frozenset(
    {"no leader", "not leader", "server stopped", "unhealthy cluster"}
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed calls are retried.

    Attributes:
        base_delay: the first wait, in seconds; it doubles on each attempt.
        max_delay: the longest wait between two attempts.
        jitter: the fraction by which each wait is randomly shortened or stretched.
        max_attempts: how many times a call is tried at most (its deadline also bounds it).
        retry_mutations_when_not_sent: retry writes whose request never left the client.
    """

    base_delay: float = 0.025
    max_delay: float = 1.0
    jitter: float = 0.1
    max_attempts: int = 10
    retry_mutations_when_not_sent: bool = True

    def delay(self, attempt: int, rand: random.Random | None = None) -> float:
        """The wait before attempt number ``attempt + 1`` (``attempt`` counts from 1)."""
        exponent = min(max(attempt - 1, 0), 30)
        base = min(self.max_delay, self.base_delay * (2.0**exponent))
        import random  # only retries need it; kept off the import of the package

        spread: float = (rand or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1 + spread))

    def should_retry(self, code: str, details: str, *, mutation: bool, attempt: int) -> bool:
        """Whether a call that failed with this status may be tried again."""
        if attempt >= self.max_attempts:
            return False
        if request_never_sent(code, details):
            return not mutation or self.retry_mutations_when_not_sent
        if mutation:
            return False
        if code == "UNAVAILABLE":
            return True
        return strip_server_prefix(details) in _TRY_ELSEWHERE

    def should_switch_endpoint(self, code: str, details: str) -> bool:
        """Whether the failure says more about the member than about the request."""
        if code == "UNAVAILABLE":
            return True
        return strip_server_prefix(details) in _TRY_ELSEWHERE


DEFAULT_RETRY_POLICY: Final = RetryPolicy()


# How long a member that failed is passed over when choosing where to go next.
FAILURE_COOLDOWN = 5.0

# How many times one call may log in again after its token was refused as expired or
# outdated. Each refusal applied nothing, but users and roles can change again between a
# new login and the resent request (a cluster that adds users every fraction of a second
# outdates a fresh token within one round trip), so once is not always enough; a bound
# keeps a token the cluster never accepts from looping until the deadline.
LOGINS_PER_CALL: Final = 3


def another_member_ready(
    targets: Sequence[str],
    current: str,
    failed_at: Mapping[str, float],
    now: float,
    cooldown: float = FAILURE_COOLDOWN,
) -> bool:
    """Whether a member other than ``current`` has not failed in the last ``cooldown``
    seconds, so that a call may leave ``current`` at once when it cannot connect."""
    return any(
        target != current and _rested(target, failed_at, now, cooldown) for target in targets
    )


def _rested(target: str, failed_at: Mapping[str, float], now: float, cooldown: float) -> bool:
    return now - failed_at.get(target, -math.inf) >= cooldown


def next_endpoint(
    targets: Sequence[str],
    current: int,
    failed_at: Mapping[str, float],
    now: float,
    cooldown: float = FAILURE_COOLDOWN,
) -> int:
    """The index of the member to use after ``targets[current]`` failed.

    The next one in order that has not failed in the last ``cooldown`` seconds; if every
    other member failed recently, the one whose failure is oldest.
    """
    count = len(targets)
    others = [(current + step) % count for step in range(1, count)]
    if not others:
        return current
    for index in others:
        if _rested(targets[index], failed_at, now, cooldown):
            return index
    return min(others, key=lambda index: failed_at.get(targets[index], -math.inf))
