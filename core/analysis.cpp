// SPDX-License-Identifier: MIT
// The query layer the CLI's report and the UI's charts share: SQL does the grouping.
#include "analysis.h"

#include <algorithm>

namespace bt
{
namespace
{

const char* keyExpression(GroupBy by)
{
    switch (by) {
    case GroupBy::Provider:
        return "e.provider";
    case GroupBy::Domain:
        return "e.recipient_domain";
    case GroupBy::Ip:
        return "e.sending_ip";
    case GroupBy::Campaign:
        return "e.campaign";
    case GroupBy::Template:
        return "t.text";
    case GroupBy::Family:
        return "e.family";
    case GroupBy::Day:
        return "substr(e.timestamp, 1, 10)";
    case GroupBy::Hour:
        return "substr(e.timestamp, 1, 13)";
    }
    return "e.provider";
}

} // namespace

std::optional<GroupBy> groupByFromString(std::string_view s)
{
    static const std::pair<std::string_view, GroupBy> names[]
        = {{"provider", GroupBy::Provider}, {"domain", GroupBy::Domain},     {"ip", GroupBy::Ip},
           {"campaign", GroupBy::Campaign}, {"template", GroupBy::Template}, {"family", GroupBy::Family},
           {"day", GroupBy::Day},           {"hour", GroupBy::Hour}};
    for (const auto& [n, g] : names)
        if (n == s)
            return g;
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

std::vector<GroupRow> groupReport(Workspace& ws, GroupBy by, const EventFilter& filter)
{
    auto& db = ws.db();
    const std::string key = std::string("COALESCE(NULLIF(") + keyExpression(by) + ", ''), '(none)')";
    const std::string from = " FROM events e LEFT JOIN templates t ON t.id = e.template_id ";
    const FilterSql f = filterSql(filter);
    // Counted bounces follow every field of the filter; deliveries only its population (time,
    // provider, domain, IP, campaign), so a rate stays a share of the traffic looked at.
    const std::string counted = "(" + countedBounces(filter, f) + ")";
    const std::string population = " WHERE (" + f.population + ") ";

    std::int64_t totalBounces = 0, totalDeliveries = 0;
    {
        auto st = db.prepare("SELECT SUM(" + counted + "), SUM(e.event_type = 'delivered') FROM events e" + population);
        bindAll(st, bindAll(st, 1, f.bounceBinds), f.populationBinds);
        if (st.step()) {
            totalBounces = st.int64(0);
            totalDeliveries = st.int64(1);
        }
    }
    const bool sent = totalDeliveries > 0;

    std::vector<GroupRow> rows;
    std::map<std::string, std::size_t> index;
    {
        auto st = db.prepare("SELECT " + key + " AS k, SUM(" + counted + "), SUM(e.event_type = 'deferral' AND ("
                             + f.bounce + ")), SUM(e.event_type = 'delivered'), SUM(e.event_type = 'complaint' AND ("
                             + f.bounce + ")), SUM(e.event_type = 'bounce'), MIN(e.template_id)" + from + population
                             + "GROUP BY k ORDER BY 2 DESC, 4 DESC, 1");
        int next = bindAll(st, 1, f.bounceBinds);
        next = bindAll(st, next, f.bounceBinds);
        next = bindAll(st, next, f.bounceBinds);
        bindAll(st, next, f.populationBinds);
        while (st.step()) {
            GroupRow r;
            r.key = st.text(0);
            r.bounces = st.int64(1);
            r.deferrals = st.int64(2);
            r.deliveries = st.int64(3);
            r.complaints = st.int64(4);
            const auto allBounces = st.int64(5);
            if (by == GroupBy::Template && !st.isNull(6))
                r.templateId = st.int64(6);
            if (sent) {
                const auto denom = allBounces + r.deliveries;
                r.rate = denom ? static_cast<double>(r.bounces) / static_cast<double>(denom) : 0.0;
                r.rateBasis = "sent";
                r.level = levelOf(r.rate);
            } else {
                r.rate = totalBounces ? static_cast<double>(r.bounces) / static_cast<double>(totalBounces) : 0.0;
                r.rateBasis = "share";
            }
            index[r.key] = rows.size();
            rows.push_back(std::move(r));
        }
    }
    {
        auto st = db.prepare("SELECT " + key + " AS k, COALESCE(e.family, 'unknown'), COUNT(*)" + from + population
                             + "AND " + counted + " GROUP BY k, 2");
        bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
        while (st.step())
            if (auto it = index.find(st.text(0)); it != index.end())
                rows[it->second].families[st.text(1)] = st.int64(2);
    }
    {
        // A policy or reputation rejection followed, later, by a delivery to the same domain:
        // the block was lifted (or never applied to everyone).
        auto st = db.prepare("SELECT " + key + " AS k, COUNT(*)" + from + population + "AND " + counted
                             + " AND e.family IN ('policy', 'reputation') "
                               "AND EXISTS (SELECT 1 FROM events d WHERE d.event_type = 'delivered' "
                               "AND d.recipient_domain = e.recipient_domain AND d.timestamp > e.timestamp) "
                               "GROUP BY k");
        bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
        while (st.step())
            if (auto it = index.find(st.text(0)); it != index.end())
                rows[it->second].liftedLater = st.int64(1);
    }
    return rows;
}

std::vector<LiftedBlock> liftedLater(Workspace& ws, const EventFilter& filter, int limit)
{
    const FilterSql f = filterSql(filter);
    // Per recipient domain: the last policy or reputation rejection before the first later
    // delivery, and that delivery's time.
    auto st
        = ws.db().prepare("SELECT e.recipient_domain, COALESCE(e.provider, ''), COUNT(*), MAX(e.timestamp), "
                          "(SELECT MIN(d.timestamp) FROM events d WHERE d.event_type = 'delivered' "
                          "AND d.recipient_domain = e.recipient_domain AND d.timestamp > MIN(e.timestamp)) AS lifted "
                          "FROM events e WHERE ("
                          + f.population + ") AND " + "(" + countedBounces(filter, f)
                          + ")"
                            " AND e.family IN ('policy', 'reputation') AND COALESCE(e.recipient_domain, '') <> '' "
                            "GROUP BY e.recipient_domain HAVING lifted IS NOT NULL ORDER BY lifted LIMIT ?");
    int next = bindAll(st, bindAll(st, 1, f.populationBinds), f.bounceBinds);
    st.bind(next, static_cast<std::int64_t>(limit));
    std::vector<LiftedBlock> out;
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.int64(2), st.text(3), st.text(4)});
    return out;
}

