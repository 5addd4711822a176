"""What the analytics engine returns: metric series, comparisons, top movers, reports, anomalies, charts.

Every figure a support lead reads comes with what it was computed over: a value with
its numerator and denominator (and a flag when the sample is too thin to trust), the
period in the workspace's calendar, the filters, and any notice about how the question
was narrowed. The CLI prints these models as JSON; the Operator's tools return them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from deskops.domain.types import DateRange, Direction, Granularity, MetricKind, Omitted, Result


class MetricInfo(Result):
    """What a reader of a result needs to know about the metric."""

    name: str
    """Catalog name, e.g. ``escalation_rate``."""
    label: str
    """Human name, e.g. "Escalation rate"."""
    unit: str
    """``%`` for rates (values are fractions), else the unit of the value."""
    kind: MetricKind
    """count, rate, mean, quantile or per_customer."""
    good: Direction | None
    """Which direction is an improvement (None: neither, e.g. volume)."""
    description: str
    breakdowns: list[str]
    """Attributes the metric can be broken down by or filtered on."""


class MetricValue(Result):
    """A metric over some conversations, with the sample it stands on."""

    value: float | None
    """None when the sample is empty."""
    numerator: float | None
    """Conversations counted (rates), sum of values (means), None for quantiles."""
    denominator: int
    """Conversations in the sample: the thing to look at before trusting the value."""
    thin: bool
    """True below the minimum sample (30 conversations): shown, never tested."""


class SeriesPoint(Result):
    """One time bucket of a series."""

    start: str
    """Bucket start, ISO 8601 in the workspace's time zone."""
    value: float | None
    numerator: float | None
    denominator: int
    thin: bool


class SeriesGroup(Result):
    """One line of a series: a segment (or ``all``) over time."""

    group: str
    """Segment label (``chat``, ``Free × EU``); ``all`` without a breakdown, ``(other)`` for the rest."""
    total: MetricValue
    """The metric over the whole period for this group."""
    points: list[SeriesPoint]


class MetricSeries(Result):
    """A metric per time bucket (and per group of a breakdown), every point with its denominator."""

    metric: MetricInfo
    workspace: str
    time_zone: str
    """IANA zone the buckets follow (days are 23 or 25 hours across DST changes)."""
    period: DateRange
    granularity: Granularity
    by: str | None
    """The breakdown: one attribute or several joined by commas (``plan,region``)."""
    filters: dict[str, str]
    total: MetricValue
    groups: list[SeriesGroup]
    notices: list[str]
    """How the question was narrowed (a clipped end, groups pooled as ``(other)``)."""


class PeriodValue(Result):
    """A metric over one period of a comparison."""

    start: date = Field(alias="from")
    """First day."""
    end: date = Field(alias="to")
    """Last day (inclusive)."""
    value: float | None
    numerator: float | None
    denominator: int
    thin: bool


class SignificanceTest(Result):
    """The statistical test behind a verdict; keys that do not apply to a test are left out."""

    name: str | None
    """two-proportion z-test, Mann-Whitney U, an exact test of rates, or None when nothing was tested."""
    statistic: float | None = Omitted()
    p_value: float | None
    significant: bool
    """p < 0.05."""
    ci95_change: list[float | None] | None = Omitted()
    """95 % interval of the change (rates)."""
    reason: str | None = Omitted()
    """Why no test was run (too few conversations or events)."""


Verdict = Literal["better", "worse", "changed", "no significant change", "not enough data"]


class Comparison(Result):
    """A period against the previous one of the same length, with a test."""

    metric: MetricInfo
    workspace: str
    filters: dict[str, str]
    current: PeriodValue
    previous: PeriodValue
    change: float | None
    """current - previous."""
    relative_change: float | None
    """change / previous."""
    test: SignificanceTest
    verdict: Verdict
    notices: list[str]


class Mover(Result):
    """One segment's part in a change: contribution = its weight × value now minus then."""

    attribute: str
    segment: str
    contribution: float
    """This segment's share-weighted change; contributions add up to the total change."""
    rate_effect: float | None = Omitted()
    """The part due to the segment's own value changing (rates and means)."""
    mix_effect: float | None = Omitted()
    """The part due to the segment's weight in the sample changing (rates and means)."""
    current: MetricValue
    previous: MetricValue
    share_of_change: float | None
    """contribution / total change (None when nothing changed)."""


