// SPDX-License-Identifier: MIT
// Gmail's own bounce text (mailer-daemon@googlemail.com, no DSN part):
//
//   Delivery to the following recipient failed permanently:      (or "has been delayed:")
//
//        user@example.jp
//
//   Technical details of permanent failure:
//   Google tried to deliver your message, but it was rejected by the recipient domain. …
//   The error that the other server returned was: 550 550 5.1.1 <user@example.jp>... (state 14).
//
// "(state N)" is Gmail's SMTP state when the remote server answered: it names the command.
// Newer Gmail and Google Workspace bounces carry a message/delivery-status part: read as RFC 3464.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <array>
#include <utility>

namespace bt::formats
{

namespace
{

std::string commandOfState(std::string_view diag)
{
    const auto p = text::findNoCase(diag, "(state ");
    if (p == std::string_view::npos)
        return {};
    std::size_t e = p + 7;
    std::string n;
    while (e < diag.size() && text::isDigit(diag[e]))
        n += diag[e++];
    // Gmail's SMTP client states, as its bounces and Google's forum answers show them.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 9> states = {{
        {"6", "MAIL FROM"},
        {"8", "AUTH"},
        {"9", "AUTH"},
        {"12", "AUTH"},
        {"13", "EHLO"},
        {"14", "RCPT TO"},
        {"15", "DATA"},
        {"17", "DATA"},
        {"18", "DATA"},
    }};
    for (const auto& [s, c] : states)
        if (n == s)
            return std::string(c);
    return {};
}

/// The remote server's words: what follows "The error that the other server returned was:".
std::string quotedReply(std::string_view details)
{
    constexpr std::string_view marker = "The error that the other server returned was:";
    const auto p = text::findNoCase(details, marker);
    if (p == std::string_view::npos)
        return {};
    auto rest = text::trim(details.substr(p + marker.size()));
    const auto end = rest.find("\n\n");
    if (end != std::string_view::npos)
        rest = rest.substr(0, end);
    return text::collapseSpace(rest);
}

/// "rejected by the server for the recipient domain example.jp by mx.example.jp. [192.0.2.59]."
std::string remoteHost(std::string_view details)
{
    constexpr std::string_view marker = "recipient domain ";
    const auto p = text::findNoCase(details, marker);
    if (p == std::string_view::npos)
        return {};
    const auto rest = details.substr(p + marker.size());
    const auto by = rest.find(" by ");
    if (by == std::string_view::npos || by > 120)
        return {};
    auto host = rest.substr(by + 4);
    const auto sp = text::findFirstOf(host, " \n[");
    host = host.substr(0, sp);
    while (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    return std::string(host);
}

bool fromGoogle(const Email& email)
{
    const auto from = text::toLower(email.headers.get("From"));
    return from.find("mailer-daemon@googlemail.com") != std::string::npos
        || from.find("mailer-daemon@gmail.com") != std::string::npos
        || from.find("mailer-daemon@google.com") != std::string::npos;
}

/// Gmail and Google Workspace DSNs: RFC 3464, read as such. Google reports a failed MX lookup as
/// "DNS Error: … responded with code NXDOMAIN" under a 4.x.x Status when it only gave up on a
/// lookup that failed at the time (the domain may well exist): a network problem, not an unknown
/// host. With a 5.x.x Status the domain is really gone and the reply's own wording decides.
bool parseGoogleDsn(const Email& email, BounceReport& report)
{
    if (!parseRfc3464(email, report))
        return false;
    report.format = "gmail";
    for (auto& r : report.recipients) {
        if (r.status.empty() || r.status.front() != '4')
            continue;
        const auto& d = r.reply;
        if (text::findNoCase(d, "DNS Error") == std::string_view::npos)
            continue;
        if (text::findNoCase(d, "NXDOMAIN") != std::string_view::npos
            || text::findNoCase(d, "Domain name not found") != std::string_view::npos
            || text::findNoCase(d, "had no relevant answers") != std::string_view::npos)
            r.reasonHint = "networkerror";
    }
    return true;
}

/// Google's own verdict in its "** Address not found **" notice. Only the sentence that goes on
/// "Check for typos …" says Google found no such mailbox; the variant "… couldn't be found, or is
/// unable to receive mail" also covers a remote filter, so it states nothing (Sisimai's
/// GoogleWorkspace module reads the same sentence as userunknown and leaves the other to the reply).
void googleVerdict(const Email& email, BounceReport& report)
{
    if (text::findNoCase(bodyBeforeOriginal(email.body), "because the address couldn't be found. Check for typos")
        == std::string_view::npos)
        return;
    for (auto& r : report.recipients)
        if (r.reasonHint.empty())
            r.reasonHint = "userunknown";
}

} // namespace

bool parseGmail(const Email& email, BounceReport& report)
{
    if (!fromGoogle(email))
        return false;
    if (!email.deliveryStatus.empty()) {
        if (!parseGoogleDsn(email, report))
            return false;
        googleVerdict(email, report);
        return true;
    }
    const auto human = bodyBeforeOriginal(email.body);
    if (text::findNoCase(human, "Delivery to the following recipient") == std::string_view::npos)
        return false;
    report.format = "gmail";

    // Blocks: a "Delivery to the following recipient…" line, the indented addresses, then the
    // technical details that apply to them all.
    struct Block {
        bool delayed = false;
        std::vector<std::string> addresses;
        std::string details;
    };
    std::vector<Block> blocks;
    for (const auto& line : text::splitLines(human)) {
        const auto t = line.text;
        const auto trimmed = text::trim(t);
        if (text::startsWithNoCase(trimmed, "Delivery to the following recipient")) {
            Block b;
            b.delayed = text::findNoCase(trimmed, "delayed") != std::string_view::npos;
            blocks.push_back(std::move(b));
            continue;
        }
        if (blocks.empty())
            continue;
        auto& b = blocks.back();
        if (!t.empty() && text::isSpace(t.front()) && trimmed.find('@') != std::string_view::npos
            && trimmed.find(' ') == std::string_view::npos && b.details.empty()) {
            const auto a = findAddresses(trimmed);
            if (!a.empty())
                b.addresses.push_back(a.front());
            continue;
        }
        if (!b.addresses.empty()) {
            b.details += t;
            b.details += '\n';
        }
    }
    bool anyFailed = false;
    for (const auto& b : blocks) {
        const auto details = std::string(text::trim(b.details));
        auto reply = quotedReply(details);
        if (reply.empty()) {
            // No quote of the remote server: a reply-like line in the details still counts.
            const auto found = primaryReply(details);
            if (found.basicCode)
                reply = found.text;
        }
        for (const auto& a : b.addresses) {
            BounceRecipient r;
            r.address = a;
            r.action = b.delayed ? "delayed" : "failed";
            r.reply = reply;
            r.command = commandOfState(reply.empty() ? details : reply);
            r.remoteMta = remoteHost(details);
            r.context = details.empty() ? std::string(text::trim(human)) : details;
            // "Technical details of temporary failure": Gmail states the class itself.
            if (text::findNoCase(human, "temporary failure") != std::string_view::npos)
                r.temporary = true;
            anyFailed = anyFailed || !b.delayed;
            report.recipients.push_back(std::move(r));
        }
    }
    if (!anyFailed && !report.recipients.empty())
        report.kind = "delayed";
    googleVerdict(email, report);
    return !report.recipients.empty();
}

} // namespace bt::formats
