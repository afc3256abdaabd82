// SPDX-License-Identifier: MIT
// ARF (RFC 5965) feedback reports: a complaint, not a bounce. The recipient is the person who
// complained: Original-Rcpt-To, else the To of the returned message.
#include "formats.h"
#include "text.h"

namespace bt::formats
{

bool parseArf(const Email& email, BounceReport& report)
{
    const bool isArf = email.reportType == "feedback-report" || !email.feedbackReport.empty();
    if (!isArf)
        return false;
    report.format = "arf";
    report.kind = "feedback";
    BounceReport fields;
    parseDeliveryStatus(email.feedbackReport, fields); // only for the unfolding; fields read below
    std::string type, rcpt, arrival, source;
    for (const auto& line : text::splitLines(email.feedbackReport)) {
        const auto colon = line.text.find(':');
        if (colon == std::string_view::npos)
            continue;
        const auto name = text::toLower(text::trim(line.text.substr(0, colon)));
        const auto value = std::string(text::trim(line.text.substr(colon + 1)));
        if (name == "feedback-type" && type.empty())
            type = text::toLower(value);
        else if (name == "original-rcpt-to" && rcpt.empty())
            rcpt = cleanAddress(value);
        else if ((name == "arrival-date" || name == "received-date") && arrival.empty())
            arrival = value;
        else if (name == "original-mail-from" && report.envelopeSender.empty())
            report.envelopeSender = cleanAddress(value);
        else if (name == "reporting-mta" && report.reportingMta.empty())
            report.reportingMta = cleanAddress(value);
    }
    report.feedbackType = type.empty() ? "abuse" : type;
    report.arrivalDate = arrival;
    if (rcpt.empty() && email.original) {
        const auto to = findAddresses(email.original->get("To"));
        if (!to.empty())
            rcpt = to.front();
    }
    if (rcpt.empty()) {
        const auto addrs = findAddresses(email.body);
        if (!addrs.empty())
            rcpt = addrs.front();
    }
    BounceRecipient r;
    r.address = rcpt;
    r.action = "failed";
    r.reasonHint = "feedback";
    r.lastAttempt = arrival;
    report.recipients.push_back(std::move(r));
    return true;
}

} // namespace bt::formats
