// SPDX-License-Identifier: MIT
// m-FILTER (Digital Arts), a filtering gateway in front of Japanese corporate mail servers. Its
// notice, after a Japanese preface, lists the failed addresses and then labelled sections:
//
//   kijitora@example.com
//
//   -------server message
//   550 unknown user <kijitora@example.com>
//
//   -------SMTP command
//   DATA
//
//   -------original message            (or "-------original mail info")
//
// Being a filtering gateway, its "unknown user" is the filter speaking: the report says so.
#include "formats.h"
#include "text.h"

namespace bt::formats
{

namespace
{

constexpr std::string_view kServerMessage = "-------server message";
constexpr std::string_view kSmtpCommand = "-------SMTP command";

/// The lines of the section that starts at `label`, up to the next "-------" label.
std::string section(std::string_view body, std::string_view label)
{
    const auto p = text::findNoCase(body, label);
    if (p == std::string_view::npos)
        return {};
    auto rest = body.substr(p + label.size());
    const auto end = rest.find("\n-------");
    return text::collapseSpace(text::trim(rest.substr(0, end)));
}

} // namespace

bool parseMFilter(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty())
        return false;
    const bool mfilter = text::trim(email.headers.get("X-Mailer")) == "m-FILTER"
        || text::findNoCase(email.body, "m-FILTER") != std::string_view::npos;
    const std::string_view body = email.body;
    const auto server = text::findNoCase(body, kServerMessage);
    if (!mfilter || server == std::string_view::npos)
        return false;
    report.format = "mfilter";
    report.filteringGateway = true;
    const auto reply = section(body, kServerMessage);
    auto command = section(body, kSmtpCommand);
    if (text::startsWithNoCase(command, "RCPT"))
        command = "RCPT TO";
    else if (text::startsWithNoCase(command, "MAIL"))
        command = "MAIL FROM";
    // The failed addresses stand alone on their lines before the first section.
    for (const auto& line : text::splitLines(body.substr(0, server))) {
        const auto t = text::trim(line.text);
        if (t.find('@') == std::string_view::npos || t.find(' ') != std::string_view::npos)
            continue;
        const auto a = findAddresses(t);
        if (a.empty())
            continue;
        BounceRecipient r;
        r.address = a.front();
        r.action = "failed";
        r.reply = reply;
        r.command = command;
        r.context = reply;
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
