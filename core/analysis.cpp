// SPDX-License-Identifier: MIT
// The query layer the CLI's report and the UI's charts share: SQL does the grouping.
#include "analysis.h"

#include "sqlite.h"
#include "text.h"

#include <algorithm>
#include <chrono>

namespace bt
{
std::optional<GroupBy> groupByFromString(std::string_view s)
{
    for (const GroupBy by : groupings())
        if (groupName(by) == s)
            return by;
    return std::nullopt;
}

std::string levelOf(double rate)
{
    if (rate > 0.03)
        return "act";
    if (rate >= 0.01)
        return "watch";
    return "low";
}

std::string_view unknownGroupLabel(GroupBy by)
{
    return by == GroupBy::Day || by == GroupBy::Hour ? kNoneKey : fieldOf(by).unknownGroup;
}

std::string recordingImportsSql()
{
    std::string notIn;
    for (const auto f : kBounceOnlyFormats)
        notIn += std::string(notIn.empty() ? "'" : ", '") + std::string(f) + "'";
    // One probe per import (imports are few): its first delivery ends the search.
    return "(SELECT i.id FROM imports i WHERE i.format NOT IN (" + notIn
        + ") AND EXISTS (SELECT 1 FROM events d WHERE d.import_id = i.id AND d.event_type = 'delivered'))";
}

bool groupsCarryDeliveries(GroupBy by)
{
    // Deliveries have population fields only: no template, family or reason.
    return fieldOf(by).population;
}

namespace
{

/// A time bound that lies on the start of a day ("2026-03-01", "…T00", "…T00:00:00Z").
bool onWholeDay(const std::string& t)
{
    if (t.empty())
        return true;
    if (t.size() < 10)
        return false;
    const std::string rest = t.substr(10);
    return rest.empty() || rest == "T00" || rest == "T00:00" || rest == "T00:00:00" || rest == "T00:00:00Z";
}

} // namespace

std::int64_t givenSent(const std::vector<SendCount>& given, GroupBy by, const EventFilter& filter,
                       const std::string& key)
{
    const char* kind = by == GroupBy::Provider ? "provider"
        : by == GroupBy::Campaign              ? "campaign"
        : by == GroupBy::Day                   ? "day"
                                               : nullptr;
    if (!kind || given.empty())
        return -1;
    // A count covers its whole group: any other population field would take part of it away.
    const bool timeOk = by == GroupBy::Day ? onWholeDay(filter.from) && onWholeDay(filter.to)
                                           : filter.from.empty() && filter.to.empty();
    if (!timeOk)
        return -1;
    for (const Field& field : kFields)
        if (field.population && field.kind != FieldKind::Time && &field != &fieldOf(by) && isSet(filter, field))
            return -1;
    for (const auto& c : given) {
        if (c.kind != kind)
            continue;
        // Provider names as people type them ("gmail"); campaigns and days exactly.
        if (by == GroupBy::Provider ? text::toLower(c.key) == text::toLower(key) : c.key == key)
            return c.sent;
    }
    return -1;
}

std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter)
{
    return groupReport(ws, by, filter, sendCounts(ws));
}

