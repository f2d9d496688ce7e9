"""The carrier-claim follow-up's contract: what starts it, what it reports, what it returns.

Kept apart from the workflow so the ticket, the API and the CLI can import it without the
workflow sandbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from activities.claim_sweep import claim_workflow_id as claim_workflow_id

#: Statuses a carrier claim never leaves (EasyPost's vocabulary).
FINAL_STATUSES = frozenset({"approved", "approved_partial", "rejected", "cancelled"})
APPROVED_STATUSES = frozenset({"approved", "approved_partial"})

DEFAULT_CHECK_EVERY = timedelta(hours=24)
DEFAULT_DEADLINE = timedelta(days=30)
#: Each scheduled check lands up to this share of the interval after its slot, so a thousand
#: claims filed in the same minute do not all call the carrier in the same second.
CHECK_JITTER = 0.1
#: ... at one of this many evenly spaced moments inside that share (every 12 minutes of a
#: 24 h interval): the carrier still sees the looks spread out, and a Temporal server (the
#: time-skipping one above all) fires a few timer instants per slot, not one per claim.
CHECK_JITTER_BUCKETS = 12
#: The shared sweep's slots: every check interval from the Unix epoch (00:00 UTC daily).
SWEEP_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: "Still working on it" when nothing changed for this long (if the policy wants it).
STILL_WORKING_EVERY = timedelta(days=7)
#: Continue-as-new past this many history events (well before Temporal's own warning).
MAX_HISTORY_EVENTS = 2_000

#: How the customer hears about each status.
STATUS_WORDS = {
    "submitted": "the carrier has received the claim",
    "in_review": "the carrier is now reviewing the claim",
    "approved": "the carrier approved the claim",
    "approved_partial": "the carrier approved part of the claim",
    "rejected": "the carrier turned the claim down",
    "cancelled": "the claim is withdrawn",
}

CheckSource = Literal["filed", "check", "webhook", "cancel", "deadline"]
Resolution = Literal[
    "approved", "approved_partial", "rejected", "cancelled", "deadline", "ticket_closed"
]


def parse_duration(value: Any, default: timedelta) -> timedelta:
    """Front-matter durations: a number of hours, or '30s' / '90m' / '24h' / '30d' / '2w'."""
    if value is None or isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return timedelta(hours=float(value)) if value > 0 else default
    text = str(value).strip().lower()
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        amount = float(text[:-1])
        return timedelta(**{units[text[-1]]: amount}) if amount > 0 else default
    return default


def parse_flag(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"yes", "true", "on", "weekly"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"no", "false", "off", "never"}:
        return False
    return default


class ClaimCheck(BaseModel):
    """One look at the claim: a scheduled check, a webhook, a cancellation, the deadline.

    A scheduled check may stand for a run of looks (`looks`), the last of them at `at`:
    looks that change nothing are counted, not kept one by one."""

    at: datetime
    status: str
    source: CheckSource
    changed: bool = False
    approved_amount: float | None = None
    detail: str = ""
    looks: int = 1


class LookRun(BaseModel):
    """The follow-up's planned looks: `looks` of them, `every` apart from `start` (Temporal
    retries of one activity, so the workflow hears only of the one that sees a change, or
    of the last). What was looked at when follows from the plan and the clock."""

    start: datetime
    every: timedelta
    looks: int = 1

    def done_by(self, now: datetime) -> int:
        if now < self.start:
            return 0
        return min(self.looks, int((now - self.start) / self.every) + 1)

    def last_by(self, now: datetime) -> datetime | None:
        done = self.done_by(now)
        return self.start + (done - 1) * self.every if done else None

    def next_after(self, now: datetime) -> datetime:
        return self.start + self.done_by(now) * self.every


class ClaimCarry(BaseModel):
    """What continue-as-new carries into the next run."""

    status: str
    approved_amount: float | None = None
    history: list[ClaimCheck]
    slot: int
    phase_seconds: float | None = None
    next_check_at: datetime | None = None
    last_notice_at: datetime
    cancel_requested: bool = False
    pending: list[ClaimSignal] = Field(default_factory=list)
    looked_through: datetime | None = None
    sweep_started: bool = False
    recheck: bool = Field(default=False, description="look again after the next sweep")


class ClaimFollowUpStart(BaseModel):
    ticket_id: str | None = Field(
        default=None, description="the parent ticket's workflow id; None runs it standalone"
    )
    claim_id: str
    carrier: str = ""
    status: str = "submitted"
    filed_at: datetime
    check_every: timedelta = DEFAULT_CHECK_EVERY
    deadline: timedelta = DEFAULT_DEADLINE
    still_working_updates: bool = True
    max_history_events: int = MAX_HISTORY_EVENTS
    idempotency_prefix: str = Field(
        default="", description="prefix for side-effect keys (the ticket's workflow id)"
    )
    carried: ClaimCarry | None = None


class ClaimSignal(BaseModel):
    """Into the follow-up: a carrier webhook's status (trusted: the API verified its
    signature), a request to check now (no status), the customer's cancellation, or the
    ticket's close (stop following; the claim stays filed with the carrier)."""

    status: str | None = None
    approved_amount: float | None = None
    cancel: bool = False
    stop: bool = Field(default=False, description="the ticket closed: stop following")
    source: Literal["webhook", "ticket", "sweep"] = Field(
        default="webhook", description="sweep: the shared sweep saw the claim change"
    )


