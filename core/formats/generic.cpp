// SPDX-License-Identifier: MIT
// The fallback for any bounce no module knows: find the failed addresses in the bounce's own
// text and, for each, the reply or sentence that follows it.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>
#include <array>

namespace bt::formats
{

namespace
{

bool looksLikeBounce(const Email& email, std::string_view human)
{
    const auto from = text::toLower(email.headers.get("From"));
    const auto subject = text::toLower(email.headers.get("Subject"));
    static constexpr std::array<std::string_view, 6> senders
        = {"mailer-daemon", "postmaster", "mail delivery", "mail administrator", "mdaemon", "no-reply"};
    static constexpr std::array<std::string_view, 18> subjects = {"undeliver",
                                                                  "delivery status",
                                                                  "failure",
                                                                  "returned mail",
                                                                  "undelivered",
                                                                  "delivery fail",
                                                                  "not be delivered",
                                                                  "nondeliver",
                                                                  "non-deliver",
                                                                  "rejected",
                                                                  "delivery problem",
                                                                  "warning:",
                                                                  "could not send",
                                                                  "bounce",
                                                                  "delivery notification",
                                                                  "mail delivery",
                                                                  "error",
                                                                  "delayed"};
    for (const auto s : senders)
        if (from.find(s) != std::string::npos)
            return true;
    for (const auto s : subjects)
        if (subject.find(s) != std::string::npos)
            return true;
    // A server reply in the text is enough too.
    return primaryReply(human).basicCode.has_value();
}

bool ignorable(std::string_view address, const Email& email)
{
    const auto lower = text::toLower(address);
    if (lower.starts_with("mailer-daemon@") || lower.starts_with("postmaster@") || lower.starts_with("root@"))
        return true;
    for (const char* h : {"From", "To", "Return-Path"}) {
        const auto v = text::toLower(email.headers.get(h));
        if (!v.empty() && v.find(lower) != std::string::npos)
            return true;
    }
    return false;
}

} // namespace

bool parseGeneric(const Email& email, BounceReport& report)
{
    std::string_view human = bodyBeforeOriginal(email.body);
    if (text::trim(human).empty())
        human = email.body;
    if (!looksLikeBounce(email, human))
        return false;
    report.format = "generic";

    std::vector<std::string> candidates;
    for (auto& a : findAddresses(human))
        if (!ignorable(a, email))
            candidates.push_back(std::move(a));
    if (candidates.empty() && email.original) {
        for (auto& a : findAddresses(email.original->get("To")))
            candidates.push_back(std::move(a));
    }
    if (candidates.empty())
        return false;

    // Positions of each candidate's first mention, in text order.
    std::vector<std::pair<std::size_t, std::string>> mentions;
    for (const auto& c : candidates) {
        const auto p = text::findNoCase(human, c);
        mentions.emplace_back(p == std::string_view::npos ? human.size() : p, c);
    }
    std::sort(mentions.begin(), mentions.end());
    for (std::size_t i = 0; i < mentions.size(); ++i) {
        BounceRecipient r;
        r.address = mentions[i].second;
        const auto start = std::min(mentions[i].first, human.size());
        // The block about this address runs until the next address (or 1500 bytes): a reply
        // quoted for one recipient must not be given to another.
        auto end = i + 1 < mentions.size() ? mentions[i + 1].first : human.size();
        end = std::min(end, start + 1500);
        // Look a little before the address too: "host X said: 550 … <addr>" puts it inside.
        const auto from = start > 300 ? start - 300 : 0;
        r.context = std::string(human.substr(start, end - start));
        auto reply = primaryReply(r.context);
        if (!reply.basicCode && reply.enhancedCode.empty()) {
            const auto around = primaryReply(human.substr(from, end - from));
            if (around.basicCode || !around.enhancedCode.empty())
                reply = around;
        }
        if (reply.basicCode || !reply.enhancedCode.empty()) {
            r.reply = reply.text;
            r.remoteMta = reply.remoteHost;
            r.command = reply.smtpStage;
        }
        r.action = "failed";
        report.recipients.push_back(std::move(r));
    }
    // Ipswitch/Progress IMail Server (X-Mailer: <SMTP32 v…>) states its own verdict before the
    // address ("Unknown user: a@b"): IMail looked the recipient up itself, so these words are its
    // diagnosis, not a remote reply of unknown stage (Sisimai's IMailServer module reads them so).
    if (text::startsWithNoCase(text::trim(email.headers.get("X-Mailer")), "<SMTP32 v")) {
        struct Verdict {
            std::string_view words, reason;
        };
        static constexpr Verdict verdicts[] = {
            {"Unknown user", "userunknown"},
            {"Invalid final delivery userid", "userunknown"},
            {"Unknown host", "hostunknown"},
            {"User mailbox exceeds allowed size", "mailboxfull"},
        };
        for (auto& r : report.recipients) {
            const auto at = text::findNoCase(human, r.address);
            if (at == std::string_view::npos)
                continue;
            const auto lineStart = human.rfind('\n', at);
            const auto line = human.substr(lineStart == std::string_view::npos ? 0 : lineStart + 1,
                                           at - (lineStart == std::string_view::npos ? 0 : lineStart + 1));
            for (const auto& v : verdicts)
                if (text::findNoCase(line, v.words) != std::string_view::npos) {
                    r.reasonHint = std::string(v.reason);
                    break;
                }
        }
    }
    // Without a single reply anywhere, the whole text is the best evidence for every address.
    if (std::all_of(report.recipients.begin(), report.recipients.end(),
                    [](const BounceRecipient& r) { return r.reply.empty(); })) {
        for (auto& r : report.recipients)
            r.context = std::string(human);
    }
    return true;
}

} // namespace bt::formats
