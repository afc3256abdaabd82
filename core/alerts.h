// SPDX-License-Identifier: MIT
// Alerts: what the workspace's numbers say that someone should hear about without asking — a new
// incident span at a provider or sending IP, a provider's bounce rate crossing 1 % or 3 % of what
// was sent, the share of authentication bounces jumping, a sending IP or domain newly listed on a
// blocklist. Each alert is raised once (rule, subject and mark are unique), kept with its history
// and acknowledgement (table alerts, schema step 8), and announced by the caller: the watcher
// runs the hook command, the window shows a desktop notification.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bt
{

class Workspace;

/// The rules, with defaults that suit a sender of a few thousand messages a day; kept in the
/// workspace (settings "alerts.rules") so the window and `watch` on a server share them.
struct AlertRules {
    bool incidents = true; ///< a new incident span (bt::incidents, hour by hour)
    std::int64_t incidentMinBounces = 5;
    double incidentFactor = 3.0;
    bool rates = true; ///< a provider's bounce rate over the last `windowHours`, on what was sent
    double warnRate = 0.01, actRate = 0.03;
    std::int64_t minSent = 100; ///< fewer messages sent to a provider in the window: no rate alert
    bool authShare = true; ///< the auth family's share of bounces, last window against the week before
    double authShareJump = 0.20; ///< rise of the share (0.20 = 20 points)
    std::int64_t authMinBounces = 10; ///< auth bounces in the window at least
    int windowHours = 24; ///< ends at the newest event
    bool listings = true; ///< a monitored IP or domain newly listed (bt::checkListings)
    /// A command run by /bin/sh for each new alert, the alert's JSON on its standard input
    /// (forwarding to chat or a pager); empty: none.
    std::string hook;

    static AlertRules load(Workspace& ws); ///< the defaults when none were saved
    void save(Workspace& ws) const;
    std::string toJson() const;
    /// Throws std::invalid_argument naming the key that is wrong.
    static AlertRules fromJson(const std::string& json);
};

struct Alert {
    std::int64_t id = 0;
    std::string raised; ///< ISO UTC
    std::string rule; ///< incident, rate, auth_share, listed
    std::string subject; ///< "provider Gmail", "ip 192.0.2.1", "domain example.com", "workspace"
    std::string mark; ///< what makes it this alert and not the next one of the same rule and subject
    std::string severity; ///< info, warning, critical
    std::string title; ///< one line for a notification
    std::string detail; ///< the numbers behind it
    std::string payload; ///< the JSON the hook receives
    bool baseline = false; ///< already true when watching began: recorded, not announced
    std::string acknowledged; ///< ISO UTC, empty while not
    std::string delivered; ///< JSON: how each announcement went
};

/// Raises the alerts the rules find now and were not raised before; returns the new ones in the
/// order raised. The first evaluation of a workspace (none recorded yet: see takeAlertBaseline)
/// records what it finds as the baseline and returns nothing: what was already true when
/// watching began is history, not news.
std::vector<Alert> evaluateAlerts(Workspace& ws, const AlertRules& rules);
/// Records what the rules find now as the baseline (never announced), unless a baseline was
/// taken before. `watch` and `source add` call it so that only later arrivals alert.
void takeAlertBaseline(Workspace& ws, const AlertRules& rules);
/// Raises one alert unless it was raised before (same rule, subject and mark): true when new.
/// The checks (blocklist monitoring) raise theirs through it.
bool raiseAlert(Workspace& ws, Alert& alert);

/// Alerts newest first; `open`: only those not acknowledged. Baseline alerts are left out.
std::vector<Alert> alertHistory(Workspace& ws, bool open = false, int limit = 500);
/// Marks an alert acknowledged ("all": every open one). Returns how many changed.
int acknowledgeAlerts(Workspace& ws, const std::string& idOrAll);
/// Records how announcing went ({"hook": "ok"}, {"notification": "no notification service"}).
void recordDelivery(Workspace& ws, std::int64_t id, const std::string& how, const std::string& outcome);

/// The alert as the hook command and `alerts --json` give it.
std::string alertJson(const Alert& alert);

/// Runs `command` with /bin/sh -c, the alert's JSON on its standard input, for at most
/// `timeoutSeconds` (then killed). Returns "" when it exited 0, else what went wrong
/// ("exit status 2: <first line of its stderr>", "killed after 10 s").
std::string runAlertHook(const std::string& command, const Alert& alert, int timeoutSeconds = 10);

} // namespace bt
