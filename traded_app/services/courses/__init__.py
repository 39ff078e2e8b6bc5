"""Courses and events: the council's courses and their sessions, schools' bookings of places for
named delegates, the waiting list and its offers, cancellation, the register, certificates, and
charging places through the numbered documents (issue 20).

May use ordering (the approval limit), documents (issuing) and platform; nothing above it.
"""

from __future__ import annotations

from traded_app.services.platform.errors import DomainError


class CourseError(DomainError, ValueError):
    """A step on a course, session, booking or place that the rules refuse."""
