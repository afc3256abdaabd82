// SPDX-License-Identifier: MIT
// qmail-send's bounce text (qmail-send.c, and the netqmail/notqmail/s/qmail forks):
//
//   Hi. This is the qmail-send program at mx.example.jp.
//   I'm afraid I wasn't able to deliver your message to the following addresses.
//   This is a permanent error; I've given up. Sorry it didn't work out.
//
//   <kijitora@example.jp>:
//   192.0.2.1 does not like recipient.
//   Remote host said: 550 5.1.1 <kijitora@example.jp>... User Unknown
//   Giving up on 192.0.2.1.
//
//   --- Below this line is a copy of the message.
//
// One "<addr>:" paragraph per recipient; qmail's own messages carry a status as "(#5.1.1)".
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <vector>

namespace bt::formats
{

namespace
{

/// qmail-remote prints the remote server's reply after "Remote host said: " line by line as it
/// came: a multi-line reply whose later lines carry no code ("550 Mailbox unavailable" then
/// "Sorry, no mailbox here by that name.") was cut to its first line by the reply finder. Those
/// lines, up to qmail's own next sentence, belong to the reply.
std::string wholeRemoteReply(std::string_view context, std::string reply)
{
    const auto said = context.find("Remote host said:");
    if (said == std::string_view::npos)
        return reply;
    static constexpr std::string_view qmailSays[] = {
        "Giving up on", "I'm not going to try again", "Will try again",           "Sorry, I ", "Sorry. Although", "---",
        "Connected to", "This is a permanent error",  "This is a temporary error"};
    // The reply's own lines: from after "Remote host said:" to qmail's next sentence.
    std::string block;
    std::vector<std::string_view> extra; // lines without a code of their own
    bool first = true;
    for (const auto& line : text::splitLines(context.substr(said + 17))) {
        const auto t = text::trim(line.text);
        if (first) {
            first = false;
            block = std::string(t);
            continue;
        }
        if (t.empty() || (t.starts_with("<") && t.ends_with(">:")))
            break;
        bool own = false;
        for (const auto w : qmailSays)
            own = own || t.starts_with(w);
        if (own)
            break;
        block += '\n';
        block += t;
        if (!(t.size() >= 4 && text::isDigit(t[0]) && text::isDigit(t[1]) && text::isDigit(t[2])
              && (t[3] == '-' || t[3] == ' ')))
            extra.push_back(t);
    }
    // Read on its own, a "550-…" reply joins its continuation lines ("Remote host said: " in
    // front of the first kept the finder from seeing them as one reply).
    const auto whole = primaryReply(block);
    if (whole.basicCode && whole.text.size() > reply.size())
        reply = whole.text;
    for (const auto t : extra)
        if (reply.find(t) == std::string::npos) {
            reply += ' ';
            reply += t;
        }
    return reply;
}

} // namespace

bool parseQmail(const Email& email, BounceReport& report)
{
    const std::string_view body = email.body;
    auto start = body.find("This is the qmail-send program at ");
    if (start == std::string_view::npos)
        start = body.find("I'm afraid I wasn't able to deliver your message to the following addresses");
    if (start == std::string_view::npos)
        return false;
    auto human = body.substr(start);
    human = bodyBeforeOriginal(human);
    report.format = "qmail";

    std::vector<BounceRecipient> out;
    for (const auto& line : text::splitLines(human)) {
        const auto t = line.text;
        const auto trimmed = text::trim(t);
        if (trimmed.starts_with("<") && trimmed.ends_with(">:") && trimmed.find('@') != std::string_view::npos) {
            BounceRecipient r;
            r.address = cleanAddress(trimmed.substr(1, trimmed.size() - 3));
            r.action = "failed";
            out.push_back(std::move(r));
            continue;
        }
        if (out.empty())
            continue;
        if (trimmed.empty()) {
            if (!out.back().context.empty())
                out.back().context += "\n\n"; // paragraph closed; later text is not about it
            continue;
        }
        if (out.back().context.ends_with("\n\n"))
            continue;
        out.back().context += std::string(trimmed) + "\n";
    }
    for (auto& r : out) {
        while (r.context.ends_with("\n"))
            r.context.pop_back();
        const auto reply = primaryReply(r.context);
        if (reply.basicCode || !reply.enhancedCode.empty()) {
            r.reply = reply.text;
            r.remoteMta = reply.remoteHost;
            r.reply = wholeRemoteReply(r.context, r.reply);
        }
        // qmail-remote: "Connected to 192.0.2.1 but sender was rejected." / "… does not like recipient."
        if (r.context.find("does not like recipient") != std::string::npos)
            r.command = "RCPT TO";
        else if (r.context.find("but sender was rejected") != std::string::npos)
            r.command = "MAIL FROM";
        else if (r.context.find("but my name was rejected") != std::string::npos)
            r.command = "HELO";
        else if (r.context.find("failed on DATA command") != std::string::npos
                 || r.context.find("failed after I sent the message") != std::string::npos)
            r.command = "DATA";
        // qmail's own words that state the reason.
        if (!reply.basicCode) {
            // A connection that never came up is the cause even when qmail also gave up on the queue.
            if (r.context.find("this message has been in the queue too long") != std::string::npos
                && r.context.find("wasn't able to establish an SMTP connection") == std::string::npos)
                r.reasonHint = "expired";
            else if (r.context.find("Sorry, I couldn't find any host named") != std::string::npos
                     || r.context.find("Sorry, I couldn't find any host by that name") != std::string::npos)
                r.reasonHint = "hostunknown";
        }
        // "(#5.1.1)" after qmail's sentence is qmail's status for this recipient.
        const auto hash = r.context.find("(#");
        if (hash != std::string::npos) {
            const auto code = parseReply(std::string_view(r.context).substr(hash + 2, 8)).enhancedCode;
            if (!code.empty())
                r.status = mta::preferStatus(code, reply.enhancedCode, reply.basicCode);
        }
    }
    report.recipients = std::move(out);
    return !report.recipients.empty();
}

} // namespace bt::formats
