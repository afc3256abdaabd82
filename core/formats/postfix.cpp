// SPDX-License-Identifier: MIT
// Postfix's own bounce text (bounce(5) templates) when the message carries no RFC 3464 part of
// its own: plain-text bounces, and Postfix bounces forwarded inline by a gateway (the whole
// multipart/report pasted into a text/plain body).
//
//   <kijitora@example.jp> (expanded from <alias@example.org>): host
//       mx.example.jp[192.0.2.1] said: 550 5.1.1 <kijitora@example.jp>... User Unknown
//       (in reply to RCPT TO command)
#include "formats.h"
#include "mtatext.h"
#include "replyparser.h"
#include "text.h"

namespace bt::formats
{

namespace
{

bool looksLikePostfix(const Email& email)
{
    const auto subject = email.headers.get("Subject");
    if (subject.find("Undelivered Mail Returned to Sender") != std::string::npos
        || subject.find("SMTP server: errors from ") != std::string::npos)
        return true;
    const std::string_view body = email.body;
    return body.find("This is the Postfix program at host") != std::string_view::npos
        || body.find("This is the mail system at host") != std::string_view::npos;
}

/// The "<addr>: …" paragraphs Postfix writes for each recipient.
struct Paragraph {
    std::string address, text;
};

std::vector<Paragraph> paragraphs(std::string_view human)
{
    std::vector<Paragraph> out;
    for (const auto& line : text::splitLines(human)) {
        const auto t = line.text;
        if (t.starts_with("<") && t.find('@') != std::string_view::npos) {
            const auto close = t.find('>');
            if (close != std::string_view::npos) {
                const auto after = t.substr(close + 1);
                if (after.starts_with(":") || after.starts_with(" (expanded from")) {
                    out.push_back({cleanAddress(t.substr(1, close - 1)), std::string(t)});
                    continue;
                }
            }
        }
        if (out.empty())
            continue;
        if (text::trim(t).empty() || !text::isSpace(t.front())) {
            // The paragraph ends at a blank or unindented line; later lines belong to no one.
            if (!out.back().text.empty() && out.back().text.back() != '\n')
                out.back().text += '\n';
            continue;
        }
        if (out.back().text.back() == '\n')
            continue; // already closed
        out.back().text += '\n';
        out.back().text += std::string(t);
    }
    for (auto& p : out)
        while (!p.text.empty() && p.text.back() == '\n')
            p.text.pop_back();
    return out;
}

} // namespace

bool parsePostfix(const Email& email, BounceReport& report)
{
    if (!looksLikePostfix(email))
        return false;
    const std::string_view body = email.body;
    report.format = "postfix";

    // A forwarded Postfix bounce still holds its delivery report as text.
    const auto ds = text::findNoCase(body, "Content-Type: message/delivery-status");
    if (ds != std::string_view::npos) {
        auto part = body.substr(ds);
        const auto blank = part.find("\n\n");
        part = blank == std::string_view::npos ? std::string_view {} : part.substr(blank + 2);
        const auto boundary = part.find("\n--");
        parseDeliveryStatus(part.substr(0, boundary), report);
    }
    const auto human = bodyBeforeOriginal(ds == std::string_view::npos ? body : body.substr(0, ds));
    const auto paras = paragraphs(human);
    if (report.recipients.empty()) {
        for (const auto& p : paras) {
            BounceRecipient r;
            r.address = p.address;
            r.action = "failed";
            report.recipients.push_back(std::move(r));
        }
    }
    for (auto& r : report.recipients) {
        for (const auto& p : paras)
            if (text::toLower(p.address) == text::toLower(r.address) || paras.size() == 1) {
                r.context = p.text;
                break;
            }
        const auto diag = parseReply(r.reply);
        const auto quoted = r.context.empty() ? Reply {} : primaryReply(r.context);
        if (!diag.basicCode && quoted.basicCode) {
            r.reply = quoted.text;
            if (r.remoteMta.empty())
                r.remoteMta = quoted.remoteHost;
        } else if (r.reply.empty() && !r.context.empty()) {
            // Postfix's own words ("mail for example.jp loops back to myself"): after "<addr>: ".
            const auto colon = r.context.find(">: ");
            if (colon != std::string::npos)
                r.reply = text::collapseSpace(std::string_view(r.context).substr(colon + 3));
        }
        r.command = quoted.smtpStage;
        // "host X refused to talk to me: 421 …": the greeting itself was the refusal.
        if (r.command.empty()
            && text::findNoCase(r.context + " " + r.reply, "refused to talk to me") != std::string::npos)
            r.command = "HELO";
        if (r.command.empty())
            r.command = mta::commandNamed(r.reply);
        const auto now = parseReply(r.reply);
        if (!now.enhancedCode.empty())
            r.status = mta::preferStatus(r.status, now.enhancedCode, now.basicCode);
        if (r.action.empty())
            r.action = "failed";
    }
    if (!report.recipients.empty() && report.recipients.front().action == "delayed")
        report.kind = "delayed";
    return !report.recipients.empty();
}

} // namespace bt::formats
