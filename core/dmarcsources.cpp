// SPDX-License-Identifier: MIT
#include "dmarcsources.h"

#include "sqlite.h"
#include "workspace.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>

namespace bt
{

namespace
{

/// The day after `day` (YYYY-MM-DD), through the calendar so month ends and leap years hold.
std::string nextDay(const std::string& day)
{
    using namespace std::chrono;
    const int y = std::stoi(day.substr(0, 4));
    const unsigned m = static_cast<unsigned>(std::stoi(day.substr(5, 2)));
    const unsigned d = static_cast<unsigned>(std::stoi(day.substr(8, 2)));
    const year_month_day next {sys_days {year {y} / month {m} / d} + days {1}};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(next.year()), static_cast<unsigned>(next.month()),
                  static_cast<unsigned>(next.day()));
    return buf;
}

bool isDay(const std::string& s)
{
    return s.size() == 10 && s[4] == '-' && s[7] == '-';
}

} // namespace

std::vector<PassRateDrop> passRateDrops(const std::vector<DmarcDay>& days)
{
    std::vector<PassRateDrop> out;
    std::int64_t earlier = 0, earlierPass = 0;
    for (const auto& d : days) {
        if (d.messages <= 0)
            continue;
        if (d.messages >= kDropMinDayMessages && earlier >= kDropMinEarlierMessages) {
            const double before = 100.0 * static_cast<double>(earlierPass) / static_cast<double>(earlier);
            if (before - d.passRate() >= kDropPoints)
                out.push_back({d.day, d.passRate(), before});
        }
        earlier += d.messages;
        earlierPass += d.dmarcPass;
    }
    return out;
}

SourceReport sourceReport(Workspace& ws)
{
    SourceReport out;
    {
        auto st = ws.db().prepare("SELECT COUNT(*) FROM dmarc_reports");
        out.reports = st.step() ? st.int64(0) : 0;
    }
    // One pass over the rows, grouped by IP, day and From domain. A row counts on the day its
    // report's range begins (receivers report one day each; Outlook's range ends at the next
    // midnight). SPF and DKIM "pass" are the receiver's raw auth_results, aligned or not; the
    // aligned results are policy_evaluated's, and DMARC passes when either aligned one passes
    // (RFC 7489 section 4.2).
    auto st = ws.db().prepare(
        "SELECT w.source_ip, date(r.date_begin), lower(COALESCE(w.header_from, '')), SUM(w.count), "
        "SUM(CASE WHEN w.dkim = 'pass' OR w.spf = 'pass' THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN w.spf = 'pass' THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN w.dkim = 'pass' THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM dmarc_auth a WHERE a.row_id = w.id AND a.method = 'spf' "
        "AND a.result = 'pass') THEN w.count ELSE 0 END), "
        "SUM(CASE WHEN EXISTS (SELECT 1 FROM dmarc_auth a WHERE a.row_id = w.id AND a.method = 'dkim' "
        "AND a.result = 'pass') THEN w.count ELSE 0 END), "
        "MAX(date(r.date_end, '-1 second')) "
        "FROM dmarc_rows w JOIN dmarc_reports r ON r.id = w.report GROUP BY 1, 2, 3");
    std::map<std::string, SourceSummary> byIp;
    std::map<std::string, std::map<std::string, DmarcDay>> ipDays;
    std::map<std::string, DmarcDay> allDays;
    std::map<std::string, std::set<std::string>> domains;
    while (st.step()) {
        const std::string ip = st.text(0), day = st.text(1), from = st.text(2), last = st.text(9);
        auto& s = byIp[ip];
        s.ip = ip;
        const std::int64_t n = st.int64(3), pass = st.int64(4);
        s.messages += n;
        s.dmarcPass += pass;
        s.spfAligned += st.int64(5);
        s.dkimAligned += st.int64(6);
        s.spfPass += st.int64(7);
        s.dkimPass += st.int64(8);
        if (s.firstDay.empty() || day < s.firstDay)
            s.firstDay = day;
        if (last > s.lastDay)
            s.lastDay = last;
        if (!from.empty())
            domains[ip].insert(from);
        for (auto* d : {&ipDays[ip][day], &allDays[day]}) {
            d->day = day;
            d->messages += n;
            d->dmarcPass += pass;
        }
    }
    {
        auto rep = ws.db().prepare("SELECT w.source_ip, COUNT(DISTINCT w.report) FROM dmarc_rows w GROUP BY 1");
        while (rep.step()) {
            const auto it = byIp.find(rep.text(0));
            if (it != byIp.end())
                it->second.reports = rep.int64(1);
        }
    }
    if (byIp.empty())
        return out;

    // Every day of the span, so a chart's time axis has no holes, then the auth-family bounces of
    // those days, all together and per sending IP (the events carry the IP where the source gave it).
    const std::string first = allDays.begin()->first, last = allDays.rbegin()->first;
    if (isDay(first) && isDay(last))
        for (std::string d = first; d <= last; d = nextDay(d))
            allDays[d].day = d;
    std::map<std::string, std::map<std::string, std::int64_t>> ipBounces;
    auto ev = ws.db().prepare("SELECT substr(timestamp, 1, 10), COALESCE(sending_ip, ''), COUNT(*) FROM events "
                              "WHERE event_type = 'bounce' AND family = 'auth' AND timestamp >= ?1 AND timestamp < ?2 "
                              "GROUP BY 1, 2");
    ev.bind(1, std::string_view(first));
    const std::string end = isDay(last) ? nextDay(last) : last + "~";
    ev.bind(2, std::string_view(end));
    while (ev.step()) {
        const std::string day = ev.text(0), ip = ev.text(1);
        const auto n = ev.int64(2);
        const auto it = allDays.find(day);
        if (it != allDays.end())
            it->second.authBounces += n;
        if (!ip.empty())
            ipBounces[ip][day] += n;
    }
    for (auto& [d, v] : allDays)
        out.days.push_back(v);

    for (auto& [ip, s] : byIp) {
        s.failBoth = s.messages - s.dmarcPass;
        s.unverified = s.failBoth * 2 > s.messages;
        s.fromDomains.assign(domains[ip].begin(), domains[ip].end());
        // Its own span without holes, as the chart of all sources has.
        auto& own = ipDays[ip];
        if (!own.empty() && isDay(own.begin()->first) && isDay(own.rbegin()->first))
            for (std::string d = own.begin()->first; d < own.rbegin()->first; d = nextDay(d))
                own[d].day = d;
        for (auto& [day, d] : own) {
            const auto b = ipBounces[ip].find(day);
            if (b != ipBounces[ip].end())
                d.authBounces = b->second;
            s.days.push_back(d);
        }
        s.drops = passRateDrops(s.days);
        out.sources.push_back(std::move(s));
    }
    std::sort(out.sources.begin(), out.sources.end(), [](const SourceSummary& a, const SourceSummary& b) {
        return a.messages != b.messages ? a.messages > b.messages : a.ip < b.ip;
    });
    return out;
}

} // namespace bt