std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter,
                                  const std::vector<SendCount>& given)
{
    auto& db = ws.db();
    const FilterSql f = filterSql(filter);
    // Templates group by id (an integer key sorts far faster than the text); the text is looked
    // up for the groups only.
    const bool byTemplate = by == GroupBy::Template;
    const bool carry = groupsCarryDeliveries(by);
    const std::string key = byTemplate ? std::string("COALESCE(e.template_id, 0)")
                                       : "COALESCE(NULLIF(" + groupKeySql(by) + ", ''), '(none)')";
    const std::string population = " WHERE (" + f.population + ") ";

    // One pass over the population: per group, event type, family, whether the event matches
    // the filter's bounce fields and whether its import records deliveries (GroupTally says
    // what counts).
    std::vector<GroupTally> tallies;
    std::map<std::string, std::size_t> index;
    {
        auto st = db.prepare("SELECT " + key + ", e.event_type, COALESCE(e.family, 'unknown'), (" + f.bounce
                             + ") AS m, (e.import_id IN " + recordingImportsSql() + ") AS r, COUNT(*) FROM events e"
                             + population + "GROUP BY 1, 2, 3, 4, 5");
        bindAll(st, bindAll(st, 1, f.bounceBinds), f.populationBinds);
        const bool typesNamed = !filter.eventTypes.empty();
        while (st.step()) {
            const std::string type = st.text(1);
            if (!carry && type == "delivered")
                continue; // a delivery has no template, family or reason
            const std::string k = byTemplate ? std::to_string(st.int64(0)) : st.text(0);
            auto [it, added] = index.try_emplace(k, tallies.size());
            if (added) {
                tallies.emplace_back();
                tallies.back().row.key = k;
                if (byTemplate)
                    tallies.back().row.templateId = st.int64(0);
            }
            tallies[it->second].add(type, st.text(2), st.int64(3) != 0, typesNamed, st.int64(4) != 0, st.int64(5));
        }
    }
    if (byTemplate) {
        auto st = db.prepare("SELECT text FROM templates WHERE id = ?");
        for (auto& t : tallies) {
            t.row.key = "(none)";
            if (t.row.templateId) {
                st.bind(1, t.row.templateId);
                if (st.step())
                    t.row.key = st.text(0).empty() ? "(none)" : st.text(0);
                st.reset();
            }
        }
    }
    auto rows = finishGroups(std::move(tallies), by, filter, given);
    addLiftedLater(ws, by, filter, rows);
    return rows;
}

void GroupTally::add(std::string_view type, const std::string& family, bool match, bool typesNamed, bool recording,
                     std::int64_t n)
{
    // Counted bounces follow every field of the filter; deliveries only its population, so a
    // rate stays a share of the traffic looked at.
    const bool counted = match && (typesNamed ? type != "delivered" : type == "bounce");
    if (counted) {
        row.bounces += n;
        row.families[family.empty() ? std::string("unknown") : family] += n;
        if (recording)
            basisCounted += n;
    }
    if (type == "bounce") {
        allBounces += n;
        if (recording)
            basisBounces += n;
    } else if (type == "delivered") {
        row.deliveries += n;
        if (recording)
            basisDeliveries += n;
    } else if (type == "deferral" && match) {
        row.deferrals += n;
    } else if (type == "complaint" && match) {
        row.complaints += n;
    }
}

std::vector<GroupRow> finishGroups(std::vector<GroupTally> tallies, GroupBy by, const EventFilter& filter,
                                   const std::vector<SendCount>& given)
{
    std::int64_t totalCounted = 0;
    for (const auto& t : tallies)
        totalCounted += t.row.bounces;
    const bool carry = groupsCarryDeliveries(by);
    const auto ratio
        = [](std::int64_t a, std::int64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
    std::vector<GroupRow> rows;
    rows.reserve(tallies.size());
    for (auto& t : tallies) {
        GroupRow& r = t.row;
        const std::int64_t givenCount = carry ? givenSent(given, by, filter, r.key) : -1;
        if (givenCount >= 0) {
            // The user's count is everything the group was sent; never fewer than the workspace
            // itself shows went out, so the rate stays a rate.
            r.rateBasis = "given";
            r.sent = std::max(givenCount, t.allBounces + r.deliveries);
            r.rateBounces = r.bounces;
        } else if (carry && t.basisBounces + t.basisDeliveries > 0) {
            // Sends known from the sources that record deliveries: the rate is over their rows
            // only; bounces from bounce-only sources are said apart, not mixed in.
            r.rateBasis = "sent";
            r.sent = t.basisBounces + t.basisDeliveries;
            r.rateBounces = t.basisCounted;
            r.outsideBasis = r.bounces - t.basisCounted;
        } else {
            r.rateBasis = "share";
            r.rateBounces = r.bounces;
            r.rate = ratio(r.bounces, totalCounted);
        }
        if (r.rateBasis != "share") {
            r.rate = ratio(r.rateBounces, r.sent);
            r.level = levelOf(r.rate);
        }
        rows.push_back(std::move(r));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const GroupRow& a, const GroupRow& b) {
        if (a.bounces != b.bounces)
            return a.bounces > b.bounces;
        if (a.deliveries != b.deliveries)
            return a.deliveries > b.deliveries;
        return a.key < b.key;
    });
    return rows;
}

