// SPDX-License-Identifier: MIT
// Verizon Wireless gateways (post_master@vtext.com for SMS, sysadmin@….vzwpix.com for MMS): no
// DSN part and no failed address in the text, only the envelope in the "Message details":
//
//   Error: Invalid user address
//   Error message below:
//   550 - Requested action not taken: no such user here
//
//   Message details:
//     MAIL FROM: sender@example.org
//     RCPT TO: recipient@vtext.com
//
// The MMS gateway quotes the message after "Original Message:" instead; its To is the recipient.
#include "formats.h"
#include "text.h"

namespace bt::formats
{

namespace
{

bool fromVerizon(const Email& email)
{
    const auto from = text::toLower(email.headers.get("From"));
    return from.find("post_master@vtext.com") != std::string::npos
        || (from.find("sysadmin@") != std::string::npos && from.find(".vzwpix.com") != std::string::npos);
}

/// The value of a "Name: value" line anywhere in `s` (first match, case-insensitive).
std::string fieldValue(std::string_view s, std::string_view name)
{
    for (const auto& line : text::splitLines(s)) {
        const auto t = text::trim(line.text);
        if (text::startsWithNoCase(t, name))
            return std::string(text::trim(t.substr(name.size())));
    }
    return {};
}

/// "550 - Requested action not taken" → "550 Requested action not taken".
std::string normalizeReply(std::string_view s)
{
    std::string out(text::trim(s));
    if (out.size() > 6 && text::isDigit(out[0]) && text::isDigit(out[1]) && text::isDigit(out[2])
        && out.compare(3, 3, " - ") == 0)
        out.erase(3, 2);
    return out;
}

} // namespace

bool parseVerizon(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty() || !fromVerizon(email))
        return false;
    std::string_view body = email.body;
    const auto start = text::findNoCase(body, "Error:");
    if (start == std::string_view::npos)
        return false;
    auto details = text::findNoCase(body, "Message details:");
    if (details == std::string_view::npos)
        details = text::findNoCase(body, "Original Message:");
    const auto errorText
        = body.substr(start, details == std::string_view::npos ? std::string_view::npos : details - start);
    const auto tail = details == std::string_view::npos ? std::string_view() : body.substr(details);

    std::string rcpt = cleanAddress(fieldValue(tail, "RCPT TO:"));
    if (rcpt.find('@') == std::string::npos) {
        const auto to = findAddresses(fieldValue(tail, "To:"));
        rcpt = to.empty() ? std::string() : to.front();
    }
    if (rcpt.empty() && email.original) {
        const auto to = findAddresses(email.original->get("To"));
        if (!to.empty())
            rcpt = to.front();
    }
    if (rcpt.empty())
        return false;
    report.format = "verizon";
    BounceRecipient r;
    r.address = rcpt;
    r.action = "failed";
    r.context = std::string(text::trim(errorText));
    // The server's words follow "Error message below:"; else the "Error:" line itself.
    auto reply = fieldValue(errorText, "Error message below:");
    if (reply.empty()) {
        const auto p = text::findNoCase(errorText, "Error message below:");
        if (p != std::string_view::npos) {
            auto rest = text::trim(errorText.substr(p + 20));
            reply = std::string(rest.substr(0, rest.find('\n')));
        }
    }
    if (reply.empty())
        reply = fieldValue(errorText, "Error:");
    r.reply = normalizeReply(reply);
    // The gateway's own "Error: Invalid user address" line is its verdict on the recipient (it
    // knows its subscribers), so it states userunknown whatever stage the reply came at.
    const auto verdict = text::toLower(fieldValue(errorText, "Error:"));
    if (verdict.find("invalid user") != std::string::npos || verdict.find("no such user") != std::string::npos)
        r.reasonHint = "userunknown";
    report.recipients.push_back(std::move(r));
    return true;
}

} // namespace bt::formats