class ClaimProgress(BaseModel):
    """Out to the ticket after every check: it traces each one, tells the customer about
    changes (and weekly when nothing changed), and carries the policy on when `final`."""

    claim_id: str
    check: ClaimCheck
    previous: str
    final: bool = False
    resolution: Resolution | None = None
    still_working: bool = False
    history: list[ClaimCheck] = Field(default_factory=list)
    upcoming: LookRun | None = Field(
        default=None, description="the looks planned next, which report only a change"
    )

    def last_checked(self, now: datetime) -> datetime:
        """When the claim was last looked at, as far as the ticket can tell at `now`."""
        last = self.upcoming.last_by(now) if self.upcoming else None
        return max(last, self.check.at) if last else self.check.at


class ClaimResult(BaseModel):
    claim_id: str
    status: str
    resolution: Resolution
    approved_amount: float | None = None
    history: list[ClaimCheck]

    @property
    def checks(self) -> int:
        return count_checks(self.history)


def next_sweep(after: datetime, every: timedelta) -> datetime:
    """The first sweep slot after `after`."""
    return SWEEP_EPOCH + ((after - SWEEP_EPOCH) // every + 1) * every


def sweeps_between(after: datetime, through: datetime, every: timedelta) -> int:
    """Sweep slots after `after`, up to and including `through`."""
    if through <= after:
        return 0
    return (through - SWEEP_EPOCH) // every - (after - SWEEP_EPOCH) // every


def count_checks(history: list[ClaimCheck]) -> int:
    """Scheduled looks in all (an entry may stand for a run of unchanged ones)."""
    return sum(c.looks for c in history if c.source == "check")


class ClaimView(BaseModel):
    """The `status` query: what `ticketflow claims` shows."""

    claim_id: str
    ticket_id: str | None
    carrier: str
    status: str
    filed_at: datetime
    next_check_at: datetime | None
    deadline_at: datetime
    checks: int
    last_change_at: datetime
    running: LookRun | None = Field(
        default=None, description="looks under way since the workflow's last step"
    )

    def as_of(self, now: datetime) -> ClaimView:
        """The view at `now`: a run of looks moves on without the workflow waking, so the
        checks so far and the next check follow its plan."""
        run = self.running
        if run is None or now < run.start:
            return self
        return self.model_copy(
            update={
                "checks": self.checks + run.done_by(now),
                "next_check_at": min(run.next_after(now), self.deadline_at),
            }
        )


ClaimCarry.model_rebuild()
