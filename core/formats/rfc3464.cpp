// SPDX-License-Identifier: MIT
// RFC 3464 delivery status notifications: one record per recipient block. When the
// Diagnostic-Code is missing or says little, the human-readable part usually quotes the
// remote server for that recipient (Postfix "host X said: …"): take it from there. The human
// part also tells which SMTP command failed (Postfix "(in reply to RCPT TO command)", Sendmail
// and Courier transcripts ">>> DATA" / "<<< 550 …"), which the DSN fields never carry.
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>
#include <array>

namespace bt::formats
{

namespace
{

/// Header fields of the returned message that an NDR restates above its recipients.
constexpr std::array<std::string_view, 6> kAddressFields {"To:", "Cc:", "Bcc:", "From:", "Reply-To:", "Sender:"};

/// True when `at` starts another Sendmail entry of an expanded alias: a line "<final@x>" whose
/// "(expanded from: <alias@y>)" within the next lines names an address other than `address`.
bool anotherExpandedEntry(std::string_view at, std::string_view address)
{
    if (at.empty() || at.front() != '<')
        return false;
    const auto lines = text::splitLines(at.substr(0, 400));
    for (std::size_t i = 1; i < lines.size() && i < 4; ++i) {
        const auto t = text::trim(lines[i].text);
        if (!text::startsWithNoCase(t, "(expanded from"))
            continue;
        return text::findNoCase(t, address) == std::string_view::npos;
    }
    return false;
}

/// The human-readable text about `address`: from its first mention to the next blank line
/// that is followed by another recipient, bounded so one recipient never takes the next's reply.
/// A line that starts with another recipient of the report ends it too: OpenSMTPD lists one
/// "rcpt: reply" line per recipient with no blank line between them.
std::string contextFor(std::string_view body, std::string_view address, const std::vector<BounceRecipient>& all)
{
    if (address.empty())
        return {};
    // The first mention outside a restated header field of the returned message ("This report
    // relates to a message you sent with the following header fields: … To: a@x, b@y"): that
    // field names every recipient and says nothing about this one.
    auto p = text::findNoCase(body, address);
    for (auto at = p; at != std::string_view::npos; at = text::findNoCase(body, address, at + 1)) {
        const auto lineStart = body.rfind('\n', at);
        const auto line = text::trim(body.substr(lineStart == std::string_view::npos ? 0 : lineStart + 1));
        const bool headerField = std::any_of(kAddressFields.begin(), kAddressFields.end(),
                                             [&](std::string_view f) { return text::startsWithNoCase(line, f); });
        if (!headerField) {
            p = at;
            break;
        }
    }
    if (p == std::string_view::npos)
        return {};
    // Sendmail lists an alias under the address it expanded to, the reason between them:
    // "<final@x>\n (reason: 550 Host unknown)\n (expanded from: <alias@y>)". The entry starts at
    // the final address's line above.
    {
        const auto lineStart = body.rfind('\n', p);
        const auto from = lineStart == std::string_view::npos ? 0 : lineStart + 1;
        if (text::startsWithNoCase(text::trim(body.substr(from, p - from)), "(expanded from")) {
            auto at = from;
            for (int up = 0; up < 4 && at > 0; ++up) {
                const auto prev = body.rfind('\n', at - 2);
                const auto start = prev == std::string_view::npos ? 0 : prev + 1;
                const auto line = text::trim(body.substr(start, at - 1 - start));
                if (line.empty())
                    break;
                if (line.front() == '<' || line.front() == '"') {
                    p = start;
                    break;
                }
                at = start;
            }
        }
    }
    auto rest = body.substr(p);
    auto end = rest.find("\n\n");
    if (end == std::string_view::npos)
        end = rest.size();
    // Postfix may put a blank line between "<addr>:" and nothing else; keep at least 600 bytes,
    // unless the short paragraph already holds the reply ("<a@b>\n    (reason: 550 Host unknown)"):
    // the 600 bytes would reach into the next recipient's transcript.
    if (end < 80 && !primaryReply(rest.substr(0, end)).basicCode)
        end = std::min<std::size_t>(rest.size(), 600);
    if (all.size() > 1) {
        for (const auto& line : text::splitLines(rest.substr(0, end))) {
            if (line.offset == 0)
                continue;
            auto t = text::trim(line.text);
            // A label before the address: "Recipient address: b@y" (Messaging Server),
            // "Final-Recipient: rfc822; b@y".
            if (const auto colon = t.find(':'); colon != std::string_view::npos && colon < 40
                && t.substr(0, colon).find('@') == std::string_view::npos) {
                auto value = text::trim(t.substr(colon + 1));
                if (text::startsWithNoCase(value, "rfc822;"))
                    value = text::trim(value.substr(7));
                if (!value.empty() && value.find('@') != std::string_view::npos)
                    t = value;
            }
            if (!t.empty() && t.front() == '<')
                t.remove_prefix(1);
            // The whole address, then what ends it (":", ">", a blank), so that "a@example.co"
            // is not taken for the start of "a@example.com".
            const auto startsWith = [&t](std::string_view a) {
                return !a.empty() && text::startsWithNoCase(t, a)
                    && (t.size() == a.size() || t[a.size()] == ':' || t[a.size()] == '>' || t[a.size()] == ' ');
            };
            const bool another = std::any_of(all.begin(), all.end(),
                                             [&](const BounceRecipient& o) {
                                                 const bool self = o.address.size() == address.size()
                                                     && text::startsWithNoCase(o.address, address);
                                                 return !self && startsWith(o.address);
                                             })
                || anotherExpandedEntry(rest.substr(line.offset), address);
            if (another) {
                end = line.offset;
                break;
            }
        }
    }
    return std::string(rest.substr(0, end));
}

/// Courier and some gateways print the transcript for each recipient under its address, up to
/// the next address line or separator: the block that holds ">>>" lines about this recipient.
std::string_view transcriptBlock(std::string_view human, std::string_view address)
{
    const auto p = text::findNoCase(human, address);
    if (p == std::string_view::npos)
        return {};
    auto rest = human.substr(p);
    // Stop at a separator line of dashes or at the next "<addr>:" paragraph after a blank line.
    std::size_t end = rest.size();
    for (const auto& line : text::splitLines(rest)) {
        if (line.offset == 0)
            continue;
        const auto t = text::trim(line.text);
        if (t.starts_with("----")
            || (t.starts_with("<") && t.find('@') != std::string_view::npos && t.ends_with(">:"))) {
            end = line.offset;
            break;
        }
    }
    return rest.substr(0, end);
}

/// Exim's text for a delivery to a pipe that an alias or forward file of `address` generated:
/// the line "generated by <address>" follows a line "pipe to |command".
bool pipeGenerated(std::string_view human, std::string_view address)
{
    if (address.empty())
        return false;
    const std::string needle = "generated by " + std::string(address);
    for (auto at = text::findNoCase(human, needle); at != std::string_view::npos;) {
        const auto lineStart = human.rfind('\n', at);
        if (lineStart != std::string_view::npos && lineStart > 0) {
            const auto prevStart = human.rfind('\n', lineStart - 1);
            const auto b = prevStart == std::string_view::npos ? 0 : prevStart + 1;
            if (text::startsWithNoCase(text::trim(human.substr(b, lineStart - b)), "pipe to |"))
                return true;
        }
        at = text::findNoCase(human, needle, at + 1);
    }
    return false;
}

} // namespace

namespace
{

bool readReport(const Email& email, BounceReport& report, std::string_view deliveryStatus)
{
    parseDeliveryStatus(deliveryStatus, report);
    if (report.recipients.empty())
        return false;
    report.format = "rfc3464";
    const auto human = bodyBeforeOriginal(email.body);
    // Sendmail: "----- Transcript of session follows -----" then the session with the remote host.
    std::string_view session;
    if (const auto t = text::findNoCase(human, "Transcript of session follows"); t != std::string_view::npos)
        session = human.substr(t);
    bool anyFailed = false, anyDelayed = false;
    for (auto& r : report.recipients) {
        // Exim reports a pipe ("Final-Recipient: rfc822;|/usr/bin/prog …") and names the address it
        // was "generated by" in the text: the program failed, not the mailbox.
        if (r.address.starts_with("|") || r.address.starts_with("/")) {
            const bool program = r.address.starts_with("|");
            const auto g = text::findNoCase(human, "generated by ");
            if (g != std::string_view::npos) {
                const auto found = findAddresses(human.substr(g, 200));
                if (!found.empty()) {
                    r.originalAddress = r.address;
                    r.address = found.front();
                }
            }
            // A program that failed is a mailer error; a file ("save to /path") says why in the text.
            if (program && !parseReply(r.reply).basicCode)
                r.reasonHint = "mailererror";
        }
        // Exim 4.9x names the address a pipe was generated by in Final-Recipient and the pipe only
        // in its text ("pipe to |/usr/bin/prog …" / "generated by addr" / "local delivery failed"):
        // the program failed, whatever else the text says about retries ("retry timeout exceeded").
        if (r.reasonHint.empty() && !parseReply(r.reply).basicCode && pipeGenerated(human, r.address))
            r.reasonHint = "mailererror";
        // "Diagnostic-Code: X-Unix; 255": a local program's exit status, not an SMTP reply. Sendmail
        // prints its own verdict in the transcript ("554 5.3.0 unknown mailer error 255").
        // With other recipients' replies in the same transcript, the line that names a mailer's
        // failure is this one's; otherwise the first reply line.
        if (text::startsWithNoCase(text::trim(r.reply), "x-unix")) {
            std::string_view firstReply, mailerLine;
            for (const auto& line : text::splitLines(session)) {
                const auto t = text::trim(line.text);
                if (t.size() > 4 && (t[0] == '4' || t[0] == '5') && text::isDigit(t[1]) && text::isDigit(t[2])
                    && t[3] == ' ') {
                    if (firstReply.empty())
                        firstReply = t;
                    if (text::findNoCase(t, "mailer") != std::string_view::npos) {
                        mailerLine = t;
                        break;
                    }
                }
            }
            if (!mailerLine.empty() || !firstReply.empty())
                r.reply = std::string(mailerLine.empty() ? firstReply : mailerLine);
        }
        // "Diagnostic-Code: X-Notes; …" is Domino's own diagnosis in the words of its text-only
        // bounce (notes.cpp): where they say the directory has no such user, Domino looked the
        // recipient up itself, so the stage-less "user unknown is a filter" reading does not apply.
        if (r.reasonHint.empty() && text::startsWithNoCase(text::trim(r.reply), "x-notes"))
            r.reasonHint = dominoReasonHint(r.reply);
        r.context = contextFor(human, r.address, report.recipients);
        if (r.context.empty() && !r.originalAddress.empty())
            r.context = contextFor(human, r.originalAddress, report.recipients);
        // Domino's DSN may carry no Diagnostic-Code at all: then its text's "because:" sentence
        // about the recipient is its own diagnosis, read as in its text-only bounce.
        if (r.reasonHint.empty() && text::trim(r.reply).empty())
            r.reasonHint = dominoReasonHint(r.context);
        // Sendmail keeps only the first line of a multi-line reply ("550-5.7.1 … this message
        // is") in the Diagnostic-Code; the transcript holds the whole reply.
        const auto first = stripDiagnosticType(r.reply);
        if (!session.empty() && first.size() > 8 && text::isDigit(first[0]) && text::isDigit(first[1])
            && text::isDigit(first[2]) && first[3] == '-') {
            // Its line in the transcript ("<<< 550-5.7.1 …"), spaces as they were written there.
            const auto wanted = text::collapseSpace(first);
            for (const auto& line : text::splitLines(session)) {
                auto t = text::trim(line.text);
                if (t.starts_with("<<<"))
                    t = text::trim(t.substr(3));
                if (text::collapseSpace(t) != wanted)
                    continue;
                const auto whole = primaryReply(session.substr(line.offset));
                if (whole.text.size() > wanted.size() && whole.text.starts_with(first.substr(0, 3)))
                    r.reply = whole.text;
                break;
            }
        }
        auto diag = parseReply(r.reply);
        // A Diagnostic-Code without a reply in it ("X-Postfix; unknown user") is kept, but a
        // quoted server reply in the text about this recipient is better evidence.
        const auto quoted = r.context.empty() ? Reply {} : primaryReply(r.context);
        if (!diag.basicCode && quoted.basicCode && quoted.text.size() > 4) {
            r.reply = quoted.text;
            if (r.remoteMta.empty())
                r.remoteMta = quoted.remoteHost;
            diag = parseReply(r.reply);
        }

        // The SMTP command that failed, from the most to the least explicit wording.
        if (r.command.empty())
            r.command = quoted.smtpStage;
        if (r.command.empty()) {
            // Postfix puts "(in reply to … command)" into the Diagnostic-Code of some versions.
            Reply staged = primaryReply("Diagnostic-Code: " + r.reply);
            r.command = staged.smtpStage;
        }
        if (r.command.empty()) {
            auto block = transcriptBlock(human, r.address);
            auto t = mta::readTranscript(block, r.address);
            if (t.command.empty() && !session.empty())
                t = mta::readTranscript(session, r.address);
            r.command = t.command;
        }
        if (r.command.empty())
            r.command = mta::commandNamed(r.reply);

        // The Status field against the code the reply quotes (Status: 4.4.7 over "450 4.7.1 …").
        if (!diag.enhancedCode.empty())
            r.status = mta::preferStatus(r.status, diag.enhancedCode, diag.basicCode);

        // OpenSMTPD 6.x sends its notice that it gave a message up ("rcpt: Envelope expired") on
        // the template of a delay warning, with "Action: delayed": the message is no longer in
        // the queue, so the recipient failed, whatever the field says.
        if (r.action == "delayed" && text::findNoCase(r.context, "Envelope expired") != std::string_view::npos) {
            r.action = "failed";
            if (r.reasonHint.empty())
                r.reasonHint = "expired";
        }

        anyFailed = anyFailed || r.action == "failed";
        anyDelayed = anyDelayed || r.action == "delayed";
    }
    if (!anyFailed) {
        if (anyDelayed)
            report.kind = "delayed";
        else if (report.recipients.front().action == "delivered" || report.recipients.front().action == "relayed"
                 || report.recipients.front().action == "expanded")
            report.kind = "delivered";
    }
    return true;
}

} // namespace

bool parseRfc3464(const Email& email, BounceReport& report)
{
    return readReport(email, report, email.deliveryStatus);
}

bool parseRfc3464Text(const Email& email, BounceReport& report)
{
    // No report part with a recipient in the MIME tree: a boundary that does not match the
    // header, a report pasted as text/plain, a bounce without MIME. Its fields are still in the
    // text, and they say more than a guess from the prose. Tried after the MTAs' own wording, so
    // a module that knows the text keeps its reading.
    if (!email.deliveryStatus.empty()) {
        BounceReport probe;
        parseDeliveryStatus(email.deliveryStatus, probe);
        if (!probe.recipients.empty())
            return false; // parseRfc3464 had its chance with the real part
    }
    const std::string raw = rawDeliveryStatus(bodyBeforeOriginal(email.body));
    return !raw.empty() && readReport(email, report, raw);
}

} // namespace bt::formats