void addLiftedLater(Workspace& ws, GroupBy by, const EventFilter& filter, std::vector<GroupRow>& rows)
{
    // A policy or reputation rejection followed, later, by a delivery to the same domain: the
    // block was lifted (or never applied to everyone). "Later" is "before the domain's last
    // delivery", found once per domain rather than once per bounce.
    // Without a delivery nothing was lifted. Asked first because the planner starts a search's
    // join from the search index: it read each of the 167 000 rows matching "spamhaus" on 1M
    // events before the empty list of deliveries ended it (sqlite3: 0.38 s, 1.2 s cold), on
    // the lane of the Groups view, which follows every drill-down. One probe of the
    // deliveries' partial index instead.
    auto any = ws.db().prepare(
        "SELECT 1 FROM events WHERE event_type = 'delivered' AND recipient_domain IS NOT NULL LIMIT 1");
    if (!any.step())
        return;
    const FilterSql f = filterSql(filter);
    const bool byTemplate = by == GroupBy::Template;
    const std::string key = byTemplate ? std::string("COALESCE(e.template_id, 0)")
                                       : "COALESCE(NULLIF(" + groupKeySql(by) + ", ''), '(none)')";
    auto st = ws.db().prepare("WITH last AS (SELECT recipient_domain AS d, MAX(timestamp) AS t FROM events "
                              "WHERE event_type = 'delivered' AND recipient_domain IS NOT NULL GROUP BY 1) "
                              "SELECT "
                              + key + ", COUNT(*) FROM events e JOIN last ON last.d = e.recipient_domain WHERE ("
                              + f.population + ") AND (" + countedBounces(filter, f)
                              + ") AND e.family IN ('policy', 'reputation') AND e.timestamp < last.t GROUP BY 1");
    bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
    std::map<std::string, std::int64_t> lifted;
    while (st.step())
        lifted[byTemplate ? std::to_string(st.int64(0)) : st.text(0)] = st.int64(1);
    for (auto& r : rows)
        if (const auto it = lifted.find(byTemplate ? std::to_string(r.templateId) : r.key); it != lifted.end())
            r.liftedLater = it->second;
}

std::vector<LiftedBlock> liftedLater(Workspace& ws, const EventFilter& filter, int limit)
{
    const FilterSql f = filterSql(filter);
    // Per recipient domain: its policy or reputation rejections, then the first delivery after
    // the first of them (one indexed look per domain).
    auto st = ws.db().prepare(
        "WITH b AS (SELECT e.recipient_domain AS d, MAX(COALESCE(e.provider, '')) AS p, COUNT(*) AS n, "
        "MIN(e.timestamp) AS first, MAX(e.timestamp) AS last FROM events e WHERE ("
        + f.population + ") AND (" + countedBounces(filter, f)
        + ") AND e.family IN ('policy', 'reputation') AND COALESCE(e.recipient_domain, '') <> '' GROUP BY 1) "
          "SELECT d, p, n, last, (SELECT MIN(x.timestamp) FROM events x WHERE x.recipient_domain = b.d "
          "AND x.timestamp > b.first AND x.event_type = 'delivered') AS lifted FROM b "
          "WHERE lifted IS NOT NULL ORDER BY lifted LIMIT ?");
    int next = bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
    st.bind(next, static_cast<std::int64_t>(limit));
    std::vector<LiftedBlock> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2), st.text(3), st.text(4)});
    return out;
}

std::vector<Incident> incidents(Workspace& ws, GroupBy by, bool hourly, std::int64_t minBounces, double factor)
{
    return incidents(ws, by, EventFilter {}, hourly, minBounces, factor);
}

