// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"
#include "workspace.h"

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bt
{

enum class GroupBy { Provider, Domain, Ip, Campaign, Template, Family, Day, Hour, Reason };
/// "provider", "domain", "ip", "campaign", "template", "family", "day", "hour", "reason".
std::optional<GroupBy> groupByFromString(std::string_view s);

/// One group of a report: where the bounces concentrate.
/// The key of the group of events without the grouped field (the drill-down's word for it).
inline constexpr std::string_view kNoneKey = "(none)";
/// What that group is called where people read it: "(unknown provider)", "(sending IP
/// unknown)", "(no campaign)"… — a group of events, not a provider or an IP named "(none)".
std::string_view unknownGroupLabel(GroupBy by);

struct GroupRow {
    std::string key; ///< "(none)" when the field is empty
    std::int64_t bounces = 0;
    std::int64_t deferrals = 0;
    std::int64_t deliveries = 0;
    std::int64_t complaints = 0;
    double rate = 0; ///< 0..1
    std::string rateBasis; ///< "sent": bounces ÷ (bounces + deliveries); "share": of all bounces
    std::string level; ///< low, watch, act (vocabulary.md); empty for a share
    std::map<std::string, std::int64_t> families; ///< bounces per family
    std::int64_t liftedLater = 0; ///< policy/reputation bounces followed by a delivery to the same domain
    std::int64_t templateId = 0; ///< for GroupBy::Template: the template's id (drill-down)
};

/// Bounce rate, level and families per group, largest groups first. The rate's basis is "sent"
/// when the (filtered) workspace holds deliveries (then a group without any has rate 1), else
/// "share". With a filter, bounces are those matching it and the rate divides them by all
/// bounces and deliveries of the filter's population (see EventFilter).
std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter = {});

/// Fills GroupRow::liftedLater of `rows` (a report by `by` under `filter`, from SQL or the
/// cube): one SQL query, since it needs each event's own time.
void addLiftedLater(Workspace& ws, GroupBy by, const EventFilter& filter, std::vector<GroupRow>& rows);

/// A policy or reputation block to a recipient domain that a later delivery shows was lifted.
struct LiftedBlock {
    std::string domain, provider;
    std::int64_t bounces = 0; ///< policy/reputation bounces to the domain
    std::string lastBounce; ///< the latest of them
    std::string liftedAt; ///< the first delivery after the first of them
};
std::vector<LiftedBlock> liftedLater(Workspace& ws, const EventFilter& filter = {}, int limit = 200);

/// Concentration level of a rate (vocabulary.md): low < 1 %, watch 1–3 %, act > 3 %.
std::string levelOf(double rate);

/// A family's bounces at one provider (or sending IP) jumping above that group's own baseline
/// in one hour or day.
/// One incident: a span of buckets in which one family's bounces at one provider or sending IP
/// stood far above that group's own baseline (one block, not one row per hour of it).
struct Incident {
    std::string key; ///< the provider or sending IP
    std::string family;
    std::string bucket; ///< where it starts: "2024-05-01T10" (hour) or "2024-05-01" (day)
    std::int64_t bounces = 0; ///< of that family over the span's buckets above the baseline
    double baseline = 0; ///< mean per bucket before it started
    double rate = 0; ///< at the peak: bounces ÷ (all bounces + deliveries); 0 when no deliveries are known
    std::string end; ///< the last bucket above the baseline (== bucket for a one-bucket span)
    std::string peak; ///< the bucket with the most bounces of the family
    std::int64_t peakBounces = 0;
    int buckets = 0; ///< buckets above the baseline in the span
    /// The first bucket after the span in which the group had deliveries: the block lifted then
    /// (empty when no later delivery is known).
    std::string lifted;
};

/// Spikes per `by` (Provider or Ip) and family, hour by hour (or day by day): a bucket spikes
/// with at least `minBounces`, more than `factor` × the mean of the earlier buckets of that group
/// (which must number at least three). From there the incident runs through every bucket still
/// above that baseline, across at most one quiet bucket; one of fewer than 2 × `minBounces`
/// bounces in all (a handful of address bounces in an hour) is not reported. In order of start.
std::vector<Incident> incidents(Workspace& ws, GroupBy by, bool hourly = true, std::int64_t minBounces = 5,
                                double factor = 3.0);
/// The same under a filter: its population says which traffic is walked (and is the rate's
/// denominator), its bounce fields which bounces count ("reason=user_unknown": spikes of it).
std::vector<Incident> incidents(Workspace& ws, GroupBy by, const EventFilter& filter, bool hourly = true,
                                std::int64_t minBounces = 5, double factor = 3.0);

/// Traffic of one group in one hour or day, as the incident walk needs it.
struct SeriesCell {
    std::int64_t bounces = 0, deliveries = 0;
    std::map<std::string, std::int64_t> families; ///< bounces per family
};
/// group key → bucket → traffic.
using Series = std::map<std::string, std::map<std::string, SeriesCell>>;
/// The incident walk shared by the SQL and the cube paths (see incidents()).
std::vector<Incident> findIncidents(const Series& series, std::int64_t minBounces, double factor);

/// One group of a report while it is counted. The one place that says what a group report
/// counts, for the SQL and the cube paths alike.
struct GroupTally {
    GroupRow row;
    std::int64_t allBounces = 0; ///< every bounce of the group, for the "sent" rate
    /// Adds `n` events of `type` and `family`; `match`: they match the filter's bounce fields;
    /// `typesNamed`: the filter names event types (then every matching non-delivery counts).
    void add(std::string_view type, const std::string& family, bool match, bool typesNamed, std::int64_t n);
};
/// The finished report: rates ("sent" divides a group's counted bounces by all its bounces and
/// deliveries when the report holds deliveries, else "share" of all counted bounces), levels,
/// largest groups first (counted bounces, then deliveries, then key).
std::vector<GroupRow> finishGroups(std::vector<GroupTally> tallies);

/// An address to stop mailing: a permanent address-family failure or a complaint.
struct Suppression {
    std::string address, reason, lastReply, lastSeen;
};
std::vector<Suppression> suppressions(Workspace& ws, const EventFilter& filter = {});
/// bt::suppressions under a filter as CSV (address, reason, last_reply, last_seen); returns the
/// number of rows written.
std::int64_t writeSuppressionsCsv(Workspace& ws, const EventFilter& filter, std::ostream& out);

} // namespace bt
