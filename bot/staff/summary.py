"""What a ticket tells staff about the conversation: the slots, the bot's assessment of each
certificate, and the short summary posted to the Telegram staff group."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.dialog.context import SHANGHAI
from bot.dialog.facts import facts_of
from bot.dialog.ports import RulesPort
from bot.dialog.state import CertSlots, SessionState
from bot.store.tickets import Ticket

from .texts import StaffTexts

log = logging.getLogger(__name__)


def slots_of(state: SessionState) -> dict[str, Any]:
    return {
        "step": state.step,
        "certificate": state.cert.to_dict(),
        "done": [c.to_dict() for c in state.done],
    }


def assess_all(rules: RulesPort, state: SessionState, now: datetime) -> list[dict[str, Any]]:
    """The assessment of every certificate the user told us about, as the result showed it;
    the one in progress too, with what is known so far."""
    on = now.astimezone(SHANGHAI).date()
    certs = [*state.done]
    if state.cert.entry_id is not None:
        certs.append(state.cert)
    return [a for a in (_assess(rules, cert, on) for cert in certs) if a is not None]


def _assess(rules: RulesPort, cert: CertSlots, on: Any) -> dict[str, Any] | None:
    try:
        entry = rules.catalogue.get(cert.entry_id or "")
        result = rules.assess(entry, facts_of(cert, on), on)
        grade = result.grade
        name = entry.name
        if entry.is_occupation and grade is not None:
            name = f"{name}·{rules.grades.label(grade)}"
    except Exception:
        # A certificate the rules no longer know (or cannot assess) must not keep the ticket
        # from opening; staff still see the slots.
        log.warning("ticket assessment of %r failed", cert.entry_id, exc_info=True)
        return None
    return {
        "entry_id": entry.id,
        "name": name,
        "query": cert.query,
        "points": result.points,
        "full_points": result.full_points,
        "review": result.review,
        "review_reasons": list(result.review_reasons),
        "needs": list(result.needs),
        "conditions": [
            {"label": c.label, "status": c.status, "explanation": c.explanation}
            for c in result.conditions
        ],
    }


def group_summary(ticket: Ticket, texts: StaffTexts) -> str:
    lines = []
    for item in ticket.assessment:
        points = item.get("points")
        shown = (
            texts("group.points", points=points)
            if points is not None
            else texts("group.points_unknown")
        )
        lines.append(texts("group.summary_line", name=item.get("name", "?"), points=shown))
    if not lines:
        lines.append(texts("group.no_summary"))
    said = [m.text for m in ticket.transcript if m.sender == "user"]
    if said:
        lines.append(texts("group.last_message", text=said[-1][:200]))
    return "\n".join(lines)


def announcement(ticket: Ticket, texts: StaffTexts) -> str:
    return texts(
        "group.announce",
        id=ticket.id,
        channel=texts.get(f"channels.{ticket.channel}", ticket.channel),
        reason=texts.get(f"reasons.{ticket.reason}", ticket.reason),
        summary=group_summary(ticket, texts),
    )


__all__ = ["announcement", "assess_all", "group_summary", "slots_of"]
