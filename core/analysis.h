// SPDX-License-Identifier: MIT
#pragma once

#include "fields.h"
#include "importer.h"
#include "query.h"
#include "sendcounts.h"
#include "workspace.h"

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bt
{

/// A grouping by its name (bt::groupName): "provider", "domain", "ip", "campaign", "template",
/// "family", "reason", "day", "hour".
std::optional<GroupBy> groupByFromString(std::string_view s);

/// One group of a report: where the bounces concentrate.
/// The key of the group of events without the grouped field (the drill-down's word for it).
inline constexpr std::string_view kNoneKey = "(none)";
/// What that group is called where people read it: "(unknown provider)", "(sending IP
/// unknown)", "(no campaign)"… — a group of events, not a provider or an IP named "(none)".
std::string_view unknownGroupLabel(GroupBy by);

/// One group of a report: where the bounces concentrate, and its rate on the basis that holds
/// for that group (see core/README.md, "Rates and their basis").
struct GroupRow {
    std::string key; ///< "(none)" when the field is empty
    std::int64_t bounces = 0; ///< counted bounces from every source
    std::int64_t deferrals = 0;
    std::int64_t deliveries = 0;
    std::int64_t complaints = 0;
    double rate = 0; ///< 0..1
    /// "sent": rateBounces ÷ sent, over the group's events from sources that record deliveries;
    /// "given": bounces ÷ the send count the user gave for the group; "share": the group's share
    /// of all counted bounces (no sends known for it).
    std::string rateBasis;
    std::int64_t sent = 0; ///< the rate's denominator for "sent" and "given" (0 for "share")
    std::int64_t rateBounces = 0; ///< the counted bounces in the rate's numerator
    /// For "sent": counted bounces from sources that record no deliveries (bounce e-mails,
    /// suppression exports), left out of the rate because their sends are unknown.
    std::int64_t outsideBasis = 0;
    std::string level; ///< low, watch, act (vocabulary.md); empty for a share
    std::map<std::string, std::int64_t> families; ///< bounces per family
    std::int64_t liftedLater = 0; ///< policy/reputation bounces followed by a delivery to the same domain
    std::int64_t templateId = 0; ///< for GroupBy::Template: the template's id (drill-down)
};

/// Bounce rate, level and families per group, largest groups first, each group's rate on its
/// own basis (GroupRow::rateBasis): the send count the user gave for it ("given"), else the
/// share of sent over its events from sources that record deliveries ("sent"), else its share
/// of all counted bounces ("share"). Groups by template, family or reason hold no deliveries and
/// are always shares. With a filter, bounces are those matching it and the denominators are
/// the filter's population (see EventFilter).
std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter = {});
/// The same with the send counts already read (bt::sendCounts).
std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter,
                                  const std::vector<SendCount>& given);

/// Import formats that never record every send, whatever events they hold: bounce e-mails (a
/// "delivered" DSN is a notice someone asked for, not a log of what was sent) and bounce or
/// suppression exports.
inline constexpr std::string_view kBounceOnlyFormats[] = {format::email, format::sendgridCsv, format::postmarkCsv};
/// SQL (a parenthesised SELECT of import ids) for the imports that record deliveries: a format
/// not in kBounceOnlyFormats with at least one delivery. Their events are a group's "sent" basis.
std::string recordingImportsSql();
/// True when groups by `by` hold deliveries and so can have a rate of sent: not templates,
/// families or reasons, which belong to bounces only.
bool groupsCarryDeliveries(GroupBy by);
/// The send count the user gave for group `key` of a report by `by`, when one is stored and
/// the filter's population does not narrow the group beyond it (a provider's count holds for a
/// report under no time, domain, IP or campaign filter); -1 otherwise.
std::int64_t givenSent(const std::vector<SendCount>& given, GroupBy by, const EventFilter& filter,
                       const std::string& key);

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
    std::int64_t allBounces = 0; ///< every bounce of the group, for a "given" rate
    std::int64_t basisCounted = 0; ///< counted bounces from delivery-recording sources
    std::int64_t basisBounces = 0; ///< every bounce from delivery-recording sources
    std::int64_t basisDeliveries = 0; ///< deliveries from delivery-recording sources
    /// Adds `n` events of `type` and `family`; `match`: they match the filter's bounce fields;
    /// `typesNamed`: the filter names event types (then every matching non-delivery counts);
    /// `recording`: they come from an import that records deliveries (recordingImportsSql).
    void add(std::string_view type, const std::string& family, bool match, bool typesNamed, bool recording,
             std::int64_t n);
};
/// The finished report: each group's rate on its basis (see groupReport), levels for rates of
/// sent, largest groups first (counted bounces, then deliveries, then key).
std::vector<GroupRow> finishGroups(std::vector<GroupTally> tallies, GroupBy by, const EventFilter& filter,
                                   const std::vector<SendCount>& given);

/// An address to stop mailing: a permanent address-family failure or a complaint.
struct Suppression {
    std::string address, reason, lastReply, lastSeen;
    /// The address that failed, when it is not the one mailed (a forward's target; the alias
    /// mailed is `address`); empty otherwise.
    std::string forwardedTo;
};
std::vector<Suppression> suppressions(Workspace& ws, const EventFilter& filter = {});
/// bt::suppressions under a filter as CSV (address, reason, last_reply, last_seen, forwarded_to); returns the
/// number of rows written.
std::int64_t writeSuppressionsCsv(Workspace& ws, const EventFilter& filter, std::ostream& out);

} // namespace bt
