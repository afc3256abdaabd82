// SPDX-License-Identifier: MIT
#include "monitor.h"

#include "dns.h"
#include "sqlite.h"
#include "text.h"
#include "workspace.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace bt
{

namespace
{

/// "ip", "domain", or "" for anything else (a name with a space, an address, one label).
std::string nameKind(const std::string& name)
{
    if (dns::isIpAddress(name))
        return "ip";
    if (name.size() > 253 || name.find('.') == std::string::npos || name.front() == '.' || name.back() == '.')
        return {};
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
            return {};
    return "domain";
}

void insertName(Workspace& ws, const std::string& name, const std::string& kind, const char* origin)
{
    auto st = ws.db().prepare("INSERT OR IGNORE INTO monitored (name, kind, origin, added) VALUES (?, ?, ?, ?)");
    st.bind(1, name).bind(2, kind).bind(3, std::string_view(origin)).bind(4, nowUtc());
    st.run();
}

} // namespace

void addMonitored(Workspace& ws, const std::string& raw)
{
    const std::string name = text::toLower(text::trim(raw));
    const std::string kind = nameKind(name);
    if (kind.empty())
        throw std::invalid_argument("\"" + raw + "\" is neither an IP address nor a domain name");
    insertName(ws, name, kind, "hand");
}

bool removeMonitored(Workspace& ws, const std::string& raw)
{
    auto st = ws.db().prepare("DELETE FROM monitored WHERE name = ?");
    st.bind(1, text::toLower(text::trim(raw)));
    st.run();
    return ws.db().changes() > 0;
}

std::vector<MonitoredName> monitoredNames(Workspace& ws)
{
    std::vector<MonitoredName> out;
    if (ws.schemaVersion() < 8)
        return out;
    std::map<std::string, std::vector<std::string>> open;
    {
        auto st = ws.db().prepare("SELECT name, zone FROM listings WHERE delisted IS NULL ORDER BY zone");
        while (st.step())
            open[st.text(0)].push_back(st.text(1));
    }
    auto st = ws.db().prepare(
        "SELECT name, kind, origin, added, COALESCE(last_checked, '') FROM monitored ORDER BY kind DESC, name");
    while (st.step()) {
        MonitoredName m {st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), {}};
        if (const auto it = open.find(m.name); it != open.end())
            m.listedOn = it->second;
        out.push_back(std::move(m));
    }
    return out;
}

int monitorFromEvents(Workspace& ws, int max)
{
    int added = 0;
    for (const char* column : {"sending_ip", "from_domain"}) {
        auto st = ws.db().prepare(std::string("SELECT ") + column + ", COUNT(*) FROM events WHERE " + column
                                  + " IS NOT NULL AND " + column + " <> '' GROUP BY 1 ORDER BY 2 DESC LIMIT ?");
        st.bind(1, max);
        std::vector<std::string> names;
        while (st.step())
            names.push_back(text::toLower(st.text(0)));
        for (const auto& n : names) {
            const std::string kind = nameKind(n);
            if (kind.empty())
                continue;
            insertName(ws, n, kind, "events");
            added += ws.db().changes();
        }
    }
    return added;
}

