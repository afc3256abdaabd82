// SPDX-License-Identifier: MIT
// The fallback for any bounce no module knows: find the failed addresses in the bounce's own
// text and, for each, the reply or sentence that follows it.
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>
#include <array>
#include <optional>
#include <set>

namespace bt::formats
{

namespace
{

bool looksLikeBounce(const Email& email, std::string_view human)
{
    const auto from = text::toLower(email.headers.get("From"));
    const auto subject = text::toLower(email.headers.get("Subject"));
    static constexpr std::string_view senders[]
        = {"mailer-daemon",      "mailer_daemon", "mailerdaemon", "postmaster", "mail delivery",
           "mail administrator", "mdaemon",       "no-reply",     "bounce"};
    // English and the localised subjects of the common MTAs (Exchange, Postfix and Exim
    // translations, Japanese and Russian providers).
    static constexpr std::string_view subjects[] = {"undeliver",
                                                    "delivery status",
                                                    "failure",
                                                    "returned mail",
                                                    "undelivered",
                                                    "delivery fail",
                                                    "not be delivered",
                                                    "not delivered",
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
                                                    "delayed",
                                                    "unzustellbar",
                                                    "nicht zugestellt",
                                                    "non remis",
                                                    "non distribu",
                                                    "\xc3\xa9"
                                                    "chec de la remise", // échec de la remise
                                                    "no entregado",
                                                    "no se pudo entregar",
                                                    "non recapitat",
                                                    "mancata consegna",
                                                    "onbestelbaar",
                                                    "niet afgeleverd",
                                                    "niedostarcz",
                                                    "\xd0\xbd\xd0\xb5 \xd0\xb4\xd0\xbe\xd1\x81\xd1\x82\xd0\xb0\xd0\xb2"
                                                    "\xd0\xbb\xd0\xb5\xd0\xbd", // не доставлен
                                                    "\xe9\x85\x8d\xe4\xbf\xa1\xe4\xb8\x8d\xe8\x83\xbd", // 配信不能
                                                    "\xe6\x9c\xaa\xe9\x81\x94"}; // 未達
    for (const auto s : senders)
        if (from.find(s) != std::string::npos)
            return true;
    for (const auto s : subjects)
        if (subject.find(s) != std::string::npos)
            return true;
    // A server reply in the text is enough too.
    return primaryReply(human).basicCode.has_value();
}

bool isMailerDaemon(std::string_view address)
{
    return text::startsWithNoCase(address, "mailer-daemon@");
}

/// The bounce's own From, To or Return-Path: the mail system and the original's sender.
bool inBounceHeaders(std::string_view address, const Email& email)
{
    const auto lower = text::toLower(address);
    for (const char* h : {"From", "To", "Return-Path"}) {
        const auto v = text::toLower(email.headers.get(h));
        if (!v.empty() && v.find(lower) != std::string::npos)
            return true;
    }
    return false;
}

/// What stands before offset `p` on its line of `human`, trimmed, without an opening bracket or
/// quote: empty when the line begins there ("<a@b>: host x said: …", a listing's "a@b").
std::string_view beforeOnLine(std::string_view human, std::size_t p)
{
    const auto nl = human.rfind('\n', p == 0 ? 0 : p - 1);
    const auto lineStart = nl == std::string_view::npos || p == 0 ? 0 : nl + 1;
    auto before = text::trim(human.substr(lineStart, p - lineStart));
    while (!before.empty() && (before.back() == '<' || before.back() == '"' || before.back() == '\''))
        before.remove_suffix(1);
    return before;
}

/// How clearly `human` names `address` as a failed recipient: 2 when a line starts with it
/// ("<a@b>: host x said: …", "a@b" under "The following addresses failed:") or a line quoting an
/// SMTP reply code holds it; 1 when it stands in a sentence about a recipient or a failed
/// delivery; 0 for mentions in passing ("contact a@b") or as something else (a Message-ID).
int namedAsRecipient(std::string_view human, std::string_view address)
{
    static constexpr std::string_view cues[]
        = {"recipient",      "address",       "deliver",   "failed",       "rcpt",         "user",     "mailbox",
           "unknown",        "rejected",      "not found", "error",        "bounce",       "refused",  "invalid",
           "does not exist", "doesn't exist", "no such",   "quota",        "full",         "expired",  "giving up",
           "unreachable",    "destinat",      "empf",      "destinataire", "destinatario", "adresse",  "zugestellt",
           "entregar",       "consegna",      "failure",   "problem",      "could not",    "couldn't", "unable",
           "denied",         "blocked",       "said",      "reason"};
    int best = 0;
    for (auto p = text::findNoCase(human, address); p != std::string_view::npos && best < 2;
         p = text::findNoCase(human, address, p + address.size())) {
        if (mentionIsNotRecipient(human, p))
            continue;
        const auto nl = human.rfind('\n', p == 0 ? 0 : p - 1);
        const auto lineStart = nl == std::string_view::npos ? 0 : nl + 1;
        auto lineEnd = human.find('\n', p);
        if (lineEnd == std::string_view::npos)
            lineEnd = human.size();
        const auto line = human.substr(lineStart, lineEnd - lineStart);
        if (beforeOnLine(human, p).empty() || primaryReply(line).basicCode) {
            best = 2;
            break;
        }
        const auto lower = text::toLower(line);
        for (const auto cue : cues)
            if (lower.find(cue) != std::string::npos) {
                best = 1;
                break;
            }
    }
    return best;
}

/// True when some line of `human` begins with `address` (after spaces and an opening bracket or
/// quote): a listing names it there.
bool startsALine(std::string_view human, std::string_view address)
{
    for (auto p = text::findNoCase(human, address); p != std::string_view::npos;
         p = text::findNoCase(human, address, p + address.size()))
        if (beforeOnLine(human, p).empty())
            return true;
    return false;
}

/// The sender side of the returned message (its From, Return-Path, Reply-To, Sender) and the
/// bounce's own To (a bounce goes back to the sender): never the failed recipient, unless the
/// bounce's text says so explicitly.
std::vector<std::string> senderSide(const Email& email)
{
    std::vector<std::string> out;
    for (auto& a : findAddresses(email.headers.get("To")))
        out.push_back(text::toLower(a));
    std::optional<Headers> inl;
    const Headers* h = email.original ? &*email.original : nullptr;
    if (!h && (inl = inlineOriginal(email.body)))
        h = &*inl;
    if (!h)
        return out;
    for (const char* name : {"From", "Return-Path", "Reply-To", "Sender"})
        for (auto& a : findAddresses(h->get(name)))
            out.push_back(text::toLower(a));
    return out;
}

/// A reply the text quotes ("Remote Server returned '550 5.1.1 …'", German "Remoteserver hat
/// '550 …' zurückgegeben", French "… a retourné « 550 … »") ends at its closing quote: the words
/// after it are the MTA's sentence, not the server's.
std::string withoutClosingQuote(std::string_view human, const std::string& reply)
{
    if (reply.size() < 8)
        return reply;
    const auto at = human.find(std::string_view(reply).substr(0, 8));
    if (at == std::string_view::npos || at == 0)
        return reply;
    std::string_view close;
    if (human[at - 1] == '\'')
        close = "'";
    else if (human[at - 1] == '"')
        close = "\"";
    else if ((at >= 2 && human.substr(at - 2, 2) == "\xc2\xab") || (at >= 3 && human.substr(at - 3, 3) == "\xc2\xab "))
        close = "\xc2\xbb"; // guillemets, UTF-8 C2 AB … C2 BB
    if (close.empty())
        return reply;
    const auto end = reply.rfind(close);
    // Only a short tail after the quote is cut: a quote inside a long reply is the server's own.
    if (end == std::string::npos || end < reply.size() / 2 || reply.size() - end > 60)
        return reply;
    return std::string(text::trim(std::string_view(reply).substr(0, end)));
}

/// "Reason:    5.1.1 <a@b>... User unknown": the listing's label is not the server's.
std::string withoutLabel(const std::string& reply)
{
    const auto colon = reply.find(':');
    if (colon == std::string::npos || colon == 0 || colon > 20)
        return reply;
    for (std::size_t i = 0; i < colon; ++i)
        if (!text::isAlpha(reply[i]) && reply[i] != ' ' && reply[i] != '-')
            return reply;
    const auto rest = text::trim(std::string_view(reply).substr(colon + 1));
    if (rest.size() < 5 || !text::isDigit(rest[0]) || (rest[1] != '.' && !text::isDigit(rest[1])))
        return reply;
    return std::string(rest);
}

/// The SMTP command a reply answered when the reply itself does not say it ("(in reply to RCPT TO
/// command)" is read by the reply parser): a session transcript in the block (">>> RCPT To:<a@b>"
/// then "<<< 550 …"), or a tag or sentence on the reply's own line or the line right after it
/// ("[RCPT_TO]", "after RCPT TO", "in reply to end of DATA"). The stage decides between a mailbox
/// that does not exist (refused at RCPT TO) and a filter's refusal (after DATA). Commands are read
/// in upper case only, so prose ("mail from your account") never names one.
std::string stageAround(std::string_view block, std::string_view address, std::string_view reply)
{
    if (block.find(">>> ") != std::string_view::npos) {
        const auto t = mta::readTranscript(block, address);
        if (!t.command.empty())
            return t.command;
    }
    const auto first = text::trim(reply).substr(0, std::min<std::size_t>(40, text::trim(reply).size()));
    const auto at = first.empty() ? std::string_view::npos : block.find(first);
    if (at == std::string_view::npos)
        return {};
    // The reply's line (as long as the reply, wrapped lines included) and one line more.
    auto stop = block.find('\n', std::min(block.size(), at + reply.size()));
    if (stop != std::string_view::npos)
        stop = block.find('\n', stop + 1);
    auto near = block.substr(at, (stop == std::string_view::npos ? block.size() : stop) - at);
    std::string named(near);
    std::replace(named.begin(), named.end(), '_', ' '); // "[RCPT_TO]", "MAIL_FROM"
    return mta::commandNamed(named);
}

/// True when only separators (blanks, line breaks, commas, semicolons, angle brackets, quotes)
/// stand between the end of one address, at `from`, and the next, at `to`: a list of addresses.
bool listedAfter(std::string_view human, std::size_t from, std::size_t to)
{
    if (from > to || to > human.size())
        return false;
    const auto between = human.substr(from, to - from);
    return std::all_of(between.begin(), between.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ';' || c == '<' || c == '>'
            || c == '"' || c == '\'';
    });
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