std::vector<Incident> incidents(Workspace& ws, GroupBy by, bool hourly, std::int64_t minBounces, double factor)
{
    const std::string key = std::string("COALESCE(NULLIF(") + keyExpression(by) + ", ''), '(none)')";
    const std::string bucket = hourly ? "substr(e.timestamp, 1, 13)" : "substr(e.timestamp, 1, 10)";
    // Traffic per group and bucket (every bucket in which the group saw anything counts for the
    // baseline, also those without a bounce of the family), then bounces per family.
    struct Cell {
        std::int64_t bounces = 0, deliveries = 0;
        std::map<std::string, std::int64_t> families;
    };
    std::map<std::string, std::map<std::string, Cell>> series; // key → bucket → cell
    auto st = ws.db().prepare("SELECT " + key + ", " + bucket
                              + ", e.event_type, COALESCE(e.family, 'unknown'), COUNT(*) "
                                "FROM events e WHERE e.timestamp IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2");
    while (st.step()) {
        auto& cell = series[st.text(0)][st.text(1)];
        const auto type = st.text(2);
        const auto n = st.int64(4);
        if (type == "bounce") {
            cell.bounces += n;
            cell.families[st.text(3)] += n;
        } else if (type == "delivered") {
            cell.deliveries += n;
        }
    }
    bool deliveriesKnown = false;
    for (const auto& [k, buckets] : series)
        for (const auto& [b, cell] : buckets)
            deliveriesKnown = deliveriesKnown || cell.deliveries > 0;
    std::vector<Incident> out;
    for (const auto& [k, buckets] : series) {
        std::map<std::string, std::int64_t> sums; // family → bounces in earlier buckets
        std::size_t seen = 0;
        for (const auto& [b, cell] : buckets) {
            for (const auto& [family, n] : cell.families) {
                const double baseline = seen ? static_cast<double>(sums[family]) / static_cast<double>(seen) : 0.0;
                if (seen >= 3 && n >= minBounces && static_cast<double>(n) > factor * std::max(baseline, 1.0)) {
                    Incident i {k, family, b, n, baseline, 0.0};
                    const auto denom = cell.bounces + cell.deliveries;
                    i.rate = deliveriesKnown && denom ? static_cast<double>(n) / static_cast<double>(denom) : 0.0;
                    out.push_back(std::move(i));
                }
            }
            for (const auto& [family, n] : cell.families)
                sums[family] += n;
            ++seen;
        }
    }
    std::sort(out.begin(), out.end(), [](const Incident& a, const Incident& b) {
        return a.bucket != b.bucket ? a.bucket < b.bucket : a.key < b.key;
    });
    return out;
}

std::vector<Suppression> suppressions(Workspace& ws)
{
    std::vector<Suppression> out;
    // The latest qualifying event per address; complaints always, address failures when permanent.
    auto st = ws.db().prepare(
        "SELECT lower(recipient), reason, COALESCE(reply_text, ''), MAX(COALESCE(timestamp, '')) FROM events "
        "WHERE recipient IS NOT NULL AND ((event_type = 'bounce' AND family = 'address' AND hard_bounce = 1) "
        "OR event_type = 'complaint' OR reason = 'feedback') GROUP BY lower(recipient) ORDER BY 1");
    while (st.step())
        out.push_back({st.text(0), st.text(1), st.text(2), st.text(3)});
    return out;
}

} // namespace bt
