// SPDX-License-Identifier: MIT
// Amazon SES, Amazon WorkMail and SES receiving. Two shapes:
//  - SNS notifications: the body is the JSON SES publishes ("notificationType" Bounce, Complaint
//    or Delivery; "eventType" for configuration-set events), bare or wrapped in the SNS envelope
//    whose "Message" holds it as a string. SNS e-mail folds long lines as "!\n ".
//  - DSN mail from MAILER-DAEMON@…amazonses.com: RFC 3464, as a message/delivery-status part or,
//    from WorkMail, as plain text after "Technical report:". The text is read as RFC 3464 and then
//    adjusted where SES wraps the remote server's words in its own.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <nlohmann/json.hpp>

#include <array>

namespace bt::formats
{

namespace
{

using nlohmann::json;

std::string str(const json& o, const char* key)
{
    if (!o.is_object())
        return {};
    const auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The JSON text of an SNS e-mail notification: the body up to the "--" signature line, with
/// SNS's "!\n " line folds undone.
std::string snsPayload(std::string_view body)
{
    auto t = text::trim(body);
    const auto sig = t.find("\n--\n");
    if (sig != std::string_view::npos)
        t = t.substr(0, sig);
    std::string out;
    out.reserve(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '!' && i + 2 < t.size() && t[i + 1] == '\n' && t[i + 2] == ' ') {
            i += 2;
            continue;
        }
        if (t[i] == '!' && i + 3 < t.size() && t[i + 1] == '\r' && t[i + 2] == '\n' && t[i + 3] == ' ') {
            i += 3;
            continue;
        }
        out += t[i];
    }
    return std::string(text::trim(out));
}

/// SES's bounceSubType says the reason outright for these; "General" and "Undetermined" leave
/// it to the diagnostic code.
std::string reasonOfSubType(std::string_view subType)
{
    if (subType == "Suppressed" || subType == "OnAccountSuppressionList")
        return "suppressed";
    if (subType == "MailboxFull")
        return "mailboxfull";
    if (subType == "MessageTooLarge")
        return "mesgtoobig";
    if (subType == "ContentRejected")
        return "contenterror";
    if (subType == "AttachmentRejected")
        return "securityerror";
    return {};
}

/// SES stamps events in ISO 8601 ("2016-10-21T06:58:02.245Z"); records take RFC 5322 dates.
std::string rfc5322Date(std::string_view iso)
{
    static constexpr std::array<std::string_view, 12> months
        = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (iso.size() < 19 || iso[4] != '-' || iso[7] != '-' || iso[10] != 'T')
        return std::string(iso);
    const int month = (iso[5] - '0') * 10 + (iso[6] - '0');
    if (month < 1 || month > 12)
        return std::string(iso);
    std::string out;
    out += iso.substr(8, 2);
    out += ' ';
    out += months[static_cast<std::size_t>(month - 1)];
    out += ' ';
    out += iso.substr(0, 4);
    out += ' ';
    out += iso.substr(11, 8);
    out += " +0000";
    return out;
}

/// "smtp; 550 5.1.1 user unknown" → "550 5.1.1 user unknown".
std::string withoutDiagnosticType(std::string_view diag)
{
    const auto semi = diag.find(';');
    if (semi != std::string_view::npos && semi < 12 && diag.substr(0, semi).find(' ') == std::string_view::npos)
        diag = diag.substr(semi + 1);
    return std::string(text::trim(diag));
}

bool parseNotification(const Email& email, BounceReport& report)
{
    // A notification is a JSON object (its first line may be folded with "!"): any other body is
    // not one, and is not copied to find that out (this runs for every bounce read).
    auto start = text::trim(email.body);
    if (start.empty())
        return false;
    if (start.front() != '{' && start.front() != '!') {
        // A gateway's banner above it ("CAUTION: This email originated from outside of the
        // organization…"): the object then starts on a line of its own, near the top.
        const auto brace = start.substr(0, 2048).find("\n{");
        if (brace == std::string_view::npos)
            return false;
        start.remove_prefix(brace + 1);
    }
    auto payload = snsPayload(start);
    // And a footer below it without SNS's "--" line: the object ends at its last brace.
    if (const auto last = payload.rfind('}'); last != std::string::npos)
        payload.resize(last + 1);
    if (payload.empty() || payload.front() != '{'
        || (payload.find("notificationType") == std::string::npos && payload.find("eventType") == std::string::npos))
        return false;
    json doc = json::parse(payload, nullptr, false);
    if (doc.is_discarded() || !doc.is_object())
        return false;
    if (doc.contains("Message") && doc["Message"].is_string()) {
        // The SNS envelope: the SES notification is a JSON string inside it.
        doc = json::parse(doc["Message"].get<std::string>(), nullptr, false);
        if (doc.is_discarded() || !doc.is_object())
            return false;
    }
    auto type = str(doc, "notificationType");
    if (type.empty())
        type = str(doc, "eventType");
    const json& mail = doc.contains("mail") ? doc["mail"] : json::object();
    report.format = "amazonses";
    report.envelopeSender = str(mail, "source");

    if (type == "Bounce") {
        const json& b = doc.contains("bounce") ? doc["bounce"] : json::object();
        const auto hint = reasonOfSubType(str(b, "bounceSubType"));
        report.reportingMta = cleanAddress(str(b, "reportingMTA"));
        const bool transient = str(b, "bounceType") == "Transient";
        if (b.contains("bouncedRecipients") && b["bouncedRecipients"].is_array()) {
            for (const auto& e : b["bouncedRecipients"]) {
                BounceRecipient r;
                r.address = str(e, "emailAddress");
                if (r.address.empty())
                    continue;
                r.action = text::toLower(str(e, "action"));
                if (r.action.empty())
                    r.action = transient ? "delayed" : "failed";
                r.status = str(e, "status");
                r.reply = withoutDiagnosticType(str(e, "diagnosticCode"));
                r.remoteMta = str(b, "remoteMtaIp");
                r.lastAttempt = rfc5322Date(str(b, "timestamp"));
                r.reasonHint = hint;
                report.recipients.push_back(std::move(r));
            }
        }
        return !report.recipients.empty();
    }
    if (type == "Complaint") {
        const json& c = doc.contains("complaint") ? doc["complaint"] : json::object();
        report.kind = "feedback";
        report.feedbackType = text::toLower(str(c, "complaintFeedbackType"));
        if (report.feedbackType.empty())
            report.feedbackType = "abuse";
        report.arrivalDate = str(c, "arrivalDate");
        if (c.contains("complainedRecipients") && c["complainedRecipients"].is_array()) {
            for (const auto& e : c["complainedRecipients"]) {
                BounceRecipient r;
                r.address = str(e, "emailAddress");
                if (r.address.empty())
                    continue;
                r.action = "failed";
                r.reasonHint = "feedback";
                r.lastAttempt = rfc5322Date(str(c, "timestamp"));
                report.recipients.push_back(std::move(r));
            }
        }
        return !report.recipients.empty();
    }
    if (type == "Delivery") {
        const json& d = doc.contains("delivery") ? doc["delivery"] : json::object();
        report.kind = "delivered";
        report.reportingMta = cleanAddress(str(d, "reportingMTA"));
        if (d.contains("recipients") && d["recipients"].is_array()) {
            for (const auto& e : d["recipients"]) {
                if (!e.is_string())
                    continue;
                BounceRecipient r;
                r.address = e.get<std::string>();
                r.action = "delivered";
                r.reply = str(d, "smtpResponse");
                r.remoteMta = str(d, "remoteMtaIp");
                r.lastAttempt = rfc5322Date(str(d, "timestamp"));
                r.reasonHint = "delivered";
                report.recipients.push_back(std::move(r));
            }
        }
        return !report.recipients.empty();
    }
    return false;
}

bool fromAmazon(const Email& email)
{
    const auto& h = email.headers;
    if (text::toLower(h.get("X-Mailer")).find("amazon workmail") != std::string::npos)
        return true;
    const auto from = text::toLower(h.get("From"));
    if (from.find("mailer-daemon@") != std::string::npos && from.find("amazonses.com") != std::string::npos)
        return true;
    // SES sending bounces carry the outgoing stamp on the bounce itself.
    return (h.has("X-SES-Outgoing") || h.has("X-AWS-Outgoing"))
        && text::findNoCase(email.deliveryStatus, "amazonses.com") != std::string_view::npos;
}

/// WorkMail puts the DSN fields in its text part after "Technical report:".
std::string technicalReport(std::string_view body)
{
    auto p = text::findNoCase(body, "Technical report:");
    if (p != std::string_view::npos)
        p += 17;
    else
        p = text::findNoCase(body, "Reporting-MTA:");
    if (p == std::string_view::npos)
        return {};
    return std::string(bodyBeforeOriginal(body.substr(p)));
}

/// "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>":
/// SES gave up; the last reply of the remote server is quoted in angle brackets at the end.
void unwrapExpired(BounceRecipient& r)
{
    const auto lower = text::toLower(r.reply);
    if (lower.find("message expired") == std::string::npos && lower.find("delivery expired") == std::string::npos)
        return;
    r.reasonHint = "expired";
    const auto open = r.reply.rfind('<');
    const auto close = r.reply.rfind('>');
    if (open == std::string::npos || close == std::string::npos || close < open)
        return;
    const auto inner = std::string(text::trim(std::string_view(r.reply).substr(open + 1, close - open - 1)));
    const auto remote = parseReply(inner);
    if (!remote.basicCode)
        return;
    r.reply = inner;
    if (!remote.enhancedCode.empty())
        r.status = remote.enhancedCode;
}

bool parseSesDsn(const Email& email, BounceReport& report)
{
    if (!fromAmazon(email))
        return false;
    Email view = email;
    if (view.deliveryStatus.empty())
        view.deliveryStatus = technicalReport(email.body);
    if (view.deliveryStatus.empty() || !parseRfc3464(view, report))
        return false;
    report.format = "amazonses";
    for (auto& r : report.recipients)
        unwrapExpired(r);
    return true;
}

} // namespace

bool parseAmazonSes(const Email& email, BounceReport& report)
{
    if (parseNotification(email, report))
        return true;
    report = BounceReport {};
    return parseSesDsn(email, report);
}

} // namespace bt::formats
