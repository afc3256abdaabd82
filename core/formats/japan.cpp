// SPDX-License-Identifier: MIT
// Japanese mobile carriers whose bounces need more than the RFC 3464 or generic reading.
//  - au by KDDI (EZweb, ezweb.ne.jp / au.com): the notice opens with one sentence that states the
//    cause for every recipient below it ("The user(s) account is disabled."), which the quoted
//    SMTP reply does not ("550 user unknown"): an account suspended for non-payment answers
//    RCPT TO with "user unknown". X-SPASIGN: NG marks a message the recipient's filter refused.
#include "formats.h"
#include "text.h"

#include <array>
#include <utility>

namespace bt::formats
{

namespace
{

bool fromEzweb(const Email& email)
{
    const auto& h = email.headers;
    int score = 0;
    const auto from = text::toLower(h.get("From"));
    if (from.find("postmaster@ezweb.ne.jp") != std::string::npos || from.find("postmaster@au.com") != std::string::npos)
        ++score;
    if (withoutSubjectTags(h.get("Subject")) == "Mail System Error - Returned Mail")
        ++score;
    for (const auto& f : h.fields) {
        if (text::toLower(f.name) != "received")
            continue;
        if (f.value.find("ezweb.ne.jp (EZweb Mail) with") != std::string::npos
            || f.value.find(".au.com (") != std::string::npos) {
            ++score;
            break;
        }
    }
    const auto id = text::toLower(h.get("Message-ID"));
    if (id.find(".ezweb.ne.jp>") != std::string::npos || id.find(".au.com>") != std::string::npos)
        ++score;
    return score >= 2;
}

/// The cause EZweb states in its opening sentence, if it is one of those it uses.
std::string ezwebHeadline(const Email& email, std::string_view human)
{
    if (text::toLower(text::trim(email.headers.get("X-SPASIGN"))) == "ng")
        return "filtered";
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> sentences = {{
        {"The user(s) account is disabled.", "suspend"},
        {"The user(s) account is temporarily limited.", "suspend"},
        {"The user(s) account is temporarily over quota", "mailboxfull"},
        {"Your message was not delivered within ", "expired"},
    }};
    for (const auto& [s, reason] : sentences)
        if (text::findNoCase(human, s) != std::string_view::npos)
            return std::string(reason);
    return {};
}

} // namespace

bool parseJapan(const Email& email, BounceReport& report)
{
    if (!fromEzweb(email))
        return false;
    const bool ok = email.deliveryStatus.empty() ? parseGeneric(email, report) : parseRfc3464(email, report);
    if (!ok || report.recipients.empty())
        return false;
    report.format = "ezweb";
    const auto hint = ezwebHeadline(email, bodyBeforeOriginal(email.body));
    if (!hint.empty())
        for (auto& r : report.recipients)
            r.reasonHint = hint;
    return true;
}

} // namespace bt::formats
