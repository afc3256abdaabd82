// SPDX-License-Identifier: MIT
// DragonFly Mail Agent (dma) bounce text (dma's mail.c bounce()). One notice per recipient: dma
// queues and delivers each recipient on its own, in its own SMTP session.
//
//   This is the DragonFly Mail Agent v0.13 at mx.example.jp.
//
//   There was an error delivering your mail to <kijitora@example.com>.
//
//   192.0.2.1 [192.0.2.1] did not like our RCPT TO:
//   550-5.1.1 Mailbox does not exist
//   550 5.1.1 bob@example.com ... user unknown
//
//   Message headers follow.            (or "Original message follows." with FULLBOUNCE)
//
// The paragraph after the recipient is dma's error message: the remote server's reply, all its
// lines as they came, after the command it answered; or dma's own words ("Could not deliver for
// the last 432000 seconds. Giving up." when the 5-day queue lifetime ran out on a temporary
// failure, whose reply dma does not keep).
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>

namespace bt::formats
{

namespace
{

constexpr std::string_view kError = "There was an error delivering your mail to <";
constexpr std::string_view kDidNotLike = " did not like our ";

/// The SMTP command dma names in "did not like our COMMAND:", in the engine's spelling. dma says
/// "connect" for the greeting and "final DATA" for the reply after the message.
std::string commandOf(std::string_view words)
{
    words = text::trim(words);
    if (text::startsWithNoCase(words, "connect"))
        return "CONN";
    if (text::startsWithNoCase(words, "final "))
        words.remove_prefix(6);
    return mta::commandAt(words);
}

} // namespace

bool parseDragonfly(const Email& email, BounceReport& report)
{
    const std::string_view body = email.body;
    const auto start = body.find(kError);
    if (start == std::string_view::npos)
        return false;
    // The agent's banner or its subject: the sentence alone is too common a wording to claim.
    if (body.find("This is the DragonFly Mail Agent") == std::string_view::npos
        && withoutSubjectTags(email.headers.get("Subject")) != "Mail delivery failed")
        return false;
    auto rest = body.substr(start + kError.size());
    const auto close = rest.find('>');
    if (close == std::string_view::npos)
        return false;
    BounceRecipient r;
    r.address = cleanAddress(rest.substr(0, close));
    if (r.address.empty())
        return false;
    r.action = "failed";
    rest = rest.substr(close + 1);
    // dma's error message: what follows the sentence, up to where the returned message begins.
    auto end = rest.size();
    for (const std::string_view marker : {"\nMessage headers follow.", "\nOriginal message follows."})
        end = std::min(end, rest.find(marker));
    auto message = rest.substr(0, end);
    if (const auto nl = message.find('\n'); nl != std::string_view::npos)
        message.remove_prefix(nl + 1); // the rest of the sentence's line (".")
    message = text::trim(message);
    r.context = std::string(message);

    // "HOST [IP] did not like our COMMAND:" then the reply, one line per line of it; the lines are
    // joined with a space, as the other readers join a multi-line reply.
    std::string reply;
    bool afterCommand = false;
    for (const auto& line : text::splitLines(message)) {
        const auto t = text::trim(line.text);
        if (!afterCommand) {
            const auto p = t.find(kDidNotLike);
            if (p != std::string_view::npos && t.ends_with(":")) {
                afterCommand = true;
                r.remoteMta = std::string(text::trim(t.substr(0, p)));
                auto command = t.substr(p + kDidNotLike.size());
                command.remove_suffix(1); // the ':'
                r.command = commandOf(command);
            }
            continue;
        }
        if (t.empty())
            break;
        if (!reply.empty())
            reply += ' ';
        reply += t;
    }
    if (!reply.empty() && parseReply(reply).basicCode) {
        r.reply = std::move(reply);
    } else if (message.find("Could not deliver for the last") != std::string_view::npos
               && message.find("Giving up") != std::string_view::npos) {
        // dma retries only a temporary failure and gives up on it when the queue lifetime ran out.
        // The notice returns the message for good: the status derived for it stays a failure's
        // (5.0.947, as Sisimai reads it), and nothing in it says a hard bounce.
        r.reasonHint = "expired";
    } else if (message.find("DNS lookup failure") != std::string_view::npos) {
        r.reasonHint = "hostunknown";
    }
    report.format = "dragonfly";
    report.recipients.push_back(std::move(r));
    return true;
}

} // namespace bt::formats
