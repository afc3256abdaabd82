// SPDX-License-Identifier: MIT
// Sendmail's own bounce text when no RFC 3464 part carries the details: Sendmail V5/V8 without
// DSN, and the same templates from Sendmail clones. savemail.c writes
//
//   ----- The following addresses had permanent fatal errors -----
//   <kijitora@example.jp>
//       (reason: 550 5.1.1 User unknown)
//
//   ----- Transcript of session follows -----
//   While talking to mx.example.jp:
//   >>> RCPT To:<kijitora@example.jp>
//   <<< 550 5.1.1 <kijitora@example.jp>... User unknown
//   550 <kijitora@example.jp>... User unknown
//
// The "<<<" lines are the remote server's replies; a line "NNN <addr>... text" is Sendmail's
// verdict on one recipient; "NNN host (smtp)... text" one on a whole host.
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>

namespace bt::formats
{

namespace
{

bool isCode(std::string_view s)
{
    return s.size() >= 4 && text::isDigit(s[0]) && text::isDigit(s[1]) && text::isDigit(s[2]) && s[3] == ' '
        && (s[0] == '4' || s[0] == '5' || s[0] == '2');
}

/// "Message could not be delivered for 5 days", "Cannot send message for 4 days",
/// "Warning: message still undelivered after 4 hours".
bool gaveUp(std::string_view s)
{
    return text::findNoCase(s, "could not be delivered for") != std::string_view::npos
        || text::findNoCase(s, "Cannot send message for") != std::string_view::npos
        || text::findNoCase(s, "could not send message for past") != std::string_view::npos;
}

} // namespace

bool parseSendmail(const Email& email, BounceReport& report)
{
    const std::string_view body = email.body;
    const auto transcriptAt = body.find("----- Transcript of session follows -----");
    const auto fatalAt = body.find("----- The following addresses had permanent fatal errors -----");
    if (transcriptAt == std::string_view::npos && fatalAt == std::string_view::npos)
        return false;
    const auto human = bodyBeforeOriginal(body);
    report.format = "sendmail";
    const auto subject = email.headers.get("Subject");
    const bool warning = text::startsWithNoCase(withoutSubjectTags(subject), "Warning:");
    if (warning)
        report.kind = "delayed";

    // Split the transcript into "While talking to host:" sessions.
    std::string_view transcript = transcriptAt < human.size() ? human.substr(transcriptAt) : std::string_view {};
    struct Entry {
        std::string address, reply, context, command, remote;
    };
    std::vector<Entry> entries;
    auto entryFor = [&](const std::string& address) -> Entry& {
        for (auto& e : entries)
            if (text::toLower(e.address) == text::toLower(address))
                return e;
        entries.push_back({address, {}, {}, {}, {}});
        return entries.back();
    };

    // Recipients listed under "permanent fatal errors", with "(reason: …)".
    if (fatalAt != std::string_view::npos) {
        auto list = human.substr(std::min(fatalAt, human.size()));
        const auto end = list.find("-----", 70);
        list = list.substr(0, end);
        std::string current;
        for (const auto& line : text::splitLines(list)) {
            const auto t = text::trim(line.text);
            if (t.empty() || t.starts_with("-----"))
                continue;
            if (t.starts_with("(reason:") && !current.empty()) {
                auto& e = entryFor(current);
                auto reason = t.substr(8);
                if (reason.ends_with(")"))
                    reason.remove_suffix(1);
                e.reply = std::string(text::trim(reason));
                continue;
            }
            if (t.starts_with("(expanded from"))
                continue;
            const auto found = findAddresses(t);
            if (!found.empty()) {
                current = found.front();
                entryFor(current);
            }
        }
    }

    // The transcript: sessions, remote replies, and Sendmail's per-recipient verdicts.
    std::string remote, lastCommand, lastRemoteReply, hostLevelReply;
    for (const auto& line : text::splitLines(transcript)) {
        const auto t = text::trim(line.text);
        if (t.empty())
            continue;
        if (text::startsWithNoCase(t, "While talking to ") || t.starts_with("... while talking to ")) {
            const auto p = text::findNoCase(t, "talking to ");
            remote = std::string(text::trim(t.substr(p + 11)));
            while (!remote.empty() && (remote.back() == ':' || remote.back() == '.'))
                remote.pop_back();
            lastCommand.clear();
            lastRemoteReply.clear();
            continue;
        }
        if (t.starts_with(">>> ")) {
            lastCommand = mta::commandAt(t.substr(4));
            continue;
        }
        if (t.starts_with("<<< ")) {
            const auto r = text::trim(t.substr(4));
            if (!r.empty() && (r[0] == '4' || r[0] == '5') && lastRemoteReply.empty())
                lastRemoteReply = std::string(r);
            continue;
        }
        // "554 <kijitora@example.org>... 550 Host unknown", "<kijitora@example.jp>... Deferred: …",
        // "kijitora... Deferred: Connection refused by [127.0.0.1]".
        std::string_view rest = t;
        std::string_view ownCode;
        if (isCode(rest)) {
            ownCode = rest.substr(0, 3);
            rest = text::trim(rest.substr(4));
        }
        const auto dots = rest.find("... ");
        if (dots == std::string_view::npos)
            continue;
        const auto who = rest.substr(0, dots);
        const auto said = text::trim(rest.substr(dots + 4));
        const auto found = findAddresses(who);
        if (found.empty()) {
            // "421 example.org (smtp)... Deferred: …": about a host, kept for recipients without one.
            if (hostLevelReply.empty())
                hostLevelReply = std::string(t);
            continue;
        }
        auto& e = entryFor(found.front());
        e.context += std::string(t) + "\n";
        if (e.remote.empty())
            e.remote = remote;
        if (!lastRemoteReply.empty() && e.command.empty()) {
            // The remote server's reply explains Sendmail's "Remote protocol error". A bare code
            // explains nothing: Sendmail's own "Deferred: 421" says what became of the message
            // (deferred until it gave up), which the bare "<<< 421" at connect would read as a block.
            const bool bareCode
                = std::none_of(lastRemoteReply.begin(), lastRemoteReply.end(), [](char c) { return text::isAlpha(c); });
            const bool deferred = text::startsWithNoCase(said, "Deferred");
            e.reply = bareCode && deferred ? std::string(said) : lastRemoteReply;
            e.command = lastCommand.empty() ? "CONN" : lastCommand;
            e.context += lastRemoteReply + "\n";
            lastRemoteReply.clear();
        } else if (e.reply.empty()) {
            // "554 <a@b>... 550 Host unknown": the quoted code is the remote one.
            e.reply = isCode(said)
                ? std::string(said)
                : (ownCode.empty() ? std::string(said) : std::string(ownCode) + " " + std::string(said));
        }
    }

    // A report without MIME headers still holds its delivery-status fields as text: they name
    // the recipients exactly and give the Status.
    BounceReport dsn;
    if (email.deliveryStatus.empty())
        parseDeliveryStatus(mta::inlineDeliveryStatus(body), dsn);
    if (!dsn.recipients.empty()) {
        report.reportingMta = dsn.reportingMta;
        report.arrivalDate = dsn.arrivalDate;
        std::vector<Entry> merged;
        for (const auto& d : dsn.recipients) {
            Entry m {d.address, d.reply, {}, {}, d.remoteMta};
            for (const auto& e : entries)
                if (text::toLower(e.address) == text::toLower(d.address) || entries.size() == 1) {
                    m = e;
                    m.address = d.address;
                    if (m.reply.empty())
                        m.reply = d.reply;
                }
            merged.push_back(std::move(m));
        }
        entries = std::move(merged);
    }
    // No address in the text: the returned message's recipient is the one that failed.
    if (entries.empty()) {
        std::optional<Headers> original = email.original;
        if (!original)
            original = inlineOriginal(body);
        if (original)
            for (const auto& a : findAddresses(original->get("To")))
                entries.push_back({a, {}, {}, {}, {}});
    }
    const bool expired = gaveUp(human) || gaveUp(subject);
    for (auto& e : entries) {
        BounceRecipient r;
        r.address = e.address;
        r.action = warning ? "delayed" : "failed";
        r.reply = e.reply.empty() ? hostLevelReply : e.reply;
        // A host-level line is Sendmail's, "421 host (smtp)... Deferred: …": keep only its reply part.
        if (e.reply.empty() && !hostLevelReply.empty()) {
            const auto dots = hostLevelReply.find("... ");
            const auto said = dots == std::string::npos ? std::string_view(hostLevelReply)
                                                        : text::trim(std::string_view(hostLevelReply).substr(dots + 4));
            r.reply = isCode(said) || !isCode(hostLevelReply) ? std::string(said)
                                                              : hostLevelReply.substr(0, 4) + std::string(said);
        }
        r.command = e.command;
        r.remoteMta = e.remote;
        r.context = e.context.empty() ? std::string(transcript.substr(0, 1500)) : e.context;
        if (expired && (e.reply.empty() || text::findNoCase(r.reply, "Deferred") != std::string::npos))
            r.reasonHint = "expired";
        for (const auto& d : dsn.recipients)
            if (d.address == r.address) {
                r.status = d.status;
                r.lastAttempt = d.lastAttempt;
                if (!d.action.empty())
                    r.action = d.action;
            }
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