std::vector<Incident> incidents(Workspace& ws, GroupBy by, const EventFilter& filter, bool hourly,
                                std::int64_t minBounces, double factor)
{
    const FilterSql f = filterSql(filter);
    const std::string key = "COALESCE(NULLIF(" + groupKeySql(by) + ", ''), '(none)')";
    const std::string bucket = hourly ? "substr(e.timestamp, 1, 13)" : "substr(e.timestamp, 1, 10)";
    // Traffic per group and bucket (every bucket in which the group saw anything counts for the
    // baseline, also those without a bounce of the family), then bounces per family.
    Series series;
    // Every bounce and delivery of the population is traffic; the families hold the bounces the
    // filter counts (all bounces without one).
    auto st = ws.db().prepare("SELECT " + key + ", " + bucket + ", e.event_type, COALESCE(e.family, 'unknown'), ("
                              + countedBounces(filter, f)
                              + ") AS m, COUNT(*) FROM events e WHERE e.timestamp IS NOT NULL AND (" + f.population
                              + ") GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2");
    bindAll(st, bindAll(st, 1, f.bounceBinds), f.populationBinds);
    while (st.step()) {
        auto& cell = series[st.text(0)][st.text(1)];
        const auto type = st.text(2);
        const auto n = st.int64(5);
        if (type == "bounce")
            cell.bounces += n;
        else if (type == "delivered")
            cell.deliveries += n;
        if (st.int64(4) != 0)
            cell.families[st.text(3)] += n;
    }
    return findIncidents(series, minBounces, factor);
}

namespace
{

/// A bucket's place on its time line: hours (or days) since 1970 of "YYYY-MM-DDTHH" ("YYYY-MM-DD");
/// -1 for a text that is no bucket.
std::int64_t bucketIndex(std::string_view b)
{
    auto number = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (i >= b.size() || b[i] < '0' || b[i] > '9')
                return -1;
            v = v * 10 + (b[i] - '0');
        }
        return v;
    };
    const int y = number(0, 4), m = number(5, 2), d = number(8, 2);
    if (y < 0 || m < 1 || d < 1)
        return -1;
    const auto days = std::chrono::sys_days(std::chrono::year(y) / m / d).time_since_epoch().count();
    if (b.size() < 13)
        return days;
    const int h = number(11, 2);
    return h < 0 ? -1 : days * 24 + h;
}

} // namespace

