"""Customer events: product usage that support questions follow from."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np

from deskops.simulate.catalog import INTEGRATIONS
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
    surge: Surge | None,
    payouts_changed: datetime,
) -> list[tuple[object, ...]]:
    """Rows for the events table (without workspace_id), in time order.

    A launch (``surge``) shows as customers connecting the launched integration or using
    the launched feature; payouts are sent next-day from ``payouts_changed`` on (the
    product change of the payout_timing topic)."""
    if count == 0:
        return []
    occurred = np.sort(rng.integers(int(start.timestamp()), int(end.timestamp()), count))
    names = rng.choice(EVENT_NAMES, count, p=EVENT_SHARE)
    launch = np.zeros(count, dtype=bool)
    if surge is not None:
        launch = (occurred >= surge.start.timestamp()) & (occurred < surge.end.timestamp())
    integration = INTEGRATIONS.get(surge.topic) if surge is not None else None
    adopted = launch & (rng.random(count) < 0.25)  # drawn even without a launch: the rest stays put
    names[adopted] = "integration_connected" if integration else "feature_used"
    who = pick_customers(rng, customers, occurred)
    amounts = np.round(rng.lognormal(5.0, 1.2, count), 2)
    fast_payouts = occurred >= payouts_changed.timestamp()
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
            launched = integration if integration and launch[i] else None
            properties["integration"] = launched or ["quickbooks", "xero", "shopify"][i % 3]
        elif name == "feature_used" and surge is not None:
            properties["feature"] = surge.topic
        rows.append((i + 1, name, at, int(who[i]) + 1, json.dumps(properties)))
    return rows
