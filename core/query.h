// SPDX-License-Identifier: MIT
#pragma once

#include "dmarcmatch.h"
#include "workspace.h"

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace bt
{

namespace sql
{
class Statement;
} // namespace sql

/// Which events the triage views show: every filter of the filter panel and of the drill-down.
/// An empty field does not filter. Lists match any of their values.
///
/// The fields split in two: the *population* (time, provider, domain, sending IP, campaign)
/// says which traffic is looked at, deliveries included; the *bounce* fields (family, reason,
/// codes, spam_related, template, text, event type) say which bounces of it are counted. A rate
/// divides the matching bounces by all bounces and deliveries of the population.
struct EventFilter {
    std::string from; ///< ISO 8601 UTC, inclusive
    std::string to; ///< ISO 8601 UTC, exclusive
    std::vector<std::string> providers; ///< "(none)" matches an empty provider
    std::vector<std::string> domains;
    std::vector<std::string> ips;
    std::vector<std::string> campaigns;
    std::vector<std::string> fromDomains; ///< the From header's domain (lower case)
    std::vector<std::string> eventTypes;
    std::vector<std::string> families;
    std::vector<std::string> reasons;
    std::optional<int> basicCode;
    std::string enhancedCode; ///< "5.7" matches 5.7.x; "5.7.1" only itself
    std::string spamRelated; ///< yes, often, no, unknown
    std::optional<std::int64_t> templateId;
    std::string text; ///< full-text search over reply texts (words, "phrases", prefix*)

    bool empty() const;
    bool operator==(const EventFilter&) const = default;
};

/// A filter as SQL over `events e`: WHERE fragments ("1" when empty) and their parameters in
/// order, the population part and the bounce part apart (see EventFilter).
struct FilterSql {
    using Value = std::variant<std::int64_t, std::string>;
    std::string population = "1";
    std::vector<Value> populationBinds;
    std::string bounce = "1";
    std::vector<Value> bounceBinds;
};
FilterSql filterSql(const EventFilter& filter);
/// Binds `values` from parameter `first` on; returns the next free parameter index.
int bindAll(sql::Statement& st, int first, const std::vector<FilterSql::Value>& values);

/// SQL (over `events e`) true for the events counted as bounces under this filter: bounces
/// matching the bounce fields, or every matching non-delivery when the filter names event types.
/// Its parameters are `f.bounceBinds`.
std::string countedBounces(const EventFilter& filter, const FilterSql& f);

/// Columns of the events table, in display order.
enum class EventColumn {
    Time,
    Recipient,
    Provider,
    Domain,
    Codes,
    Family,
    Reason,
    SpamRelated,
    Action,
    Ip,
    Campaign,
    Reply,
    Type
};
inline constexpr int kEventColumnCount = 13;

/// One row of the events table.
struct EventRow {
    std::int64_t id = 0;
    std::string timestamp, eventType, recipient, provider, domain;
    std::optional<int> basicCode;
    std::string enhancedCode, family, reason, spamRelated, action, ip, campaign, reply;
    std::string remoteMta; ///< the receiving host, for the brand beside the domain (bt::brandFor)
};

/// Every stored field of one event, for the details pane.
struct EventDetail {
    EventRow row;
    std::string source, envelopeSender, fromDomain, messageId, remoteMta, smtpStage, reasonHint;
    std::string originalRecipient; ///< the address the sender mailed, when another one failed
    bool hardBounce = false;
    bool filteringGateway = false;
    std::string ruleIds, evidenceJson;
    std::int64_t templateId = 0;
    std::string templateText;
    std::int64_t importId = 0;
    std::string importFormat; ///< the import's format (format::email for bounce emails)
    std::string sourceFile;
    std::int64_t sourceLine = 0, sourceOffset = -1;
    std::string raw;
    /// For an auth or policy bounce: the DMARC aggregate report rows of its traffic on its day
    /// (bt::dmarcForBounce), failing rows first; empty otherwise or when no report covers it.
    std::vector<DmarcMatch> dmarc;
};

/// Events matching the filter (COUNT(*) in SQL).
std::int64_t countEvents(Workspace& ws, const EventFilter& filter);

/// One page of the filtered events, sorted in SQL (ties broken by id, so pages never overlap).
std::vector<EventRow> eventPage(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending,
                                std::int64_t offset, int limit);

/// The ids of every event matching the filter, in the table's order: the count and every page of
/// a full-text search at once, where OFFSET paging would run the search again for each page and
/// a COUNT(*) once more (1M events, 167 000 matches: ~280 ms for all of it instead of ~750 ms
/// for a count and a first page). Memory: 8 bytes an event matched.
std::vector<std::int64_t> eventIds(Workspace& ws, const EventFilter& filter, EventColumn sort, bool descending);

/// The ids of the events whose replies match a full-text search (EventFilter::text), ascending.
/// Words of three characters or more are answered by the search index alone, without reading an
/// event (167 000 matches on 1M events: 40 ms, where reading their rows takes 200 ms more); it
/// may hold an id no event has any more, which callers leave out as SQL's IN does.
std::vector<std::int64_t> matchingIds(Workspace& ws, const std::string& text);

/// The table rows of these events, in the order given (ids that no longer exist are left out).
std::vector<EventRow> eventRows(Workspace& ws, std::span<const std::int64_t> ids);

/// Every field of one event; nullopt when there is no such id.
std::optional<EventDetail> eventDetail(Workspace& ws, std::int64_t id);

/// One bucket of the time series: bounces per family, deliveries, in an hour or a day.
struct TimeBucket {
    std::string bucket; ///< "2024-05-01T10" (hour) or "2024-05-01" (day)
    std::int64_t bounces = 0; ///< matching the filter's bounce fields
    std::int64_t deliveries = 0;
    std::map<std::string, std::int64_t> families;
};

/// Bounces per hour (or day) stacked by family, with deliveries, in time order; buckets without
/// traffic between the first and the last are present with zeros, so a chart's axis is even.
std::vector<TimeBucket> timeSeries(Workspace& ws, const EventFilter& filter, bool hourly);

/// Hour buckets when the filtered span is at most `maxHours` long, else days.
bool preferHourly(Workspace& ws, const EventFilter& filter, int maxHours = 72);

/// The distinct values of one field among all events, most frequent first (for filter lists).
/// `field` is the id (bt::kFields) of a field filtered by a list: provider, domain, ip, campaign,
/// event_type, family, reason.
std::vector<std::string> distinctValues(Workspace& ws, const std::string& field, int limit = 500);

/// The filtered events as CSV (header + one row per event, the table's columns plus the full
/// reply); returns the number of rows written.
std::int64_t writeEventsCsv(Workspace& ws, const EventFilter& filter, std::ostream& out);

/// The suppression list (bt::suppressions) as CSV: address, reason, last_reply, last_seen,
/// forwarded_to.
std::int64_t writeSuppressionsCsv(Workspace& ws, std::ostream& out);

/// One CSV field as RFC 4180 writes it (quoted when it holds a comma, quote or line break).
std::string csvEscape(std::string_view value);

/// The start and end (exclusive) of a time bucket as written by timeSeries.
std::pair<std::string, std::string> bucketRange(const std::string& bucket);
/// The same range as full timestamps ("2026-03-01T10:00:00Z"), as a drill-down filter holds
/// them; empty when `bucket` is not one.
std::pair<std::string, std::string> bucketTimes(const std::string& bucket);

} // namespace bt
