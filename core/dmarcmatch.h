// SPDX-License-Identifier: MIT
// A bounce beside the receivers' DMARC aggregate reports: for a 550 that says "unauthenticated"
// or "denied by policy", what the receivers saw of the same traffic that day is the proof of
// the cause (issue 14, correlation). Reads the workspace's report tables (core/dmarc.h).
#pragma once

#include "dmarc.h"

#include <string>
#include <string_view>
#include <vector>

namespace bt
{

class Workspace;

/// One report row that speaks of a bounce's traffic, with the report it comes from.
struct DmarcMatch {
    std::string orgName; ///< the receiver that reported ("Outlook.com", "google.com")
    std::string reportId;
    std::string begin, end; ///< the report's date range, ISO 8601 UTC
    std::string policyDomain; ///< policy_published domain
    DmarcRow row; ///< the row, with its DKIM and SPF results
    bool byIp = true; ///< matched on the sending IP; false: on the From domain (the bounce names no IP)
};

/// The families whose bounces are set beside the reports: authentication and policy refusals,
/// where "what did the receiver see of our SPF, DKIM and alignment" decides the cause.
bool dmarcRelevant(std::string_view family);

/// The report rows for the bounce's traffic on its day: rows of `sendingIp` in reports whose date
/// range holds `timestamp`, or, when the bounce names no IP, rows whose header From is
/// `fromDomain`. Failing rows first (DMARC fail, then most messages), at most `limit`.
std::vector<DmarcMatch> dmarcForBounce(Workspace& ws, std::string_view sendingIp, std::string_view fromDomain,
                                       std::string_view timestamp, int limit = 20);

/// One sentence a person reads: "On 2025-03-11, Outlook.com's report shows 212 messages from
/// 203.0.113.5 (From example.com): DKIM fail (example.com, selector s1); SPF pass for
/// bounces.example.net but not aligned; disposition reject."
std::string describeDmarcMatch(const DmarcMatch& m);

} // namespace bt
