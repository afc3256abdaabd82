// SPDX-License-Identifier: MIT
// RFC 3464 delivery status notifications: one record per recipient block. When the
// Diagnostic-Code is missing or says little, the human-readable part usually quotes the
// remote server for that recipient (Postfix "host X said: …"): take it from there.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

namespace bt::formats
{

namespace
{

/// The human-readable text about `address`: from its first mention to the next blank line
/// that is followed by another recipient, bounded so one recipient never takes the next's reply.
std::string contextFor(std::string_view body, std::string_view address)
{
    if (address.empty())
        return {};
    const auto p = text::findNoCase(body, address);
    if (p == std::string_view::npos)
        return {};
    auto rest = body.substr(p);
    auto end = rest.find("\n\n");
    if (end == std::string_view::npos)
        end = rest.size();
    // Postfix may put a blank line between "<addr>:" and nothing else; keep at least 600 bytes.
    if (end < 80)
        end = std::min<std::size_t>(rest.size(), 600);
    return std::string(rest.substr(0, end));
}

} // namespace

bool parseRfc3464(const Email& email, BounceReport& report)
{
    if (email.deliveryStatus.empty())
        return false;
    parseDeliveryStatus(email.deliveryStatus, report);
    if (report.recipients.empty())
        return false;
    report.format = "rfc3464";
    const auto human = bodyBeforeOriginal(email.body);
    bool anyFailed = false, anyDelayed = false;
    for (auto& r : report.recipients) {
        r.context = contextFor(human, r.address);
        if (r.context.empty() && !r.originalAddress.empty())
            r.context = contextFor(human, r.originalAddress);
        const auto diag = parseReply(r.reply);
        // A Diagnostic-Code without a reply in it ("X-Postfix; unknown user") is kept, but a
        // quoted server reply in the text about this recipient is better evidence.
        if (!diag.basicCode && !r.context.empty()) {
            const auto quoted = primaryReply(r.context);
            if (quoted.basicCode && quoted.text.size() > 4) {
                r.reply = quoted.text;
                if (r.remoteMta.empty())
                    r.remoteMta = quoted.remoteHost;
                r.command = quoted.smtpStage;
            }
        }
        anyFailed = anyFailed || r.action == "failed";
        anyDelayed = anyDelayed || r.action == "delayed";
    }
    if (!anyFailed) {
        if (anyDelayed)
            report.kind = "delayed";
        else if (report.recipients.front().action == "delivered" || report.recipients.front().action == "relayed"
                 || report.recipients.front().action == "expanded")
            report.kind = "delivered";
    }
    return true;
}

} // namespace bt::formats
