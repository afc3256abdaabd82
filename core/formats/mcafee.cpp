// SPDX-License-Identifier: MIT
// McAfee's filtering gateways: the Email (and Web) Security Appliance / Email Gateway (marked
// by "X-NAI-Header: Modified by McAfee …", an RFC 3464-like report with an "addresses had
// delivery problems" text part) and MX Logic, McAfee's hosted filter (Exim wording, sent from
// …mxlogic.net). Both sit in front of the recipient's server; their "unknown user" is the
// filter's answer, so the report is marked as a filtering gateway's.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>

namespace bt::formats
{

namespace
{

bool fromMcAfeeAppliance(const Email& email)
{
    return text::findNoCase(email.headers.get("X-NAI-Header"), "Modified by McAfee") != std::string_view::npos;
}

bool fromMxLogic(const Email& email)
{
    const auto& h = email.headers;
    if (h.has("X-MXL-NoteHash") || h.has("X-MXL-Hash") || h.has("X-MX-Bounce"))
        return true;
    return text::findNoCase(h.get("From"), ".mxlogic.net") != std::string_view::npos;
}

/// An explicit X.1.1 from the server behind the gateway is the mailbox's own server saying the
/// address does not exist: then the report is not the filter's word.
bool namesBadMailbox(const BounceReport& report)
{
    return std::any_of(report.recipients.begin(), report.recipients.end(), [](const BounceRecipient& r) {
        const auto code = parseReply(r.reply).enhancedCode;
        return (code.size() >= 5 && code.substr(1) == ".1.1") || (r.status.size() >= 5 && r.status.substr(1) == ".1.1");
    });
}

/// McAfee's text part: "<addr>   (Unknown user addr)" per failed address, the DSN part may lack
/// Final-Recipient (only Original-Recipient) and the text's words are the same reply.
bool parseAppliance(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty() && parseRfc3464(email, report))
        return true;
    report = BounceReport {};
    return parseGeneric(email, report);
}

} // namespace

bool parseMcAfee(const Email& email, BounceReport& report)
{
    bool ok = false;
    if (fromMcAfeeAppliance(email)) {
        ok = parseAppliance(email, report);
        report.format = "mcafee";
    } else if (fromMxLogic(email)) {
        ok = parseExim(email, report) && !report.recipients.empty();
        if (!ok) {
            report = BounceReport {};
            ok = parseGeneric(email, report);
        }
        report.format = "mxlogic";
    }
    if (!ok || report.recipients.empty())
        return false;
    report.filteringGateway = !namesBadMailbox(report);
    return true;
}

} // namespace bt::formats
