// SPDX-License-Identifier: MIT
// Amazon SES notifications (SNS or event publishing; JSON Lines, arrays, SNS envelopes) on the
// shared pipeline: forEachJsonObject reads them, emitEsp checks, diagnoses and stores each
// recipient, so a complaint is feedback/complaint as every other service's is.
#include "../formats/formats.h"
#include "../replyparser.h"
#include "../text.h"
#include "internal.h"

namespace bt::detail
{
namespace
{

/// What `mail` says of every recipient of one notification.
void mailFields(Event& e, const json& mail)
{
    e.source = "amazonses";
    e.envelopeSender = str(mail, "source");
    const json common = mail.value("commonHeaders", json::object());
    std::string from;
    if (common.contains("from") && common["from"].is_array() && !common["from"].empty()
        && common["from"][0].is_string())
        from = common["from"][0].get<std::string>();
    const auto addrs = formats::findAddresses(from.empty() ? e.envelopeSender : from);
    e.fromDomain = addrs.empty() ? std::string() : domainOf(addrs.front());
    e.messageId = str(mail, "messageId");
    // SES does not say which of its IPs sent the mail (mail.sourceIp is the API caller's).
    if (mail.contains("tags") && mail["tags"].is_object())
        for (const char* k : {"campaign", "ses:configuration-set"})
            if (mail["tags"].contains(k) && mail["tags"][k].is_array() && !mail["tags"][k].empty()
                && mail["tags"][k][0].is_string()) {
                e.campaign = mail["tags"][k][0].get<std::string>();
                break;
            }
}

void sesRecord(Sink& sink, json j, const Origin& o)
{
    // An SNS envelope carries the notification as a JSON string in "Message".
    if (j.contains("Message") && j["Message"].is_string()) {
        try {
            j = json::parse(j["Message"].get<std::string>());
        } catch (const json::exception& e) { // parse_error, and out_of_range for a number too big for a double
            rejectAt(sink, o, std::string("SNS Message is not valid JSON: ") + e.what());
            return;
        }
        if (!j.is_object()) {
            rejectAt(sink, o, "not a JSON object");
            return;
        }
    }
    std::string type = str(j, "notificationType");
    if (type.empty())
        type = str(j, "eventType");
    const json mail = j.value("mail", json::object());
    const auto before = sink.counts().read;
    // One record per recipient; `each(recipient entry, record)` fills what differs.
    auto forRecipients = [&](const char* object, const char* list, const char* recipientKey, const char* eventType,
                             const std::function<void(const json&, const json&, EspRecord&)>& each) {
        const json part = j.value(object, json::object());
        for (const auto& r : part.value(list, json::array())) {
            EspRecord rec;
            mailFields(rec.event, mail);
            rec.event.eventType = eventType;
            rec.event.recipient = recipientKey ? str(r, recipientKey) : r.is_string() ? r.get<std::string>() : "";
            rec.recipientField
                = std::string(object) + "." + list + (recipientKey ? std::string(".") + recipientKey : "");
            rec.rawTime = str(part, "timestamp");
            rec.timeField = std::string(object) + ".timestamp";
            each(r, part, rec);
            emitEsp(sink, std::move(rec), o);
        }
    };
    if (type == "Bounce") {
        const json b = j.value("bounce", json::object());
        const bool permanent = str(b, "bounceType") == "Permanent";
        const std::string subType = str(b, "bounceSubType");
        forRecipients("bounce", "bouncedRecipients", "emailAddress", permanent ? "bounce" : "deferral",
                      [&](const json& r, const json& part, EspRecord& rec) {
                          Event& e = rec.event;
                          const Reply parsed = parseReply(std::string(text::trim(str(r, "diagnosticCode"))));
                          e.replyText = parsed.text; // without the "smtp; " SES puts before it
                          e.basicCode = parsed.basicCode;
                          e.enhancedCode = str(r, "status");
                          e.remoteMta = str(part, "remoteMtaIp"); // reportingMTA is SES's own host
                          // SES's own suppression: it never tried, and says so in the subtype.
                          if (subType == "Suppressed" || subType == "OnAccountSuppressionList")
                              e.reasonHint = "suppressed";
                      });
    } else if (type == "Delivery") {
        forRecipients("delivery", "recipients", nullptr, "delivered",
                      [&](const json&, const json& part, EspRecord& rec) {
                          rec.event.replyText = str(part, "smtpResponse");
                          rec.event.remoteMta = str(part, "remoteMtaIp");
                      });
    } else if (type == "Complaint") {
        forRecipients("complaint", "complainedRecipients", "emailAddress", "complaint",
                      [](const json&, const json&, EspRecord&) {});
    } else {
        rejectAt(sink, o,
                 "not an SES bounce, delivery or complaint notification"
                     + (type.empty() ? std::string() : " (type " + type + ")"));
        return;
    }
    if (sink.counts().read == before)
        rejectAt(sink, o, type + " notification without recipients");
}

} // namespace

int sesRecordScore(const json& r)
{
    if (!r.is_object())
        return 0;
    if (r.contains("notificationType") || (r.contains("eventType") && (r.contains("mail") || r.contains("bounce"))))
        return 95;
    // An SNS envelope around a notification.
    return r.contains("Type") && r.contains("Message") && r["Message"].is_string()
            && r["Message"].get<std::string>().find("\"notificationType\"") != std::string::npos
        ? 95
        : 0;
}

int sesHead(const Head& h)
{
    if (const int c = bestRecord(h, sesRecordScore))
        return c;
    // A first record longer than the head: its keys still show as text.
    return h.isJson
            && (h.text.find("\"notificationType\"") != std::string::npos
                || h.text.find("\\\"notificationType\\\"") != std::string::npos)
        ? 30
        : 0;
}

void importSes(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) { sesRecord(sink, j, o); });
}

} // namespace bt::detail
