"""Customer events: product usage that support questions follow from."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np

from deskops.simulate.customers import Customers
from deskops.simulate.outcomes import pick_customers
from deskops.simulate.transcripts import timestamps
from deskops.simulate.volume import Surge

EVENT_NAMES = np.array(
    [
        "invoice_sent",
        "payment_received",
        "payout_sent",
        "card_transaction",
        "card_declined",
        "login",
        "integration_connected",
        "plan_changed",
        "app_crash_reported",
    ]
)
EVENT_SHARE = np.array([0.2, 0.2, 0.12, 0.2, 0.03, 0.18, 0.03, 0.02, 0.02])


def event_rows(
    rng: np.random.Generator,
    *,
    customers: Customers,
    start: datetime,
    end: datetime,
    count: int,
    surge: Surge,
    stale_start: datetime,
) -> list[tuple[object, ...]]:
    """Rows for the events table (without workspace_id), in time order."""
    if count == 0:
        return []
    occurred = np.sort(rng.integers(int(start.timestamp()), int(end.timestamp()), count))
    names = rng.choice(EVENT_NAMES, count, p=EVENT_SHARE)
    launch = (occurred >= surge.start.timestamp()) & (occurred < surge.end.timestamp())
    names[launch & (rng.random(count) < 0.25)] = "integration_connected"
    who = pick_customers(rng, customers, occurred)
    amounts = np.round(rng.lognormal(5.0, 1.2, count), 2)
    fast_payouts = occurred >= stale_start.timestamp()
    rows: list[tuple[object, ...]] = []
    for i, (name, at) in enumerate(zip(names.tolist(), timestamps(occurred), strict=True)):
        properties: dict[str, object] = {}
        if name in ("invoice_sent", "payment_received", "card_transaction", "card_declined"):
            properties["amount_usd"] = float(amounts[i])
        elif name == "payout_sent":
            properties = {
                "amount_usd": float(amounts[i]),
                "speed": "next_day" if fast_payouts[i] else "standard",
            }
        elif name == "integration_connected":
            properties["integration"] = "shopify" if launch[i] else ["quickbooks", "xero", "shopify"][i % 3]
        rows.append((i + 1, name, at, int(who[i]) + 1, json.dumps(properties)))
    return rows