class SegmentShift(Result):
    """One segment's own change, tested against the rest of the sample (its complement)."""

    attribute: str
    segment: str
    current: MetricValue
    previous: MetricValue
    share: float
    """The segment's share of the previous period's sample (0..1)."""
    z: float | None
    """Signed test statistic of the segment's change (None: too little data to test)."""
    p_value: float | None
    complement_z: float | None
    """The same test on every other conversation of the sample."""
    complement_p: float | None
    relative_change: float | None
    """now / before - 1 (counts per day; quantiles on their mean log value)."""
    complement_relative_change: float | None
    significant: bool
    """The segment changed (p below the family-wise level ``Shifts.alpha``)."""
    explains: bool
    """Significant, and the rest of the sample moved less than a third as much (or the other way):
    the change lives in this segment."""


class Shifts(Result):
    """Where a change lives: each segment's own change and its complement's, tested."""

    metric: MetricInfo
    workspace: str
    filters: dict[str, str]
    current: PeriodValue
    previous: PeriodValue
    test: str
    """The test used per segment."""
    alpha: float
    """Per-segment significance level of single attributes: 0.05 divided by the number of segments
    tested (Bonferroni), halved when pairs of attributes are tested too."""
    shifts: list[SegmentShift]
    """Segments that explain the change first, then by |z| minus the complement's |z|."""
    notices: list[str]


class Movers(Result):
    """The segments that explain most of a change since the previous period."""

    metric: MetricInfo
    workspace: str
    current: PeriodValue
    previous: PeriodValue
    change: float | None
    movers: list[Mover]
    """Largest contribution in the direction of the change first."""
    notices: list[str]

    @property
    def top(self) -> Mover | None:
        """The segment that explains most of the change."""
        return self.movers[0] if self.movers else None


# ------------------------------------------------------------------------------- workspace summary


class TableCounts(Result):
    """Records of each kind in a workspace."""

    conversations: int
    messages: int
    customers: int
    articles: int
    guidance_rules: int
    procedures: int
    events: int


class Share(Result):
    count: int
    share: float
    """count / all conversations."""


class ConversationSpan(Result):
    first_conversation: str | None
    """ISO 8601 in the workspace's time zone; None for an empty workspace."""
    last_conversation: str | None


class TopicShare(Result):
    topic: str | None
    conversations: int
    share: float
    ai_resolution_rate: float | None
    """Among AI-involved conversations of the topic."""


class WorkspaceSummary(Result):
    """Headline figures of one workspace."""

    workspace: str
    time_zone: str
    counts: TableCounts
    articles_by_state: dict[str, int]
    period: ConversationSpan
    outcomes: dict[str, Share]
    """By outcome; ``open`` for conversations not closed yet."""
    channels: dict[str, Share]
    top_topics: list[TopicShare]


# ----------------------------------------------------------------------------- attribute awareness


class ValueShare(Result):
    value: str
    share: float


class Association(Result):
    """How strongly an attribute goes with escalation (among AI-involved conversations)."""

    cramers_v: float | None
    mutual_information_bits: float | None
    p_value: float | None
    """Chi-squared test of independence."""


class AttributeProfile(Result):
    """Whether one attribute is populated and carries signal in this workspace."""

    attribute: str
    """Built-in name, or ``conversation.KEY`` / ``customer.KEY`` for custom attributes."""
    source: Literal["conversation", "customer"]
    type: str
    """text, numeric, boolean, list, mixed or empty."""
    coverage: float
    """Share of conversations where it has a value."""
    cardinality: int
    high_cardinality: bool
    effectively_empty: bool
    """Too sparse, or one value everywhere: never reason from it."""
    top_values: list[ValueShare]
    association: Association
    signal: Literal["empty", "none", "weak", "moderate", "strong"]
    mirrors_outcome: bool
    """Filled in because of the outcome (e.g. the team that took over): not an explanation of it."""


class AttributeReport(Result):
    """Every attribute of a period, strongest association with escalation first."""

    workspace: str
    period: DateRange
    conversations: int
    outcome: str
    """What association is measured against."""
    attributes: list[AttributeProfile]
    notices: list[str]


# ------------------------------------------------------------------------------------ article use


class ArticleUse(Result):
    """How often the AI agent cited one article, and how those conversations ended."""

    article: str
    """External id."""
    title: str | None
    """None for an id cited in conversations but not in the help center."""
    state: str
    """draft, published, archived, or unknown."""
    times_cited: int
    resolution_rate_when_cited: float | None
    resolved_when_cited: int
    thin: bool


class ArticleFigures(Result):
    workspace: str
    period: DateRange
    conversations_with_citations: int
    articles: list[ArticleUse]
    """Most cited first; never-cited articles are listed too."""
    notices: list[str]


