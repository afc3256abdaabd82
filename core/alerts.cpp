// SPDX-License-Identifier: MIT
#include "alerts.h"

#include "analysis.h"
#include "sqlite.h"
#include "workspace.h"

#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdexcept>
#include <unistd.h>

namespace bt
{

using nlohmann::json;

namespace
{

constexpr const char* kRulesKey = "alerts.rules";
constexpr const char* kBaselineKey = "alerts.baseline";

std::string setting(Workspace& ws, const char* key)
{
    auto st = ws.db().prepare("SELECT value FROM settings WHERE key = ?");
    st.bind(1, std::string_view(key));
    return st.step() ? st.text(0) : std::string();
}

void setSetting(Workspace& ws, const char* key, const std::string& value)
{
    auto st = ws.db().prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET "
                              "value = excluded.value");
    st.bind(1, std::string_view(key)).bind(2, value);
    st.run();
}

std::string percent(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, v < 0.1 ? "%.1f %%" : "%.0f %%", v * 100);
    return b;
}

std::string number(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return b;
}

} // namespace

// ---- Rules ----------------------------------------------------------------------------------------

std::string AlertRules::toJson() const
{
    return json {{"incidents", incidents},
                 {"incident_min_bounces", incidentMinBounces},
                 {"incident_factor", incidentFactor},
                 {"rates", rates},
                 {"warn_rate", warnRate},
                 {"act_rate", actRate},
                 {"min_sent", minSent},
                 {"auth_share", authShare},
                 {"auth_share_jump", authShareJump},
                 {"auth_min_bounces", authMinBounces},
                 {"window_hours", windowHours},
                 {"listings", listings},
                 {"hook", hook}}
        .dump(2);
}

AlertRules AlertRules::fromJson(const std::string& text)
{
    AlertRules r;
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw std::invalid_argument(std::string("alert rules are not JSON: ") + e.what());
    }
    if (!j.is_object())
        throw std::invalid_argument("alert rules must be a JSON object");
    for (const auto& [key, value] : j.items()) {
        // The key by name, not the binding: clang 14 (the fuzz preset's compiler) cannot capture
        // a structured binding.
        auto want = [&name = key](bool ok, const char* what) {
            if (!ok)
                throw std::invalid_argument("alert rules: \"" + name + "\" must be " + what);
        };
        if (key == "incidents" || key == "rates" || key == "auth_share" || key == "listings") {
            want(value.is_boolean(), "true or false");
            (key == "incidents"        ? r.incidents
                 : key == "rates"      ? r.rates
                 : key == "auth_share" ? r.authShare
                                       : r.listings)
                = value.get<bool>();
        } else if (key == "incident_min_bounces" || key == "min_sent" || key == "auth_min_bounces"
                   || key == "window_hours") {
            want(value.is_number_integer() && value.get<std::int64_t>() > 0, "a whole number above 0");
            const auto v = value.get<std::int64_t>();
            if (key == "incident_min_bounces")
                r.incidentMinBounces = v;
            else if (key == "min_sent")
                r.minSent = v;
            else if (key == "auth_min_bounces")
                r.authMinBounces = v;
            else
                r.windowHours = static_cast<int>(std::min<std::int64_t>(v, 24 * 366));
        } else if (key == "incident_factor") {
            want(value.is_number() && value.get<double>() > 1, "a number above 1");
            r.incidentFactor = value.get<double>();
        } else if (key == "warn_rate" || key == "act_rate" || key == "auth_share_jump") {
            want(value.is_number() && value.get<double>() > 0 && value.get<double>() < 1,
                 "a fraction between 0 and 1 (0.01 = 1 %)");
            (key == "warn_rate" ? r.warnRate : key == "act_rate" ? r.actRate : r.authShareJump) = value.get<double>();
        } else if (key == "hook") {
            want(value.is_string(), "a command (a string)");
            r.hook = value.get<std::string>();
        } else {
            throw std::invalid_argument("alert rules: \"" + key + "\" is not a rule setting");
        }
    }
    if (r.warnRate >= r.actRate)
        throw std::invalid_argument("alert rules: warn_rate must be below act_rate");
    return r;
}

AlertRules AlertRules::load(Workspace& ws)
{
    if (ws.schemaVersion() < 8)
        return {};
    const std::string saved = setting(ws, kRulesKey);
    if (saved.empty())
        return {};
    try {
        return fromJson(saved);
    } catch (const std::invalid_argument&) {
        return {}; // written by a later version with settings this one does not know
    }
}

