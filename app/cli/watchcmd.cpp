// SPDX-License-Identifier: MIT
#include "watchcmd.h"

#include "alerts.h"
#include "checks.h"
#include "classifier.h"
#include "monitor.h"
#include "textsafety.h"
#include "watch.h"
#include "workspace.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <termios.h>
#include <thread>
#include <unistd.h>

namespace
{

constexpr int kExitOk = 0;
constexpr int kExitNothingDone = 1;
constexpr int kExitBadInput = 2;

int fail(const std::string& message, int code = kExitBadInput)
{
    std::cerr << "bouncetriage-cli: " << bt::escapeControls(message) << "\n";
    return code;
}

std::string safe(std::string_view s)
{
    return bt::escapeControls(s);
}

std::atomic<bool> g_stop {false};

void onSignal(int)
{
    g_stop = true;
}

/// A password typed at the terminal without echo; empty when there is no terminal.
std::string askPassword(const std::string& prompt)
{
    if (!::isatty(0))
        return {};
    std::cerr << prompt << std::flush;
    termios old {};
    const bool restore = ::tcgetattr(0, &old) == 0;
    if (restore) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(0, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (restore)
        ::tcsetattr(0, TCSANOW, &old);
    std::cerr << "\n";
    return line;
}

std::string countsText(const bt::ImportCounts& c)
{
    return "read " + std::to_string(c.read) + ", imported " + std::to_string(c.imported) + ", rejected "
        + std::to_string(c.rejected) + ", duplicate " + std::to_string(c.duplicate);
}

nlohmann::json sourceJson(const bt::WatchSource& s)
{
    return {{"id", s.id},
            {"uri", s.uri},
            {"kind", s.kind},
            {"added", s.added},
            {"paused", s.paused},
            {"options", nlohmann::json::parse(s.options, nullptr, false)},
            {"last_checked", s.lastChecked},
            {"last_read", s.lastRead},
            {"last_error", s.lastError},
            {"failures", s.failures},
            {"items", s.items},
            {"events", s.events}};
}

int runSource(WatchCommands& c)
{
    bt::Workspace ws(c.workspace);
    if (*c.sourceAdd) {
        const auto id = bt::addSource(ws, c.uri, c.options);
        const auto s = bt::findSource(ws, std::to_string(id));
        // Alerts start from here: what is already in the workspace is not news.
        bt::takeAlertBaseline(ws, bt::AlertRules::load(ws));
        if (c.json)
            std::cout << sourceJson(*s).dump() << "\n";
        else
            std::cout << "source " << id << ": " << safe(s->uri) << " (read by `bouncetriage-cli watch --workspace "
                      << safe(c.workspace) << "`)\n";
        return kExitOk;
    }
    if (*c.sourceRemove || *c.sourcePause || *c.sourceResume) {
        const bool ok
            = *c.sourceRemove ? bt::removeSource(ws, c.which) : bt::pauseSource(ws, c.which, bool(*c.sourcePause));
        if (!ok)
            return fail(c.which + ": no such source in " + c.workspace + " (bouncetriage-cli source list)");
        std::cout << safe(c.which) << ": "
                  << (*c.sourceRemove      ? "removed"
                          : *c.sourcePause ? "paused"
                                           : "resumed")
                  << "\n";
        return kExitOk;
    }
    const auto sources = bt::watchSources(ws);
    for (const auto& s : sources) {
        if (c.json) {
            std::cout << sourceJson(s).dump() << "\n";
            continue;
        }
        std::cout << s.id << "  " << safe(s.uri) << (s.paused ? "  [paused]" : "") << "\n     last read "
                  << (s.lastRead.empty() ? "never" : s.lastRead) << ", last checked "
                  << (s.lastChecked.empty() ? "never" : s.lastChecked) << "; " << s.items << " items, " << s.events
                  << " events\n";
        if (!s.lastError.empty())
            std::cout << "     error (" << s.failures << " in a row): " << safe(s.lastError) << "\n";
    }
    if (sources.empty() && !c.json)
        std::cout << "no sources: bouncetriage-cli source add --workspace " << safe(c.workspace)
                  << " maildir:/path | folder:/path | log:/var/log/mail.log | imaps://user@host/INBOX\n";
    return kExitOk;
}

void announce(bt::Workspace& ws, const bt::AlertRules& rules, bt::Alert& a, bool json)
{
    if (json)
        std::cout << bt::alertJson(a) << "\n";
    else
        std::cout << "ALERT [" << a.severity << "] " << safe(a.title) << "\n      " << safe(a.detail) << "\n";
    if (!rules.hook.empty()) {
        const std::string why = bt::runAlertHook(rules.hook, a);
        bt::recordDelivery(ws, a.id, "hook", why.empty() ? "ok" : why);
        if (!why.empty())
            std::cerr << "bouncetriage-cli: alert hook failed (" << safe(why) << ")\n";
    }
}

/// How `watch` and `monitor --check` ask the blocklists: the resolver and zones given.
bt::CheckOptions monitorOptions(const WatchCommands& c, const std::shared_ptr<const bt::KnowledgeBase>& kb)
{
    bt::CheckOptions o;
    o.dnsServer = c.dnsServer;
    o.knowledge = kb;
    o.blocklistZones = c.zones;
    return o;
}

int runWatch(WatchCommands& c, const bt::Classifier& classifier, const std::shared_ptr<const bt::KnowledgeBase>& kb)
{
    bt::Workspace ws(c.workspace);
    if (bt::watchSources(ws).empty() && c.noMonitor)
        return fail(c.workspace + ": no sources to watch (bouncetriage-cli source add)", kExitNothingDone);
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const bt::AlertRules rules = bt::AlertRules::load(ws);
    bt::takeAlertBaseline(ws, rules);
    std::map<std::int64_t, std::string> passwords; // asked once per run
    bt::WatchOptions options;
    options.password = [&](const bt::WatchSource& s) {
        if (const char* env = std::getenv(c.passwordEnv.c_str()); env && *env)
            return std::string(env);
        auto it = passwords.find(s.id);
        if (it == passwords.end())
            it = passwords.emplace(s.id, askPassword("Password for " + s.uri + ": ")).first;
        return it->second;
    };
    const bt::CheckOptions checkOptions = monitorOptions(c, kb);
    // A source that failed is tried again after 1, 2, 4 … looks' time, at most 30 minutes.
    std::map<std::int64_t, std::chrono::steady_clock::time_point> retryAt;
    int failed = 0;
    bool pendingAlerts = false;
    std::chrono::steady_clock::time_point lastAlerts {};
    do {
        failed = 0;
        const auto now = std::chrono::steady_clock::now();
        std::int64_t imported = 0;
        bool settling = false; // a folder's file too fresh to read: look again in a few seconds
        for (const auto& s : bt::watchSources(ws)) {
            if (s.paused)
                continue;
            if (!c.once)
                if (const auto it = retryAt.find(s.id); it != retryAt.end() && it->second > now)
                    continue;
            const auto r = bt::readSource(ws, classifier, s, options);
            imported += r.counts.imported;
            settling = settling || r.settling > 0;
            if (!r.error.empty()) {
                ++failed;
                const int n = std::min(s.failures + 1, 5);
                retryAt[s.id] = now + std::min(std::chrono::seconds(c.interval) * (1 << n), std::chrono::seconds(1800));
                std::cerr << "bouncetriage-cli: " << safe(s.uri) << ": " << safe(r.error) << "\n";
            } else {
                retryAt.erase(s.id);
            }
            if (c.json) {
                nlohmann::json j {{"source", r.uri},
                                  {"items", r.items},
                                  {"read", r.counts.read},
                                  {"imported", r.counts.imported},
                                  {"rejected", r.counts.rejected},
                                  {"duplicate", r.counts.duplicate}};
                if (!r.error.empty())
                    j["error"] = r.error;
                if (!r.note.empty())
                    j["note"] = r.note;
                std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            } else if (r.items > 0 || !r.note.empty()) {
                std::cout << safe(r.uri) << ": " << r.items << " new (" << countsText(r.counts) << ")\n";
                if (!r.note.empty())
                    std::cout << "      " << safe(r.note) << "\n";
            }
        }
        std::vector<bt::Alert> raised;
        if (!c.noMonitor) {
            bt::monitorFromEvents(ws);
            for (const auto& ch : bt::checkListings(ws, checkOptions, c.monitorMinutes, rules, &raised))
                if (!c.json)
                    std::cout << safe(ch.name) << (ch.listed ? " listed on " : " delisted from ") << safe(ch.list)
                              << "\n";
        }
        for (auto& a : raised)
            announce(ws, rules, a, c.json);
        // The rules walk the whole workspace (about a second at a million events): after new
        // events, but at most once a minute while a busy log keeps bringing lines.
        pendingAlerts = pendingAlerts || imported > 0;
        if (pendingAlerts && (c.once || now - lastAlerts >= std::chrono::seconds(60))) {
            for (auto& a : bt::evaluateAlerts(ws, rules))
                announce(ws, rules, a, c.json);
            pendingAlerts = false;
            lastAlerts = now;
        }
        std::cout << std::flush;
        if (c.once)
            break;
        // Until the interval is up or something arrives in a maildir, folder or log (inotify),
        // waking every few hundred milliseconds to see whether a signal asked to stop.
        bt::ChangeWaiter changes(bt::changePaths(bt::watchSources(ws)));
        const auto until
            = std::chrono::steady_clock::now() + std::chrono::seconds(settling ? std::min(c.interval, 3) : c.interval);
        while (!g_stop && std::chrono::steady_clock::now() < until)
            if (changes.watched() ? changes.wait(250)
                                  : (std::this_thread::sleep_for(std::chrono::milliseconds(250)), false))
                break;
    } while (!g_stop);
    // --once says whether every source could be read; a watch stopped by a signal ended as asked.
    return c.once && failed ? kExitBadInput : kExitOk;
}

int runAlerts(WatchCommands& c)
{
    bt::Workspace ws(c.workspace);
    if (!c.rulesFile.empty()) {
        std::ifstream in(c.rulesFile);
        if (!in)
            return fail(c.rulesFile + ": cannot be read");
        std::stringstream ss;
        ss << in.rdbuf();
        try {
            bt::AlertRules::fromJson(ss.str()).save(ws);
        } catch (const std::invalid_argument& e) {
            return fail(c.rulesFile + ": " + e.what());
        }
    }
    if (c.showRules || !c.rulesFile.empty()) {
        std::cout << bt::AlertRules::load(ws).toJson() << "\n";
        return kExitOk;
    }
    if (!c.ack.empty()) {
        const int n = bt::acknowledgeAlerts(ws, c.ack);
        if (n == 0 && c.ack != "all")
            return fail("alert " + c.ack + ": no such open alert");
        std::cout << n << " alert" << (n == 1 ? "" : "s") << " acknowledged\n";
        return kExitOk;
    }
    for (const auto& a : bt::alertHistory(ws, c.open)) {
        if (c.json) {
            std::cout << bt::alertJson(a) << "\n";
            continue;
        }
        std::cout << a.id << "  " << a.raised << "  [" << a.severity << "] " << safe(a.title)
                  << (a.acknowledged.empty() ? "" : "  (acknowledged " + a.acknowledged + ")") << "\n      "
                  << safe(a.detail) << "\n";
    }
    return kExitOk;
}

int runMonitor(WatchCommands& c, const std::shared_ptr<const bt::KnowledgeBase>& kb)
{
    bt::Workspace ws(c.workspace);
    for (const auto& n : c.monitorAdd)
        try {
            bt::addMonitored(ws, n);
        } catch (const std::invalid_argument& e) {
            return fail(e.what());
        }
    for (const auto& n : c.monitorRemove)
        if (!bt::removeMonitored(ws, n))
            return fail(n + ": not monitored");
    if (c.fromEvents)
        std::cout << bt::monitorFromEvents(ws) << " names added from the events\n";
    if (c.check) {
        const bt::CheckOptions o = monitorOptions(c, kb);
        std::vector<bt::Alert> raised;
        const bt::AlertRules rules = bt::AlertRules::load(ws);
        for (const auto& ch : bt::checkListings(ws, o, 0, rules, &raised))
            std::cout << safe(ch.name) << (ch.listed ? " listed on " : " delisted from ") << safe(ch.list)
                      << (ch.answer.empty() ? "" : ": " + safe(ch.answer)) << "\n";
        for (auto& a : raised)
            announce(ws, rules, a, c.json);
    }
    if (c.history) {
        for (const auto& e : bt::listingEntries(ws)) {
            if (c.json)
                std::cout << nlohmann::json {{"at", e.at},
                                             {"name", e.name},
                                             {"zone", e.zone},
                                             {"change", e.listed ? "listed" : "delisted"},
                                             {"answer", e.answer}}
                                 .dump()
                          << "\n";
            else
                std::cout << e.at << "  " << safe(e.name) << (e.listed ? "  listed on " : "  delisted from ")
                          << safe(e.zone) << (e.answer.empty() ? "" : ": " + safe(e.answer)) << "\n";
        }
        return kExitOk;
    }
    for (const auto& m : bt::monitoredNames(ws)) {
        if (c.json) {
            std::cout << nlohmann::json {{"name", m.name},
                                         {"kind", m.kind},
                                         {"origin", m.origin},
                                         {"added", m.added},
                                         {"last_checked", m.lastChecked},
                                         {"listed_on", m.listedOn}}
                             .dump()
                      << "\n";
            continue;
        }
        std::string on;
        for (const auto& z : m.listedOn)
            on += (on.empty() ? "" : ", ") + z;
        std::cout << safe(m.name) << "  (" << m.kind << ", " << m.origin << ")  last checked "
                  << (m.lastChecked.empty() ? "never" : m.lastChecked) << (on.empty() ? "" : "  LISTED on " + safe(on))
                  << "\n";
    }
    return kExitOk;
}

} // namespace

bool WatchCommands::any() const
{
    return (source && *source) || (watch && *watch) || (alerts && *alerts) || (monitor && *monitor);
}

bool watchNeedsClassifier(const WatchCommands& c)
{
    return c.watch && *c.watch;
}

void addWatchCommands(CLI::App& app, WatchCommands& c)
{
    c.source = app.add_subcommand("source", "Watched sources of a workspace: where bounces arrive by themselves");
    c.source->require_subcommand(1);
    c.sourceAdd = c.source->add_subcommand(
        "add",
        "Watch a source: maildir:/path, folder:/path, log:/var/log/mail.log (Postfix or Exim, followed "
        "across rotation), imap://user@host[:port]/Mailbox (STARTTLS) or imaps://user@host[:port]/Mailbox");
    c.sourceList = c.source->add_subcommand("list", "The sources, where reading stopped and how the last look went");
    c.sourceRemove = c.source->add_subcommand("remove", "Stop watching a source (its events stay)");
    c.sourcePause = c.source->add_subcommand("pause", "Pause a source");
    c.sourceResume = c.source->add_subcommand("resume", "Resume a paused source");
    for (auto* sub : {c.sourceAdd, c.sourceList, c.sourceRemove, c.sourcePause, c.sourceResume}) {
        sub->add_option("--workspace", c.workspace, "Workspace file (created if missing)")->required();
        sub->add_flag("--json", c.json, "JSON Lines");
    }
    c.sourceAdd->add_option("uri", c.uri, "The source")->required();
    c.sourceAdd->add_option("--options", c.options,
                            "JSON object: {\"move_to\": \"Processed\"} moves read IMAP messages to that folder");
    for (auto* sub : {c.sourceRemove, c.sourcePause, c.sourceResume})
        sub->add_option("source", c.which, "Its id or URI (source list)")->required();

    c.watch
        = app.add_subcommand("watch",
                             "Read what is new in the workspace's sources, check its sending IPs and domains on the "
                             "blocklists when due, raise alerts (to standard output and the alert hook); repeat until "
                             "interrupted, or once with --once");
    c.watch->add_option("--workspace", c.workspace, "Workspace file")->required();
    c.watch->add_flag("--once", c.once, "Read what is new, check what is due, and exit (for cron or a timer)");
    c.watch->add_option("--interval", c.interval, "Seconds between looks")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    c.watch
        ->add_option("--monitor-minutes", c.monitorMinutes,
                     "Check each monitored IP and domain on the blocklists at most this often")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    c.watch->add_flag("--no-monitor", c.noMonitor, "No blocklist monitoring");
    c.watch->add_option("--dns-server", c.dnsServer, "Resolver for the blocklists, HOST or HOST:PORT");
    c.watch->add_option("--blocklist", c.zones, "Monitor only this blocklist zone (repeatable)");
    c.watch
        ->add_option("--password-env", c.passwordEnv,
                     "Environment variable holding the IMAP password (else it is asked for once per run)")
        ->capture_default_str();
    c.watch->add_flag("--json", c.json, "JSON Lines: one per source looked at, one per alert");

    c.alerts = app.add_subcommand("alerts",
                                  "Alerts raised in a workspace, newest first; acknowledge them; set the "
                                  "rules and the hook command");
    c.alerts->add_option("--workspace", c.workspace, "Workspace file")->required();
    c.alerts->add_flag("--open", c.open, "Only alerts not acknowledged");
    c.alerts->add_option("--ack", c.ack, "Acknowledge an alert (its id) or all");
    c.alerts
        ->add_option("--set-rules", c.rulesFile,
                     "Save the rules from a JSON file (keys as --show-rules prints them; \"hook\": a command "
                     "that receives each new alert as JSON on standard input)")
        ->check(CLI::ExistingFile);
    c.alerts->add_flag("--show-rules", c.showRules, "Print the rules in force");
    c.alerts->add_flag("--json", c.json, "JSON Lines");

    c.monitor = app.add_subcommand("monitor",
                                   "Sending IPs and domains checked on the blocklists by `watch`: list, "
                                   "add, remove, check now, listing history");
    c.monitor->add_option("--workspace", c.workspace, "Workspace file")->required();
    c.monitor->add_option("--add", c.monitorAdd, "Monitor this IP or domain (repeatable)");
    c.monitor->add_option("--remove", c.monitorRemove, "Stop monitoring it (repeatable)");
    c.monitor->add_flag("--from-events", c.fromEvents, "Monitor the most frequent sending IPs and From domains");
    c.monitor->add_flag("--check", c.check, "Check every monitored name now");
    c.monitor->add_flag("--history", c.history, "Print the listed and delisted times");
    c.monitor->add_option("--dns-server", c.dnsServer, "Resolver for the blocklists, HOST or HOST:PORT");
    c.monitor->add_option("--blocklist", c.zones, "Only this blocklist zone (repeatable)");
    c.monitor->add_flag("--json", c.json, "JSON Lines");
}

int runWatchCommands(WatchCommands& c, const bt::Classifier* classifier,
                     const std::shared_ptr<const bt::KnowledgeBase>& kb)
{
    try {
        if (*c.source)
            return runSource(c);
        if (*c.alerts)
            return runAlerts(c);
        if (*c.monitor)
            return runMonitor(c, kb);
        if (*c.watch && classifier)
            return runWatch(c, *classifier, kb);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    return fail("nothing to do");
}
