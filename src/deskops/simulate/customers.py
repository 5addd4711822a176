"""Simulated customers: plans, regions, sizes and custom attributes of uneven quality."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

PLANS = np.array(["Free", "Starter", "Growth", "Enterprise"])
PLAN_SHARE = [0.42, 0.31, 0.19, 0.08]
REGIONS = np.array(["NA", "EU", "UK", "APAC", "LATAM"])
REGION_SHARE = [0.40, 0.30, 0.12, 0.10, 0.08]
SIZES = np.array(["1", "2-10", "11-50", "51-200", "201-1000", "1000+"])
INDUSTRIES = np.array(["retail", "services", "hospitality", "construction", "health", "creative", "software"])
COUNTRIES = {
    "NA": ["US", "CA", "MX"],
    "EU": ["DE", "FR", "ES", "NL", "IT", "IE", "PT", "BE", "AT", "SE", "PL", "FI", "DK"],
    "UK": ["GB"],
    "APAC": ["AU", "NZ", "SG", "JP", "IN", "HK"],
    "LATAM": ["BR", "AR", "CL", "CO", "PE"],
}
# Who writes in which language; customers keep theirs across conversations.
LANGUAGES = {"EU": (["en", "de", "fr", "es"], [0.5, 0.25, 0.15, 0.10]), "LATAM": (["es", "en"], [0.7, 0.3])}


@dataclass
class Customers:
    """Column arrays, one row per customer, sorted by signup time."""

    external_id: list[str]
    plan: np.ndarray
    region: np.ndarray
    size: np.ndarray
    signup_epoch: np.ndarray
    language: np.ndarray
    activity: np.ndarray
    """Relative contact rate: a few customers write far more often than most."""

    def __len__(self) -> int:
        return len(self.external_id)

    def rows(self, rng: np.random.Generator) -> list[tuple[object, ...]]:
        """Rows for the customers table (without workspace_id)."""
        n = len(self)
        industry = rng.choice(INDUSTRIES, n)
        has_industry = rng.random(n) < 0.7
        referral = rng.random(n) < 0.4
        beta = rng.random(n) < 0.05
        mrr = np.round(rng.lognormal(4.0, 1.1, n), 2)
        country_pick = rng.random(n)
        rows: list[tuple[object, ...]] = []
        for i in range(n):
            plan, region = str(self.plan[i]), str(self.region[i])
            countries = COUNTRIES[region]
            attributes: dict[str, object] = {
                "country": countries[int(country_pick[i] * len(countries))],
                "mrr_usd": float(mrr[i]) if plan != "Free" else 0.0,
                # Imported once from an old CRM and never filled since: effectively empty.
                "legacy_segment": None,
            }
            if has_industry[i]:
                attributes["industry"] = str(industry[i])
            if plan == "Enterprise":
                attributes["account_manager"] = ["Ana Ruiz", "Ben Clarke", "Chen Wei"][i % 3]
            if referral[i]:
                attributes["referral_code"] = f"R{(i * 7919) % 1_000_003:07d}"
            if beta[i]:
                attributes["beta_features"] = ["instant_payouts_v2"]
            signup = datetime.fromtimestamp(int(self.signup_epoch[i]), UTC).date().isoformat()
            rows.append(
                (
                    i + 1,
                    self.external_id[i],
                    None,
                    None,
                    plan,
                    region,
                    str(self.size[i]),
                    signup,
                    attributes,
                )
            )
        return rows


def make_customers(rng: np.random.Generator, *, count: int, start: datetime, end: datetime) -> Customers:
    """Most customers signed up before the period; the rest arrive during it, at a growing pace."""
    start_s, end_s = start.timestamp(), end.timestamp()
    before = rng.random(count) < 0.7
    signup = np.where(
        before,
        start_s - rng.uniform(0, 3 * 365 * 86400, count),
        start_s + np.sqrt(rng.random(count)) * (end_s - start_s),
    ).astype(np.int64)
    order = np.argsort(signup, kind="stable")
    signup = signup[order]
    plan = rng.choice(PLANS, count, p=PLAN_SHARE)
    region = rng.choice(REGIONS, count, p=REGION_SHARE)
    size_index = np.clip(rng.poisson(1.0, count), 0, 5)
    size_index = np.where(plan == "Enterprise", np.clip(size_index + 3, 0, 5), size_index)
    language = np.array(["en"] * count, dtype=object)
    for name, (languages, shares) in LANGUAGES.items():
        mask = region == name
        language[mask] = rng.choice(languages, int(mask.sum()), p=shares)
    activity = rng.lognormal(0.0, 1.0, count) * np.where(plan == "Enterprise", 2.0, 1.0)
    return Customers(
        external_id=[f"cus-{i + 1:07d}" for i in range(count)],
        plan=plan,
        region=region,
        size=SIZES[size_index],
        signup_epoch=signup,
        language=language,
        activity=activity,
    )