void AlertRules::save(Workspace& ws) const
{
    setSetting(ws, kRulesKey, toJson());
}

// ---- Raising --------------------------------------------------------------------------------------

namespace
{

Alert rowAlert(const sql::Statement& st)
{
    Alert a;
    a.id = st.int64(0);
    a.raised = st.text(1);
    a.rule = st.text(2);
    a.subject = st.text(3);
    a.mark = st.text(4);
    a.severity = st.text(5);
    a.title = st.text(6);
    a.detail = st.text(7);
    a.payload = st.text(8);
    a.baseline = st.int64(9) != 0;
    a.acknowledged = st.isNull(10) ? std::string() : st.text(10);
    a.delivered = st.isNull(11) ? std::string() : st.text(11);
    return a;
}

constexpr const char* kAlertColumns
    = "id, raised, rule, subject, mark, severity, title, detail, payload, baseline, acknowledged, delivered";

/// What the rules find now, each alert complete but for its id and time.
std::vector<Alert> findAlerts(Workspace& ws, const AlertRules& rules)
{
    std::vector<Alert> out;
    auto add = [&](std::string rule, std::string subject, std::string mark, std::string severity, std::string title,
                   std::string detail, json facts) {
        Alert a;
        a.rule = std::move(rule);
        a.subject = std::move(subject);
        a.mark = std::move(mark);
        a.severity = std::move(severity);
        a.title = std::move(title);
        a.detail = std::move(detail);
        a.payload = facts.dump(); // completed with id and time in raiseAlert
        out.push_back(std::move(a));
    };
    if (rules.incidents)
        for (const auto by : {GroupBy::Provider, GroupBy::Ip})
            for (const auto& i : incidents(ws, by, true, rules.incidentMinBounces, rules.incidentFactor)) {
                if (i.key == "(none)" || i.key.empty())
                    continue; // bounces whose sending IP nothing gave are no one place
                const std::string who = by == GroupBy::Provider ? "provider" : "ip";
                std::string detail = std::to_string(i.bounces) + " " + i.family + " bounces from " + i.bucket
                    + ":00 (UTC) to " + i.end + ":59, where the hours before had "
                    + (i.baseline < 0.05 ? std::string("none") : number(i.baseline) + " an hour") + "; the worst hour "
                    + i.peak + ":00 with " + std::to_string(i.peakBounces);
                if (i.rate > 0)
                    detail += ", " + percent(i.rate) + " of that hour's traffic";
                if (!i.lifted.empty())
                    detail += "; deliveries again from " + i.lifted + ":00";
                add("incident", who + " " + i.key, i.family + " " + i.bucket, "warning",
                    (i.family == "reputation" || i.family == "policy" || i.family == "auth" ? "Block: " : "Spike: ")
                        + std::to_string(i.bounces) + " " + i.family + " bounces at " + i.key,
                    detail,
                    {{"group_by", who},
                     {"key", i.key},
                     {"family", i.family},
                     {"start", i.bucket},
                     {"end", i.end},
                     {"bounces", i.bounces},
                     {"baseline", i.baseline},
                     {"peak", i.peak},
                     {"peak_bounces", i.peakBounces},
                     {"lifted", i.lifted}});
            }
    // The window: the last `windowHours` of the workspace's own time (its newest event), so a
    // workspace of last month's exports is judged on its own last day, not on today.
    std::string from, to, before;
    {
        auto st = ws.db().prepare("SELECT MAX(timestamp), strftime('%Y-%m-%dT%H:%M:%SZ', MAX(timestamp), ?), "
                                  "strftime('%Y-%m-%dT%H:%M:%SZ', MAX(timestamp), ?) FROM events");
        st.bind(1, std::to_string(-rules.windowHours) + " hours")
            .bind(2, std::to_string(-(rules.windowHours + 24 * 7)) + " hours");
        if (!st.step() || st.isNull(0))
            return out;
        to = st.text(0);
        from = st.text(1);
        before = st.text(2);
    }
    const std::string day = to.substr(0, 10);
    if (rules.rates) {
        EventFilter window;
        window.from = from;
        for (const auto& g : groupReport(ws, GroupBy::Provider, window)) {
            if (g.rateBasis != "sent" || g.sent < rules.minSent || g.key == "(none)")
                continue;
            const bool act = g.rate >= rules.actRate;
            if (!act && g.rate < rules.warnRate)
                continue;
            const double threshold = act ? rules.actRate : rules.warnRate;
            add("rate", "provider " + g.key, percent(threshold) + " " + day, act ? "critical" : "warning",
                "Bounce rate " + percent(g.rate) + " at " + g.key + " (over " + percent(threshold) + ")",
                std::to_string(g.rateBounces) + " bounces of " + std::to_string(g.sent) + " messages sent in the "
                    + std::to_string(rules.windowHours) + " hours to " + to,
                {{"provider", g.key},
                 {"rate", g.rate},
                 {"threshold", threshold},
                 {"bounces", g.rateBounces},
                 {"sent", g.sent},
                 {"from", from},
                 {"to", to}});
        }
    }
    if (rules.authShare) {
        auto st = ws.db().prepare(
            "SELECT SUM(timestamp >= ?1 AND family = 'auth'), SUM(timestamp >= ?1), SUM(timestamp < ?1 AND family = "
            "'auth'), SUM(timestamp < ?1) FROM events WHERE event_type = 'bounce' AND timestamp >= ?2");
        st.bind(1, from).bind(2, before);
        if (st.step()) {
            const auto nowAuth = st.int64(0), nowAll = st.int64(1), wasAuth = st.int64(2), wasAll = st.int64(3);
            const double shareNow = nowAll ? double(nowAuth) / double(nowAll) : 0;
            const double shareWas = wasAll ? double(wasAuth) / double(wasAll) : 0;
            if (nowAuth >= rules.authMinBounces && wasAll > 0 && shareNow - shareWas >= rules.authShareJump)
                add("auth_share", "workspace", day, "warning",
                    "Authentication bounces up to " + percent(shareNow) + " of bounces (from " + percent(shareWas)
                        + ")",
                    std::to_string(nowAuth) + " of " + std::to_string(nowAll) + " bounces in the "
                        + std::to_string(rules.windowHours) + " hours to " + to
                        + " are auth (SPF, DKIM, DMARC), against " + std::to_string(wasAuth) + " of "
                        + std::to_string(wasAll) + " the week before",
                    {{"share", shareNow},
                     {"share_before", shareWas},
                     {"auth_bounces", nowAuth},
                     {"bounces", nowAll},
                     {"from", from},
                     {"to", to}});
        }
    }
    return out;
}

} // namespace