std::vector<Incident> findIncidents(const Series& series, std::int64_t minBounces, double factor)
{
    bool deliveriesKnown = false;
    for (const auto& [k, buckets] : series)
        for (const auto& [b, cell] : buckets)
            deliveriesKnown = deliveriesKnown || cell.deliveries > 0;
    std::vector<Incident> out;
    for (const auto& entry : series) {
        // Named, not a structured binding: clang 14 (the fuzz preset) cannot capture one in a lambda.
        const auto& k = entry.first;
        const auto& buckets = entry.second;
        std::map<std::string, std::int64_t> sums; // family → bounces in earlier buckets
        std::map<std::string, Incident> open; // family → the span being extended
        std::map<std::string, std::int64_t> openEnd; // family → index of its span's last bucket
        std::size_t seen = 0;
        auto close = [&](const std::string& family) {
            auto it = open.find(family);
            if (it == open.end())
                return;
            Incident i = std::move(it->second);
            open.erase(it);
            if (i.bounces < 2 * minBounces)
                return;
            // Lifted: the first later bucket in which this group's mail was delivered again.
            for (auto later = buckets.upper_bound(i.end); later != buckets.end(); ++later)
                if (later->second.deliveries > 0) {
                    i.lifted = later->first;
                    break;
                }
            out.push_back(std::move(i));
        };
        for (const auto& [b, cell] : buckets) {
            const auto at = bucketIndex(b);
            // A span ends once more than one quiet bucket has passed since its last bucket.
            for (auto it = openEnd.begin(); it != openEnd.end();) {
                if (at < 0 || at - it->second > 2) {
                    close(it->first);
                    it = openEnd.erase(it);
                } else {
                    ++it;
                }
            }
            for (const auto& [family, n] : cell.families) {
                const double baseline = seen ? static_cast<double>(sums[family]) / static_cast<double>(seen) : 0.0;
                // A spike opens a span; while it is open, any bucket above the baseline it started
                // from carries it on (a block's quieter hours are still the block).
                const auto running = open.find(family);
                const bool spiking
                    = seen >= 3 && n >= minBounces && static_cast<double>(n) > factor * std::max(baseline, 1.0);
                const bool above
                    = running != open.end() && static_cast<double>(n) > std::max(running->second.baseline, 1.0);
                if (spiking || above) {
                    const auto denom = cell.bounces + cell.deliveries;
                    const double rate
                        = deliveriesKnown && denom ? static_cast<double>(n) / static_cast<double>(denom) : 0.0;
                    auto [it, fresh] = open.try_emplace(family);
                    Incident& i = it->second;
                    if (fresh) {
                        i.key = k;
                        i.family = family;
                        i.bucket = b;
                        i.baseline = baseline;
                    }
                    i.end = b;
                    i.bounces += n;
                    ++i.buckets;
                    if (n > i.peakBounces) {
                        i.peakBounces = n;
                        i.peak = b;
                        i.rate = rate;
                    }
                    openEnd[family] = at;
                }
            }
            // The baseline counts the spike's own buckets only once the span is over: a long
            // block would otherwise raise its own bar and end itself.
            for (const auto& [family, n] : cell.families)
                if (!open.count(family))
                    sums[family] += n;
            ++seen;
        }
        for (auto it = openEnd.begin(); it != openEnd.end(); it = openEnd.erase(it))
            close(it->first);
    }
    std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
        return a.bucket != b.bucket ? a.bucket < b.bucket : a.key != b.key ? a.key < b.key : a.family < b.family;
    });
    return out;
}

std::vector<Suppression> suppressions(Workspace& ws, const EventFilter& filter)
{
    const FilterSql f = filterSql(filter);
    std::vector<Suppression> out;
    // The latest qualifying event per address the sender mailed (a forward's alias, not the
    // address it forwarded to: only the alias is on the sender's list): complaints always;
    // bounces whose verdict asks to suppress (the address family: unknown users and domains,
    // disabled or closed mailboxes, a sending service's own suppression) unless their code says
    // temporary (4xx, 2xx). A disabled mailbox is not a "hard bounce" by Sisimai's convention,
    // yet there is nobody to mail there.
    auto st = ws.db().prepare(
        "SELECT lower(COALESCE(original_recipient, recipient)) AS address, reason, COALESCE(reply_text, ''), "
        "MAX(COALESCE(timestamp, '')), CASE WHEN original_recipient IS NULL THEN '' ELSE lower(recipient) END "
        "FROM events e "
        "WHERE ("
        + f.population + ") AND (" + f.bounce
        + ") AND recipient IS NOT NULL AND ((event_type = 'bounce' AND action = 'suppress' AND NOT ("
          "COALESCE(enhanced_code, '') GLOB '[24]*' OR (COALESCE(enhanced_code, '') = '' AND basic_code BETWEEN 200 "
          "AND 499))) OR event_type = 'complaint' OR reason = 'feedback') GROUP BY address ORDER BY 1");
    bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4)});
    return out;
}

std::int64_t writeSuppressionsCsv(Workspace& ws, const EventFilter& filter, std::ostream& out)
{
    out << "address,reason,last_reply,last_seen,forwarded_to\r\n";
    std::int64_t n = 0;
    for (const auto& s : suppressions(ws, filter)) {
        out << csvEscape(s.address) << ',' << csvEscape(s.reason) << ',' << csvEscape(s.lastReply) << ','
            << csvEscape(s.lastSeen) << ',' << csvEscape(s.forwardedTo) << "\r\n";
        ++n;
    }
    return n;
}

} // namespace bt
