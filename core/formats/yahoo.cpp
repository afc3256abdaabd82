// SPDX-License-Identifier: MIT
// Yahoo! Mail (and AOL since it runs on Yahoo's servers).
//  - Yahoo's own text, no DSN part:
//        Sorry, we were unable to deliver your message to the following address.
//
//        <user@example.org>:
//        Remote host said: 550 5.1.1 <user@example.org>... User Unknown [RCPT_TO]
//    The reply may sit on the lines after "Remote host said:", the SMTP stage in brackets on a
//    line of its own, and the code may be written "550:".
//  - AOL's outbound relay DSNs: RFC 3464, but with no blank line between recipient blocks.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <array>
#include <utility>

namespace bt::formats
{

namespace
{

constexpr std::string_view kYahooStart = "Sorry, we were unable to deliver your message to the following address";

/// "[RCPT_TO]" → "RCPT TO".
std::string bracketCommand(std::string_view line)
{
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> commands = {{
        {"[RCPT_TO]", "RCPT TO"},
        {"[MAIL_FROM]", "MAIL FROM"},
        {"[DATA]", "DATA"},
        {"[BDAT]", "DATA"},
        {"[EHLO]", "EHLO"},
        {"[HELO]", "HELO"},
    }};
    for (const auto& [tag, cmd] : commands)
        if (text::findNoCase(line, tag) != std::string_view::npos)
            return std::string(cmd);
    return {};
}

/// "550: 5.2.2 <a@b>... Mailbox Full" → "550 5.2.2 <a@b>... Mailbox Full": Yahoo puts a colon
/// after the reply code, which no server does on the wire.
std::string normalizeCode(std::string s)
{
    if (s.size() > 4 && text::isDigit(s[0]) && text::isDigit(s[1]) && text::isDigit(s[2]) && s[3] == ':')
        s[3] = ' ';
    return s;
}

bool parseYahooText(const Email& email, BounceReport& report)
{
    const auto human = bodyBeforeOriginal(email.body);
    const auto start = text::findNoCase(human, kYahooStart);
    if (start == std::string_view::npos)
        return false;
    report.format = "yahoo";
    BounceRecipient* cur = nullptr;
    std::vector<std::string> diag;
    auto finish = [&]() {
        if (!cur)
            return;
        // Join what the server said, without the "Remote host said:" label and the stage tag.
        std::string joined;
        for (const auto& d : diag) {
            if (!joined.empty())
                joined += ' ';
            joined += d;
        }
        cur->context = joined;
        cur->reply = normalizeCode(std::string(text::trim(joined)));
        // An address in angle brackets in the reply: the server answered the RCPT TO.
        if (cur->command.empty() && cur->reply.find('<') != std::string::npos
            && cur->reply.find('@') != std::string::npos && parseReply(cur->reply).basicCode)
            cur->command = "RCPT TO";
        diag.clear();
    };
    for (const auto& line : text::splitLines(human.substr(start))) {
        const auto t = text::trim(line.text);
        if (t.empty() || text::startsWithNoCase(t, kYahooStart))
            continue;
        if (t.front() == '<' && t.size() > 3 && t.substr(t.size() - 2) == ">:"
            && t.find('@') != std::string_view::npos) {
            finish();
            BounceRecipient r;
            r.address = cleanAddress(t.substr(0, t.size() - 1));
            r.action = "failed";
            report.recipients.push_back(std::move(r));
            cur = &report.recipients.back();
            continue;
        }
        if (!cur)
            continue;
        auto rest = t;
        if (text::startsWithNoCase(rest, "Remote host said:"))
            rest = text::trim(rest.substr(17));
        if (const auto cmd = bracketCommand(rest); !cmd.empty()) {
            cur->command = cmd;
            const auto open = rest.rfind('[');
            rest = text::trim(rest.substr(0, open));
        }
        if (!rest.empty())
            diag.emplace_back(rest);
    }
    finish();
    return !report.recipients.empty();
}

bool fromAol(const Email& email)
{
    const auto from = text::toLower(email.headers.get("From"));
    if (from.find("@aol.com") != std::string::npos
        && (from.find("mailer-daemon") != std::string::npos || from.find("postmaster") != std::string::npos))
        return true;
    return text::findNoCase(email.deliveryStatus, ".mx.aol.com") != std::string_view::npos;
}

/// Puts a blank line before each recipient block that follows another without one, so the
/// RFC 3464 reader sees one block per recipient.
std::string separateRecipientBlocks(std::string_view dsn)
{
    std::string out;
    bool haveFinal = false, haveOriginal = false, haveAction = false;
    for (const auto& line : text::splitLines(dsn)) {
        const auto t = line.text;
        const bool blank = text::trim(t).empty();
        const bool isFinal = text::startsWithNoCase(t, "Final-Recipient:");
        const bool isOriginal = text::startsWithNoCase(t, "Original-Recipient:");
        // Final-Recipient twice, or an Original-Recipient after a complete block, starts the next.
        if (!blank && ((isFinal && haveFinal) || (isOriginal && (haveOriginal || (haveFinal && haveAction))))) {
            out += '\n';
            haveFinal = haveOriginal = haveAction = false;
        }
        if (blank)
            haveFinal = haveOriginal = haveAction = false;
        haveFinal = haveFinal || isFinal;
        haveOriginal = haveOriginal || isOriginal;
        haveAction = haveAction || text::startsWithNoCase(t, "Action:") || text::startsWithNoCase(t, "Status:");
        out += t;
        out += '\n';
    }
    return out;
}

bool parseAolDsn(const Email& email, BounceReport& report)
{
    if (email.deliveryStatus.empty() || !fromAol(email))
        return false;
    Email view = email;
    view.deliveryStatus = separateRecipientBlocks(email.deliveryStatus);
    if (!parseRfc3464(view, report))
        return false;
    report.format = "aol";
    for (auto& r : report.recipients) {
        // AOL's relay (Postfix) reports an MX answer it cannot use with a permanent 5.4.4: the
        // domain publishes no usable mail exchanger, so it does not accept mail.
        if (!r.status.empty() && r.status.front() == '5'
            && text::findNoCase(r.reply, "type=MX: Malformed or unexpected name server reply")
                != std::string_view::npos)
            r.reasonHint = "notaccept";
    }
    return true;
}

} // namespace

bool parseYahoo(const Email& email, BounceReport& report)
{
    if (email.deliveryStatus.empty() && parseYahooText(email, report))
        return true;
    report = BounceReport {};
    return parseAolDsn(email, report);
}

} // namespace bt::formats