# ------------------------------------------------------------------------------- anomalies, charts


class AnomalyEvent(Result):
    """A run of anomalous buckets in one group of a series."""

    group: str
    start: str
    """First anomalous bucket."""
    end: str
    """Last anomalous bucket."""
    direction: Direction
    observed: float
    """Value at the strongest point."""
    expected: float
    """The seasonal baseline there."""
    size: float
    """observed - expected."""
    relative: float | None
    """size / expected."""
    score: float
    """Robust z-score at the strongest point."""
    confidence: float
    """Probability, under the baseline's noise, that a deviation this large is not chance."""


class AnomalyReport(Result):
    """Anomalies found in a metric series."""

    metric: str
    threshold: float
    """Robust z-score above which a point is anomalous."""
    events: list[AnomalyEvent]


class ChartSpec(Result):
    """A plotly figure as JSON (what plotly.js renders and ``plotly.io`` writes)."""

    data: list[dict[str, Any]]
    """Traces."""
    layout: dict[str, Any]


# ---------------------------------------------------------------------------- segments and drivers

SegmentVerdict = Literal["better", "worse", "different", "no significant difference", "not enough data"]


class SegmentValue(Result):
    """One segment of an attribute against the rest of the workspace over the same period."""

    segment: str
    """The attribute's value (``(none)`` where it is missing)."""
    value: MetricValue
    share: float
    """This segment's part of the metric's sample (0-1)."""
    rest: MetricValue
    """The metric over every other conversation of the period."""
    difference: float | None
    """value - rest."""
    test: SignificanceTest
    """Segment against rest: a two-proportion z-test (rates), Mann-Whitney U (means, quantiles)."""
    verdict: SegmentVerdict
    """Relative to the metric's better direction; ``different`` for metrics with none."""


class Breakdown(Result):
    """A metric per segment of one attribute, each against the rest, with what the attribute covers."""

    metric: MetricInfo
    workspace: str
    period: DateRange
    by: str
    filters: dict[str, str]
    coverage: float
    """Share of the period's conversations that have a value for ``by``."""
    total: MetricValue
    segments: list[SegmentValue]
    """Largest sample first."""
    notices: list[str]


class Driver(SegmentValue):
    """A segment that pulls a metric up or down, and by how much."""

    attribute: str
    impact: float | None
    """difference × the segment's sample: e.g. satisfied ratings gained or lost against the rest."""


class Drivers(Result):
    """The segments, across attributes, that differ significantly from the rest, largest impact first."""

    metric: MetricInfo
    workspace: str
    period: DateRange
    total: MetricValue
    drivers: list[Driver]
    """Worst impact first for metrics with a better direction, largest impact first otherwise."""
    skipped: list[str]
    """Attributes left out, and why (empty in this workspace, fixed by the metric's own sample)."""
    notices: list[str]


# ----------------------------------------------------------------------------------------- topics


class TopicTrend(Result):
    """One topic's volume and AI outcome in a period against the previous one."""

    topic: str
    conversations: int
    previous: int
    change: int
    share: float
    """Of all conversations of the period."""
    previous_share: float
    share_test: SignificanceTest
    """Did the topic's share of all conversations change (two-proportion z-test)?"""
    ai_resolution: MetricValue
    previous_ai_resolution: MetricValue
    escalation: MetricValue
    previous_escalation: MetricValue


class TopicTrends(Result):
    workspace: str
    current: DateRange
    previous: DateRange
    conversations: int
    previous_conversations: int
    topics: list[TopicTrend]
    """Largest change of volume first."""
    notices: list[str]


class EmergingTopic(Result):
    """A topic that is new or growing faster than the rest of the workspace."""

    topic: str
    status: Literal["new", "rising"]
    recent: int
    """Conversations in the recent window."""
    baseline: int
    """Conversations in the baseline window before it."""
    recent_share: float
    baseline_share: float
    ratio: float | None
    """recent_share / baseline_share (None for a new topic)."""
    p_value: float | None
    """One-sided binomial test that the recent share exceeds the baseline share, adjusted for the number of
    topics tested (Benjamini-Hochberg); None for a new topic."""


class EmergingTopics(Result):
    workspace: str
    recent: DateRange
    baseline: DateRange
    recent_conversations: int
    baseline_conversations: int
    topics: list[EmergingTopic]
    """New topics first, then the strongest rise."""
    unclassified_share: float
    """Share of recent conversations with no topic (what no label can show rising)."""
    notices: list[str]