bool raiseAlert(Workspace& ws, Alert& a)
{
    if (a.raised.empty())
        a.raised = nowUtc();
    json payload = json::parse(a.payload.empty() ? "{}" : a.payload, nullptr, false);
    if (!payload.is_object())
        payload = json::object();
    auto st = ws.db().prepare("INSERT OR IGNORE INTO alerts (raised, rule, subject, mark, severity, title, detail, "
                              "payload, baseline) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?)");
    st.bind(1, a.raised)
        .bind(2, a.rule)
        .bind(3, a.subject)
        .bind(4, a.mark)
        .bind(5, a.severity)
        .bind(6, a.title)
        .bind(7, a.detail)
        .bind(8, a.baseline ? 1 : 0);
    st.run();
    if (ws.db().changes() == 0)
        return false;
    a.id = ws.db().lastInsertId();
    a.payload = alertJson(a); // id and time known now; the rule's own facts under "facts"
    json whole = json::parse(a.payload);
    whole["facts"] = payload;
    a.payload = whole.dump();
    auto up = ws.db().prepare("UPDATE alerts SET payload = ? WHERE id = ?");
    up.bind(1, a.payload).bind(2, a.id);
    up.run();
    return true;
}

void takeAlertBaseline(Workspace& ws, const AlertRules& rules)
{
    if (!setting(ws, kBaselineKey).empty())
        return;
    sql::Transaction tx(ws.db());
    for (auto& a : findAlerts(ws, rules)) {
        a.baseline = true;
        raiseAlert(ws, a);
    }
    setSetting(ws, kBaselineKey, nowUtc());
    tx.commit();
}

std::vector<Alert> evaluateAlerts(Workspace& ws, const AlertRules& rules)
{
    if (setting(ws, kBaselineKey).empty()) {
        takeAlertBaseline(ws, rules);
        return {};
    }
    std::vector<Alert> raised;
    auto found = findAlerts(ws, rules);
    sql::Transaction tx(ws.db());
    for (auto& a : found)
        if (raiseAlert(ws, a))
            raised.push_back(std::move(a));
    tx.commit();
    return raised;
}

