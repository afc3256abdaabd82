// SPDX-License-Identifier: MIT
// The Sources view's numbers: per sending IP over the workspace's DMARC aggregate report rows —
// DMARC, SPF and DKIM passes, alignment, the From domains, the days — with the flags a
// deliverability person acts on, and the daily DMARC pass rate beside the auth-family bounces of
// the same days. Read from the tables of core/dmarc.h and the events table; no Qt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bt
{

class Workspace;

/// One day of DMARC report rows (the day a report's range begins) and the auth-family bounces
/// of the same day.
struct DmarcDay {
    std::string day; ///< YYYY-MM-DD
    std::int64_t messages = 0; ///< messages the reports of that day count (0: no report that day)
    std::int64_t dmarcPass = 0; ///< of them, passing DMARC (aligned DKIM or aligned SPF passed)
    std::int64_t authBounces = 0; ///< bounces of the auth family that day (events table)
    /// DMARC pass rate in percent; -1 when no report counts a message that day.
    double passRate() const { return messages > 0 ? 100.0 * static_cast<double>(dmarcPass) / messages : -1.0; }
};

/// A day on which a source's pass rate fell well below its earlier days (see sourceReport).
struct PassRateDrop {
    std::string day;
    double rate = 0; ///< that day's pass rate, percent
    double earlierRate = 0; ///< the pass rate of all its earlier days together, percent
};

/// What the reports say about one sending IP.
struct SourceSummary {
    std::string ip;
    std::int64_t messages = 0;
    std::int64_t dmarcPass = 0; ///< aligned DKIM or aligned SPF passed (policy_evaluated)
    std::int64_t spfPass = 0; ///< an SPF result of auth_results passed, aligned or not
    std::int64_t dkimPass = 0; ///< a DKIM signature of auth_results passed, aligned or not
    std::int64_t spfAligned = 0; ///< policy_evaluated spf pass: SPF passed for an aligned domain
    std::int64_t dkimAligned = 0; ///< policy_evaluated dkim pass
    std::int64_t failBoth = 0; ///< neither aligned DKIM nor aligned SPF passed: DMARC failed
    std::int64_t reports = 0; ///< reports naming the IP
    std::string firstDay, lastDay; ///< YYYY-MM-DD: the first report's begin, the last one's end
    std::vector<std::string> fromDomains; ///< header From domains seen (lower case, sorted)
    /// More than half its messages failed both aligned DKIM and aligned SPF: receivers cannot
    /// tell its mail from a forger's (a forwarder, a forgotten service, or a forger).
    bool unverified = false;
    std::vector<PassRateDrop> drops; ///< days its pass rate dropped, oldest first
    /// Every day from its first report day to its last (authBounces: the bounces naming this
    /// sending IP), oldest first.
    std::vector<DmarcDay> days;
    double passRate() const { return messages > 0 ? 100.0 * static_cast<double>(dmarcPass) / messages : 0.0; }
};

/// Every source and the daily series of all of them.
struct SourceReport {
    std::vector<SourceSummary> sources; ///< most messages first, then by IP
    /// Every day from the first report day to the last (days without a report have messages 0),
    /// all sources together, with the workspace's auth-family bounces of each day.
    std::vector<DmarcDay> days;
    std::int64_t reports = 0; ///< aggregate reports in the workspace
};

/// The pass-rate drop rule: a day with at least kDropMinDayMessages messages whose pass rate
/// is at least kDropPoints percentage points below the pass rate of all the source's earlier
/// days together, those earlier days holding at least kDropMinEarlierMessages messages. Why so:
/// small counts swing (one failing message of two is 50 %), and comparing with the pooled
/// earlier days catches a drop however the earlier days were spread.
inline constexpr std::int64_t kDropMinDayMessages = 5;
inline constexpr std::int64_t kDropMinEarlierMessages = 10;
inline constexpr double kDropPoints = 20.0;

/// The Sources view's numbers over every DMARC report of the workspace.
SourceReport sourceReport(Workspace& ws);

/// Applies the drop rule to one source's days (oldest first); exposed for tests.
std::vector<PassRateDrop> passRateDrops(const std::vector<DmarcDay>& days);

} // namespace bt
