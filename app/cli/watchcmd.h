// SPDX-License-Identifier: MIT
// bouncetriage-cli's watching commands: source (add, list, remove, pause, resume), watch, alerts
// and monitor. Parsing and printing only; the work is core/watch, core/alerts, core/monitor.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace bt
{
class Classifier;
class KnowledgeBase;
} // namespace bt

struct WatchCommands {
    CLI::App* source = nullptr;
    CLI::App* sourceAdd = nullptr;
    CLI::App* sourceList = nullptr;
    CLI::App* sourceRemove = nullptr;
    CLI::App* sourcePause = nullptr;
    CLI::App* sourceResume = nullptr;
    CLI::App* watch = nullptr;
    CLI::App* alerts = nullptr;
    CLI::App* monitor = nullptr;

    std::string workspace;
    std::string uri; ///< source add
    std::string options = "{}"; ///< source add --options
    std::string which; ///< source remove/pause/resume: id or URI
    bool json = false;
    // watch
    bool once = false;
    int interval = 60; ///< seconds between looks
    int monitorMinutes = 360; ///< blocklist checks of a name at most this often
    std::string dnsServer;
    std::string passwordEnv = "BOUNCETRIAGE_IMAP_PASSWORD";
    bool noMonitor = false;
    // alerts
    bool open = false;
    std::string ack;
    std::string rulesFile;
    bool showRules = false;
    // monitor
    std::vector<std::string> monitorAdd, monitorRemove;
    bool fromEvents = false, check = false, history = false;
    std::vector<std::string> zones;

    bool any() const;
};

/// Adds the commands to `app`; the options land in `c`.
void addWatchCommands(CLI::App& app, WatchCommands& c);
/// Runs the one given (any() is true): source, alerts and monitor need no classifier.
int runWatchCommands(WatchCommands& c, const bt::Classifier* classifier,
                     const std::shared_ptr<const bt::KnowledgeBase>& kb);
/// True when the command given needs the rules loaded (watch imports).
bool watchNeedsClassifier(const WatchCommands& c);