std::vector<Alert> alertHistory(Workspace& ws, bool open, int limit)
{
    std::vector<Alert> out;
    if (ws.schemaVersion() < 8)
        return out;
    auto st = ws.db().prepare(std::string("SELECT ") + kAlertColumns + " FROM alerts WHERE baseline = 0"
                              + (open ? " AND acknowledged IS NULL" : "") + " ORDER BY raised DESC, id DESC LIMIT ?");
    st.bind(1, limit);
    while (st.step())
        out.push_back(rowAlert(st));
    return out;
}

int acknowledgeAlerts(Workspace& ws, const std::string& idOrAll)
{
    if (idOrAll == "all") {
        auto st = ws.db().prepare("UPDATE alerts SET acknowledged = ? WHERE acknowledged IS NULL AND baseline = 0");
        st.bind(1, nowUtc());
        st.run();
        return ws.db().changes();
    }
    std::int64_t id = 0;
    try {
        std::size_t used = 0;
        id = std::stoll(idOrAll, &used);
        if (used != idOrAll.size())
            return 0;
    } catch (const std::exception&) {
        return 0;
    }
    auto st = ws.db().prepare("UPDATE alerts SET acknowledged = ? WHERE id = ? AND acknowledged IS NULL");
    st.bind(1, nowUtc()).bind(2, id);
    st.run();
    return ws.db().changes();
}

void recordDelivery(Workspace& ws, std::int64_t id, const std::string& how, const std::string& outcome)
{
    auto st = ws.db().prepare("UPDATE alerts SET delivered = json_set(COALESCE(delivered, '{}'), ?, ?) WHERE id = ?");
    st.bind(1, "$." + how).bind(2, outcome).bind(3, id);
    st.run();
}

std::string alertJson(const Alert& a)
{
    json j {{"id", a.id},           {"raised", a.raised},     {"rule", a.rule},
            {"subject", a.subject}, {"severity", a.severity}, {"title", a.title},
            {"detail", a.detail}};
    if (!a.acknowledged.empty())
        j["acknowledged"] = a.acknowledged;
    // The rule's own facts, once raised.
    const json stored = json::parse(a.payload.empty() ? "{}" : a.payload, nullptr, false);
    if (stored.is_object() && stored.contains("facts"))
        j["facts"] = stored["facts"];
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string runAlertHook(const std::string& command, const Alert& alert, int timeoutSeconds)
{
    int in[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0)
        return std::string("cannot make a pipe: ") + std::strerror(errno);
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(in[0]);
        ::close(in[1]);
        return std::string("cannot make a pipe: ") + std::strerror(errno);
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        for (const int fd : {in[0], in[1], err[0], err[1]})
            ::close(fd);
        return std::string("cannot start it: ") + std::strerror(errno);
    }
    if (pid == 0) {
        // Its own process group, so a timeout kills what it started too.
        ::setpgid(0, 0);
        ::dup2(in[0], 0);
        ::dup2(err[1], 2);
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(err[1]);
    // A hook that exits without reading must not kill us with SIGPIPE.
    struct sigaction ignore {
    }, old {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);
    const std::string data = alertJson(alert) + "\n";
    std::size_t written = 0;
    while (written < data.size()) {
        const auto n = ::write(in[1], data.data() + written, data.size() - written);
        if (n <= 0)
            break;
        written += static_cast<std::size_t>(n);
    }
    ::close(in[1]);
    ::sigaction(SIGPIPE, &old, nullptr);
    // Its error output (the first KB, for the message) until it ends or the time is up.
    std::string errors;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    int status = 0;
    bool done = false, timedOut = false;
    for (;;) {
        const auto left
            = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
                  .count();
        if (left <= 0) {
            timedOut = true;
            break;
        }
        pollfd p {err[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
        if (ready > 0) {
            char buf[512];
            const auto n = ::read(err[0], buf, sizeof buf);
            if (n > 0 && errors.size() < 1024)
                errors.append(buf, static_cast<std::size_t>(n));
        }
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            done = true;
            break;
        }
    }
    ::close(err[0]);
    if (timedOut && !done) {
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return "killed after " + std::to_string(timeoutSeconds) + " s";
    }
    if (const auto nl = errors.find('\n'); nl != std::string::npos)
        errors.erase(nl);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "ended by signal " + std::to_string(WTERMSIG(status));
    if (!errors.empty())
        why += ": " + errors;
    return why;
}

} // namespace bt