std::vector<ListingChange> checkListings(Workspace& ws, const CheckOptions& base, int intervalMinutes,
                                         const AlertRules& rules, std::vector<Alert>* raised)
{
    std::vector<ListingChange> changes;
    // Due: never checked, or not within the interval.
    std::vector<std::pair<std::string, std::string>> due;
    {
        auto st = ws.db().prepare("SELECT name, kind FROM monitored WHERE last_checked IS NULL OR last_checked <= "
                                  "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?) ORDER BY name");
        st.bind(1, std::to_string(-intervalMinutes) + " minutes");
        while (st.step())
            due.emplace_back(st.text(0), st.text(1));
    }
    for (const auto& [name, kind] : due) {
        CheckOptions o = base;
        o.blocklists = true;
        o.domainRecords = false; // a domain's blocklists only, no SPF or DMARC
        o.workspace = nullptr; // fresh answers: the schedule is what limits the questions
        // Each name gets its own deadline, 15 s at most: a round of 50 names without network
        // stops at the first (below), and one with a slow list does not hold the watcher long.
        o.deadlineMs = std::min(o.deadlineMs, kListingDeadlineMs);
        CheckRequest request;
        (kind == "ip" ? request.ip : request.domain) = name;
        const CheckReport report = runChecks(request, o);
        // No list answered at all (no network, a resolver that is down): the rest would wait just
        // as long for nothing. This name and the ones after it stay due for the next round.
        bool anyAnswer = false;
        for (const auto& b : report.blocklists)
            anyAnswer = anyAnswer || (b.status != "timeout" && b.status != "error");
        if (!report.blocklists.empty() && !anyAnswer)
            break;
        const std::string at = nowUtc();
        // Open periods of this name, by zone.
        std::map<std::string, std::int64_t> open;
        {
            auto st = ws.db().prepare("SELECT zone, id FROM listings WHERE name = ? AND delisted IS NULL");
            st.bind(1, name);
            while (st.step())
                open[st.text(0)] = st.int64(1);
        }
        sql::Transaction tx(ws.db());
        for (const auto& b : report.blocklists) {
            if (b.kind != kind)
                continue;
            const bool clearlyListed = b.listed;
            const bool clearlyClean = !b.listed && (b.status == "nxdomain" || b.status == "none");
            const auto it = open.find(b.zone);
            if (clearlyListed && it == open.end()) {
                std::string answer;
                for (const auto& c : b.codes)
                    answer += (answer.empty() ? "" : " ") + c;
                if (!b.meaning.empty())
                    answer += " (" + b.meaning + ")";
                auto ins = ws.db().prepare("INSERT INTO listings (name, zone, listed, answer) VALUES (?, ?, ?, ?)");
                ins.bind(1, name).bind(2, b.zone).bind(3, at).bind(4, answer);
                ins.run();
                changes.push_back({name, b.zone, b.list, true, at, answer});
                if (rules.listings) {
                    Alert a;
                    a.rule = "listed";
                    a.subject = kind + " " + name;
                    a.mark = b.zone + " " + at;
                    a.severity = "critical";
                    a.title = name + " is listed on " + b.list;
                    a.detail = b.sentence.empty() ? name + " is listed on " + b.list + ": " + answer : b.sentence;
                    if (!b.delistUrl.empty() && a.detail.find(b.delistUrl) == std::string::npos)
                        a.detail += " Delisting: " + b.delistUrl;
                    a.payload = nlohmann::json {{"name", name},   {"kind", kind},     {"list", b.list},
                                                {"zone", b.zone}, {"answer", answer}, {"delist_url", b.delistUrl}}
                                    .dump();
                    if (raiseAlert(ws, a) && raised)
                        raised->push_back(a);
                }
            } else if (clearlyClean && it != open.end()) {
                auto up = ws.db().prepare("UPDATE listings SET delisted = ? WHERE id = ?");
                up.bind(1, at).bind(2, it->second);
                up.run();
                changes.push_back({name, b.zone, b.list, false, at, {}});
            }
        }
        auto up = ws.db().prepare("UPDATE monitored SET last_checked = ? WHERE name = ?");
        up.bind(1, at).bind(2, name);
        up.run();
        tx.commit();
    }
    return changes;
}

std::vector<Listing> listingHistory(Workspace& ws, const std::string& name)
{
    std::vector<Listing> out;
    if (ws.schemaVersion() < 8)
        return out;
    auto st = ws.db().prepare(std::string("SELECT id, name, zone, listed, COALESCE(delisted, ''), COALESCE(answer, '') "
                                          "FROM listings")
                              + (name.empty() ? "" : " WHERE name = ?") + " ORDER BY listed DESC, id DESC");
    if (!name.empty())
        st.bind(1, text::toLower(name));
    while (st.step())
        out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5)});
    return out;
}

std::vector<ListingChange> listingEntries(Workspace& ws, const std::string& name)
{
    std::vector<ListingChange> out;
    for (const auto& l : listingHistory(ws, name)) {
        if (!l.delisted.empty())
            out.push_back({l.name, l.zone, l.zone, false, l.delisted, {}});
        out.push_back({l.name, l.zone, l.zone, true, l.listed, l.answer});
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at > b.at; });
    return out;
}

} // namespace bt
