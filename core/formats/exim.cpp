// SPDX-License-Identifier: MIT
// Exim's own bounce text (deliver.c), when no RFC 3464 part carries the details:
//
//   This message was created automatically by mail delivery software.
//   A message that you sent could not be delivered to one or more of its
//   recipients. This is a permanent error. The following address(es) failed:
//
//     kijitora@example.jp
//       SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:
//       host mx.example.jp [192.0.2.153]: 550 5.1.1 <kijitora@example.jp>... User Unknown
//
// Each failed address sits on a line indented by two spaces, its error on the lines indented
// deeper below it. Exim's own messages (retry timeout, unrouteable address …) name the reason
// outright; a remote server's reply is classified as usual.
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <array>

namespace bt::formats
{

namespace
{

constexpr std::array<std::string_view, 6> kStarts = {
    "This message was created automatically by mail delivery software",
    "This message was created automatically by the SMTP relay",
    "A message that you sent could not be delivered",
    "A message that you sent has not yet been delivered",
    "A message that you sent contained one or more recipient addresses",
    "A message that you sent was rejected by the local scanning code",
};

/// Exim's own wording for a failure, with the reason it states (src/deliver.c, retry.c,
/// routers/*.c, transports/*.c).
struct Own {
    std::string_view words, reason;
};
constexpr std::array<Own, 20> kOwn = {{
    {"retry timeout exceeded", "expired"},
    {"retry time not reached for any host after a long failure period", "expired"},
    {"all hosts have been failing for a long time", "expired"},
    {"has been frozen", "expired"},
    {"was frozen on arrival", "expired"},
    {"Unrouteable address", "hostunknown"},
    {"all relevant MX records point to non-existent hosts", "hostunknown"},
    {"all host address lookups failed permanently", "hostunknown"},
    {"an MX or SRV record indicated no SMTP service", "notaccept"},
    {"no host found for existing SMTP connection", "notaccept"},
    {"mailbox is full", "mailboxfull"},
    {"error: quota exceed", "mailboxfull"},
    {"Too many \"Received\" headers", "contenterror"},
    {"delivery to file forbidden", "systemerror"},
    {"delivery to pipe forbidden", "systemerror"},
    {"local delivery failed", "systemerror"},
    {"angle-brackets nested too deep", "syntaxerror"},
    {"domain missing in source-routed address", "syntaxerror"},
    {"malformed address:", "syntaxerror"},
    {"user not found", "userunknown"},
}};

bool isAddressLine(std::string_view line)
{
    // "  kijitora@example.jp", "  kijitora@example.jp: forced freeze", "  <a@b>: …" — two spaces,
    // then something that is not more indentation.
    if (line.size() < 4 || line[0] != ' ' || line[1] != ' ' || line[2] == ' ' || line[2] == '\t')
        return false;
    const auto t = text::trim(line);
    if (t.starts_with("pipe to |") || t.starts_with("an undisclosed address"))
        return true;
    // "A message sent by\n\n  <sender@example.com>\n\ncould not be delivered": the sender.
    if (t.front() == '<' && t.back() == '>')
        return false;
    const auto at = t.find('@');
    if (at == std::string_view::npos || at < 1)
        return false;
    const auto sp = t.find(' ');
    return sp == std::string_view::npos || sp > at || t.front() == '<';
}

} // namespace

bool parseExim(const Email& email, BounceReport& report)
{
    const std::string_view body = email.body;
    std::size_t start = std::string_view::npos;
    for (const auto s : kStarts) {
        const auto p = body.find(s);
        if (p != std::string_view::npos && p < start)
            start = p;
    }
    if (start == std::string_view::npos)
        return false;
    auto human = body.substr(start);
    for (std::string_view end : {"------ This is a copy of the message", "----- This is a copy of the message",
                                 "------ The body of the message is"}) {
        if (const auto p = human.find(end); p != std::string_view::npos)
            human = human.substr(0, p);
    }
    const bool warning = human.find("has not yet been delivered") != std::string_view::npos;
    report.format = "exim";
    report.kind = warning ? "delayed" : "bounce";

    // Split into address blocks.
    const auto lines = text::splitLines(human);
    struct Block {
        std::string address;
        std::string text; ///< the address line and the error lines under it
    };
    std::vector<Block> blocks;
    bool inBlock = false;
    for (const auto& line : lines) {
        const auto t = line.text;
        if (isAddressLine(t)) {
            Block b;
            auto trimmed = text::trim(t);
            if (!trimmed.starts_with("pipe to |") && !trimmed.starts_with("an undisclosed")) {
                // "<a@b>: message" or "a@b: message" or "a@b <c@d>: message"
                const auto found = findAddresses(trimmed);
                if (!found.empty())
                    b.address = found.front();
            }
            b.text = std::string(trimmed);
            blocks.push_back(std::move(b));
            inBlock = true;
            continue;
        }
        if (!inBlock)
            continue;
        if (text::trim(t).empty()) {
            inBlock = false;
            continue;
        }
        if (!text::isSpace(t.front())) {
            // "The following text was generated during the delivery attempt:" and the like end
            // the block; the generated text itself starts with "------ " and belongs to it.
            if (t.starts_with("------ ") && !blocks.empty()) {
                blocks.back().text += '\n';
                blocks.back().text += std::string(t);
                continue;
            }
            inBlock = false;
            continue;
        }
        auto& b = blocks.back();
        const auto trimmed = text::trim(t);
        // "(generated from x@y)" / "generated by x@y": the address a pipe or alias came from.
        if (b.address.empty()
            && (trimmed.starts_with("(generated from ") || trimmed.starts_with("generated by ")
                || trimmed.starts_with("(ultimately generated from "))) {
            const auto found = findAddresses(trimmed);
            if (!found.empty())
                b.address = found.front();
        }
        b.text += '\n';
        b.text += std::string(t);
    }
    // Exim 4.x also prints "The following text was generated during the delivery attempt:" and
    // then the text outside the indented block; keep it with the single recipient.
    if (blocks.size() == 1) {
        const auto g = human.find("The following text was generated during the delivery attempt");
        if (g != std::string_view::npos) {
            blocks.front().text += '\n';
            blocks.front().text += std::string(human.substr(g));
        }
    }
    if (blocks.empty()) {
        // Only the header names them.
        for (auto& a : findAddresses(email.headers.get("X-Failed-Recipients"))) {
            Block b;
            b.address = a;
            b.text = std::string(human);
            blocks.push_back(std::move(b));
        }
    }
    for (auto& b : blocks) {
        if (b.address.empty())
            continue;
        BounceRecipient r;
        r.address = b.address;
        r.action = warning ? "delayed" : "failed";
        r.context = b.text;
        const auto reply = primaryReply(b.text);
        if (reply.basicCode || !reply.enhancedCode.empty()) {
            r.reply = mta::withWrappedLines(b.text, reply.text,
                                            {"SMTP error", "LMTP error", "host ", "retry", "(generated", "------"});
            r.remoteMta = reply.remoteHost;
            r.command = reply.smtpStage;
        }
        if (r.command.empty()) {
            for (std::string_view marker : {"SMTP error from remote ", "LMTP error after "}) {
                const auto p = b.text.find(marker);
                if (p == std::string::npos)
                    continue;
                auto rest = std::string_view(b.text).substr(p);
                const auto after = rest.find("after ");
                if (after != std::string_view::npos)
                    r.command = mta::commandNamed(rest.substr(after, 40));
                break;
            }
        }
        // Sisimai's convention (lhost/via-exim.go): a refusal at MAIL FROM is first marked "on
        // hold" and, when the reply quotes no enhanced code, keeps the pseudo status of that
        // mark, X.0.901, whatever reason is decided later; the class follows the reply code (or
        // the warning). Adopted so the status agrees with Sisimai's corpus; the reason is still
        // read from the reply.
        if (r.command == "MAIL FROM" && reply.enhancedCode.empty() && r.status.empty()) {
            const bool temporary = reply.basicCode ? *reply.basicCode < 500 : warning;
            r.status = temporary ? "4.0.901" : "5.0.901";
        }
        // Exim's own words state the reason (Sisimai's Exim module reads them whatever code
        // the reply has). A cause it names beats its giving up ("mailbox is full: retry timeout
        // exceeded" is a full mailbox, retried until Exim stopped).
        {
            const Own* found = nullptr;
            bool gaveUp = false;
            for (const auto& own : kOwn) {
                if (b.text.find(own.words) == std::string::npos)
                    continue;
                gaveUp = gaveUp || own.reason == "expired";
                if (!found || found->reason == "expired")
                    found = &own;
            }
            if (found)
                r.reasonHint = std::string(found->reason);
            // Exim gives up on addresses whose last errors were temporary (Sisimai: 4.0.922 for
            // the full mailbox above).
            if (gaveUp)
                r.temporary = true;
        }
        if (!reply.basicCode && r.reasonHint.empty() && b.text.find("pipe to |") != std::string::npos)
            r.reasonHint = "mailererror";
        if (r.reasonHint.empty() && (r.command == "EHLO" || r.command == "HELO") && !reply.basicCode)
            r.reasonHint = "blocked";
        if (warning && r.reasonHint.empty() && !reply.basicCode)
            r.reasonHint = "expired";
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
