// SPDX-License-Identifier: MIT
// Blocklist monitoring: the workspace's sending IPs and domains (found in its events, or added
// by hand) checked on a schedule against the blocklists the checks use, with a history of
// listed and delisted times per list (tables monitored and listings, schema step 8). A new
// listing raises an alert (rule "listed"); delisting closes the period and is history only.
#pragma once

#include "alerts.h"
#include "checks.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bt
{

class Workspace;

struct MonitoredName {
    std::string name; ///< an IP or a domain, lower case
    std::string kind; ///< ip or domain
    std::string origin; ///< events or hand
    std::string added, lastChecked;
    std::vector<std::string> listedOn; ///< zones it is listed on now
};

/// One listed period of a name on a list.
struct Listing {
    std::int64_t id = 0;
    std::string name, zone;
    std::string listed; ///< ISO UTC: the check that first found it listed
    std::string delisted; ///< ISO UTC: the check that first found it gone; empty while listed
    std::string answer; ///< the list's answer and its meaning
};

/// Adds an IP or a domain by hand; throws std::invalid_argument when it is neither.
void addMonitored(Workspace& ws, const std::string& name);
bool removeMonitored(Workspace& ws, const std::string& name);
std::vector<MonitoredName> monitoredNames(Workspace& ws);
/// Adds the sending IPs and From domains of the workspace's events (the `max` most frequent of
/// each) that are not monitored yet; returns how many were added.
int monitorFromEvents(Workspace& ws, int max = 25);

struct ListingChange {
    std::string name, zone, list;
    bool listed = false; ///< true: newly listed; false: delisted
    std::string at, answer;
};

/// The most a blocklist check of one monitored name may take (CheckOptions::deadlineMs above it
/// is lowered to it).
inline constexpr int kListingDeadlineMs = 15000;

/// Checks every monitored name not checked in the last `intervalMinutes` (all when 0) on the
/// blocklists (options: server, zones, timeouts). A list that gives no trustworthy answer (a
/// timeout, a resolver the list refuses) changes nothing: only a clear "listed" opens a period
/// and only a clear "not listed" closes one. New listings raise alerts (when rules.listings),
/// returned in `raised`. When no list answers at all for a name (no network), the round stops
/// there: that name and the rest stay due.
std::vector<ListingChange> checkListings(Workspace& ws, const CheckOptions& options, int intervalMinutes,
                                         const AlertRules& rules, std::vector<Alert>* raised = nullptr);

/// Listed periods, newest first; of one name when `name` is given.
std::vector<Listing> listingHistory(Workspace& ws, const std::string& name = {});
/// The same as entries, one per listing and one per delisting, newest first: what the history
/// list of the window and `monitor --history` show.
std::vector<ListingChange> listingEntries(Workspace& ws, const std::string& name = {});

} // namespace bt