    auto candidatesIn = [&](std::string_view t) {
        std::vector<std::string> out;
        for (auto& a : findAddresses(t)) {
            if (isMailerDaemon(a))
                continue;
            // The bounce's own From/To/Return-Path is the sender being told, unless a line of
            // the text is about that very address (a message sent to oneself).
            if (inBounceHeaders(a, email) && namedAsRecipient(t, a) < 2)
                continue;
            // Every mention is a Message-ID, a listing's sender or an authentication result.
            bool any = false;
            for (auto p = text::findNoCase(t, a); p != std::string_view::npos && !any;
                 p = text::findNoCase(t, a, p + a.size()))
                any = !mentionIsNotRecipient(t, p);
            if (any)
                out.push_back(std::move(a));
        }
        return out;
    };
    // A copy of the returned message's headers without a marker before it ("Message headers
    // follow.", "------- Returned Message --------"): its addresses are not the bounce's.
    if (const auto cut = returnedHeadersStart(human); cut != std::string_view::npos)
        if (!candidatesIn(human.substr(0, cut)).empty())
            human = human.substr(0, cut);
    std::vector<std::string> candidates = candidatesIn(human);
    // Addresses the text names as failed recipients win over those it mentions in passing; the
    // bounce's own X-Failed-Recipients header (Exim and others) names them outright.
    std::vector<std::string> named = findAddresses(email.headers.get("X-Failed-Recipients"));
    for (const auto& c : candidates)
        if (namedAsRecipient(human, c) > 0 && std::none_of(named.begin(), named.end(), [&](const std::string& n) {
                return text::toLower(n) == text::toLower(c);
            }))
            named.push_back(c);
    // The mail system's own role addresses ("please contact <postmaster@…>") are recipients only
    // when the text names them as such: a bounce for postmaster@ exists too.
    const auto role = [](const std::string& a) {
        const auto l = text::toLower(a);
        return l.starts_with("postmaster@") || l.starts_with("root@");
    };
    std::erase_if(candidates, role);
    // The mail system's role address that signs the bounce (From: postmaster@…) is its contact,
    // even on a line of its own ("… wenden Sie sich bitte an\npostmaster@example.net und …"),
    // unless the bounce's own failed-recipients header names it.
    const auto failedHeader = text::toLower(email.headers.get("X-Failed-Recipients"));
    std::erase_if(named, [&](const std::string& a) {
        return role(a) && inBounceHeaders(a, email) && failedHeader.find(text::toLower(a)) == std::string::npos;
    });
    // Whoever sent the notice (its From: a list's owner, "contact the list owner at
    // dev-list-owner@…", a gateway's notice address) wrote it about another address: the
    // author is its contact, whatever role its name says, unless the failed-recipients header
    // names it.
    const auto author = text::toLower(email.headers.get("From"));
    const auto isAuthor = [&](const std::string& a) {
        return !author.empty() && author.find(text::toLower(a)) != std::string::npos
            && failedHeader.find(text::toLower(a)) == std::string::npos;
    };
    std::erase_if(named, isAuthor);
    std::erase_if(candidates, isAuthor);
    // The returned message's sender quoted inside another recipient's reply ("info@example.org
    // (553 5.7.1 <sender@…>: Sender address rejected …)", GroupWise) is the refused sender, not a
    // failed recipient: only a line of its own or the failed-recipients header makes it one.
    const auto senders = senderSide(email);
    const auto isSender = [&](const std::string& a) {
        return std::find(senders.begin(), senders.end(), text::toLower(a)) != senders.end();
    };
    std::erase_if(named, [&](const std::string& a) {
        return isSender(a) && failedHeader.find(text::toLower(a)) == std::string::npos && !startsALine(human, a);
    });
    if (!named.empty())
        candidates = std::move(named);
    else
        std::erase_if(candidates, isSender);
    // The same address in other case is one recipient.
    std::vector<std::string> unique;
    for (auto& c : candidates)
        if (std::none_of(unique.begin(), unique.end(),
                         [&](const std::string& u) { return text::toLower(u) == text::toLower(c); }))
            unique.push_back(std::move(c));
    candidates = std::move(unique);
    // A bounce whose text names no address at all: the returned message's To is the failed
    // recipient only when it names exactly one (of several, nothing says which one failed).
    if (candidates.empty() && email.original) {
        auto to = findAddresses(email.original->get("To"));
        if (to.size() == 1 && findAddresses(email.original->get("Cc")).empty())
            candidates.push_back(std::move(to.front()));
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
    // Every mention of every candidate, in text order: a recipient may be listed first and its
    // reply given later under its name again (Exchange: "Delivery has failed to these
    // recipients" then "Diagnostic information for administrators").
    std::vector<std::pair<std::size_t, std::size_t>> allMentions; // position, candidate
    for (std::size_t c = 0; c < mentions.size(); ++c)
        for (auto p = text::findNoCase(human, mentions[c].second); p != std::string_view::npos;
             p = text::findNoCase(human, mentions[c].second, p + 1))
            allMentions.emplace_back(p, c);
    std::sort(allMentions.begin(), allMentions.end());
    auto blockEnd = [&](std::size_t candidate, std::size_t start) {
        // The block about this address runs until another address is mentioned (or 1500 bytes):
        // a reply quoted for one recipient must not be given to another.
        std::size_t end = std::min(human.size(), start + 1500);
        for (const auto& [p, c] : allMentions)
            if (p > start && c != candidate) {
                end = std::min(end, p);
                break;
            }
        return end;
    };
    for (std::size_t i = 0; i < mentions.size(); ++i) {
        BounceRecipient r;
        r.address = mentions[i].second;
        auto start = std::min(mentions[i].first, human.size());
        auto end = blockEnd(i, start);
        r.context = std::string(human.substr(start, end - start));
        auto reply = primaryReply(r.context);
        // A success reply ("250 2.1.0 Ok" to MAIL FROM in a session transcript) is not why a
        // recipient failed: a later block about the address may hold the refusal.
        const auto failing = [](const Reply& x) {
            const char cls = x.statusClass();
            return cls != '0' && cls != '2';
        };
        // The first block with a reply, when the first mention has none.
        for (const auto& [p, c] : allMentions) {
            if (failing(reply))
                break;
            if (c != i || p <= start)
                continue;
            const auto e = blockEnd(i, p);
            const auto later = primaryReply(human.substr(p, e - p));
            if (failing(later)) {
                reply = later;
                start = p;
                end = e;
                r.context = std::string(human.substr(start, end - start));
            }
        }
        // Look a little before the address too: "host X said: 550 … <addr>" puts it inside; but
        // never back into another recipient's text.
        auto from = start > 300 ? start - 300 : 0;
        for (const auto& [p, c] : allMentions)
            if (p < start && c != i)
                from = std::max(from, std::min(start, p + mentions[c].second.size()));
        if (!reply.basicCode && reply.enhancedCode.empty()) {
            const auto around = primaryReply(human.substr(from, end - from));
            if (around.basicCode || !around.enhancedCode.empty())
                reply = around;
            else if (!report.recipients.empty() && !report.recipients.back().reply.empty()
                     && listedAfter(human, mentions[i - 1].first + mentions[i - 1].second.size(), start)) {
                // One reply stated above a list of addresses ("Could not be delivered because of
                // 550 5.7.1 … The following recipients were affected: a@b c@d"): the address
                // listed right after another shares its reply.
                const auto& prev = report.recipients.back();
                r.reply = prev.reply;
                r.remoteMta = prev.remoteMta;
                r.command = prev.command;
            }
        }
        if (reply.basicCode || !reply.enhancedCode.empty()) {
            // Wrapped lines are looked for only up to the next recipient's mention, which a
            // listing "a@b ... 550 …" / "c@d ... 452 …" puts on the next line.
            r.reply = withoutLabel(
                withoutClosingQuote(human, mta::withWrappedLines(human.substr(from, end - from), reply.text)));
            r.remoteMta = reply.remoteHost;
            r.command = reply.smtpStage;
            if (r.command.empty())
                r.command = stageAround(human.substr(from, end - from), r.address, r.reply);
        }
        r.action = "failed";
        report.recipients.push_back(std::move(r));
    }
    // Ipswitch/Progress IMail Server (X-Mailer: <SMTP32 v…>) states its own verdict before the
    // address ("Unknown user: a@b"): IMail looked the recipient up itself, so these words are its
    // diagnosis, not a remote reply of unknown stage (Sisimai's IMailServer module reads them so).
    // Its bounce also comes without the X-Mailer field, under its own subject (Sisimai's test).
    std::set<std::string> ownVerdictLine;
    if (text::startsWithNoCase(text::trim(email.headers.get("X-Mailer")), "<SMTP32 v")
        || text::trim(email.headers.get("Subject")) == "Undeliverable Mail") {
        struct Verdict {
            std::string_view words, reason;
        };
        static constexpr Verdict verdicts[] = {
            {"Unknown user", "userunknown"},
            {"Invalid final delivery userid", "userunknown"},
            {"Unknown host", "hostunknown"},
            {"User mailbox exceeds allowed size", "mailboxfull"},
            {"Requested action not taken: virus detected", "virusdetected"},
            {"Delivery failed", "expired"}, // "Delivery failed 3 attempts: a@b": its retries ran out
        };
        for (auto& r : report.recipients) {
            const auto at = text::findNoCase(human, r.address);
            if (at == std::string_view::npos)
                continue;
            const auto newline = human.rfind('\n', at);
            const auto lineStart = newline == std::string_view::npos ? 0 : newline + 1;
            const auto lineEnd = std::min(human.find('\n', at), human.size());
            const auto before = human.substr(lineStart, at - lineStart);
            for (const auto& v : verdicts)
                if (text::findNoCase(before, v.words) != std::string_view::npos) {
                    r.reasonHint = std::string(v.reason);
                    // Its own line is this address's evidence, not the other addresses' verdicts.
                    ownVerdictLine.insert(r.address);
                    r.context = std::string(text::trim(human.substr(lineStart, lineEnd - lineStart)));
                    break;
                }
        }
    }
    // Without a single reply anywhere, the whole text is the best evidence for every address.
    if (std::all_of(report.recipients.begin(), report.recipients.end(),
                    [](const BounceRecipient& r) { return r.reply.empty(); })) {
        for (auto& r : report.recipients)
            if (!ownVerdictLine.contains(r.address))
                r.context = std::string(human);
    }
    return true;
}

} // namespace bt::formats
