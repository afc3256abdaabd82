// SPDX-License-Identifier: MIT
// Zoho Mail's own bounce text (mailer-daemon@mail.zoho.com, no DSN part), one line per recipient:
//
//   kijitora@example.co.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <…>... User Unknown
//   [Status: Error, Address: <kijitora@example.jp>, ResponseCode 421, , Host not reachable.]
//
// The first ERROR_CODE is the remote server's reply code, the second the rest of its reply
// (enhanced code first, when it gave one). The notice says "This is a permanent error" even when
// the last reply was a 4xx: Zoho gave up retrying, so the message expired.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

namespace bt::formats
{

namespace
{

bool fromZoho(const Email& email)
{
    const auto from = text::toLower(email.headers.get("From"));
    return email.headers.has("X-ZohoMail") || from.find("@mail.zoho.") != std::string::npos
        || from.find("@zoho.") != std::string::npos || from.find("zohomail") != std::string::npos;
}

/// "…, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@b>... User Unknown" → "550 5.1.1 <a@b>... User Unknown".
std::string errorCodeReply(std::string_view line)
{
    constexpr std::string_view tag = "ERROR_CODE :";
    const auto first = text::findNoCase(line, tag);
    if (first == std::string_view::npos)
        return {};
    auto rest = line.substr(first + tag.size());
    const auto comma = rest.find(',');
    const auto code = text::trim(rest.substr(0, comma));
    std::string text;
    if (comma != std::string_view::npos) {
        auto tail = rest.substr(comma + 1);
        const auto second = text::findNoCase(tail, tag);
        tail = second != std::string_view::npos ? tail.substr(second + tag.size()) : tail;
        text = std::string(text::trim(tail));
        while (!text.empty() && (text.front() == ',' || text.front() == ' '))
            text.erase(0, 1);
    }
    return text::collapseSpace(std::string(code) + " " + text);
}

/// "[Status: Error, Address: <a@b>, ResponseCode 421, , Host not reachable.]" → "421 Host not reachable."
std::string statusLineReply(std::string_view line)
{
    constexpr std::string_view tag = "ResponseCode ";
    const auto p = text::findNoCase(line, tag);
    if (p == std::string_view::npos)
        return {};
    auto rest = line.substr(p + tag.size());
    if (!rest.empty() && rest.back() == ']')
        rest.remove_suffix(1);
    std::string out;
    for (char c : rest) {
        if (c == ',')
            c = ' ';
        out += c;
    }
    return text::collapseSpace(out);
}

} // namespace

bool parseZoho(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty() || !fromZoho(email))
        return false;
    const auto human = bodyBeforeOriginal(email.body);
    report.format = "zoho";
    // One line per recipient (transfer encoding undone, so no soft line breaks are left).
    for (const auto& line : text::splitLines(human)) {
        const auto p = text::trim(line.text);
        std::string reply;
        std::string address;
        if (text::startsWithNoCase(p, "[Status:")) {
            reply = statusLineReply(p);
            const auto a = findAddresses(p);
            if (!a.empty())
                address = a.front();
        } else if (text::findNoCase(p, "ERROR_CODE :") != std::string_view::npos) {
            reply = errorCodeReply(p);
            address = cleanAddress(p.substr(0, p.find(' ')));
        } else {
            continue;
        }
        if (address.find('@') == std::string::npos)
            continue;
        BounceRecipient r;
        r.address = address;
        r.action = "failed";
        r.reply = reply;
        r.context = std::string(p);
        const auto parsed = parseReply(reply);
        if (!parsed.enhancedCode.empty())
            r.status = parsed.enhancedCode;
        if (parsed.basicCode && *parsed.basicCode / 100 == 4
            && text::findNoCase(human, "permanent error") != std::string_view::npos)
            r.reasonHint = "expired";
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
