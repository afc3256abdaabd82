// SPDX-License-Identifier: MIT
// Importers for the event exports and webhooks of sending services: SendGrid, Mailgun,
// Postmark, SparkPost (Bird), Mandrill and Brevo. Each maps the service's own field names and
// event words onto an Event and leaves the checks and the diagnosis to emitEsp(), so every
// service is treated alike. Field names follow docs/export-formats.md.
#include "../text.h"
#include "internal.h"

#include <algorithm>
#include <initializer_list>

namespace bt::detail
{
namespace
{

/// A member that may be a string or an array of strings (tags, categories): the first one.
/// Grouping by campaign wants one value; the first tag is the one senders put first on purpose.
std::string firstOf(const json& j, const char* key)
{
    if (!j.is_object() || !j.contains(key))
        return {};
    const auto& v = j[key];
    if (v.is_string())
        return v.get<std::string>();
    if (v.is_array())
        for (const auto& e : v) {
            if (e.is_string() && !e.get<std::string>().empty())
                return e.get<std::string>();
            if (e.is_object()) // Mailgun campaigns: [{"id": …, "name": …}]
                if (auto n = str(e, "name"); !n.empty())
                    return n;
        }
    return {};
}

const json& member(const json& j, const char* key)
{
    static const json empty = json::object();
    if (!j.is_object())
        return empty;
    const auto it = j.find(key);
    return it != j.end() && it->is_object() ? *it : empty;
}

} // namespace

// ---- SendGrid Event Webhook ------------------------------------------------------------------

void importSendGridEvents(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        const std::string ev = text::toLower(str(j, "event"));
        // Engagement and acceptance: true facts, but about reading or queueing, not delivery.
        if (oneOf(ev,
                  {"processed", "open", "click", "unsubscribe", "group_unsubscribe", "group_resubscribe",
                   "machine_opened"})) {
            sink.skip();
            return;
        }
        EspRecord r;
        Event& e = r.event;
        e.source = "sendgrid";
        if (ev == "delivered")
            e.eventType = "delivered";
        else if (ev == "deferred")
            e.eventType = "deferral";
        else if (ev == "bounce" || ev == "dropped")
            e.eventType = "bounce";
        else if (ev == "spamreport")
            e.eventType = "complaint";
        else
            return rejectUnknownEvent(sink, o, "event", ev);
        e.recipient = str(j, "email");
        r.recipientField = "email";
        r.rawTime = str(j, "timestamp");
        r.timeField = "timestamp";
        // Bounces and drops explain themselves in "reason"; deliveries and deferrals quote the
        // server in "response".
        e.replyText = str(j, "reason");
        if (text::trim(e.replyText).empty())
            e.replyText = str(j, "response");
        setStatus(e, str(j, "status"));
        // SendGrid never tried: the address is on one of its own suppression lists.
        if (ev == "dropped") {
            const std::string why = text::toLower(e.replyText);
            if (why.find("bounced address") != std::string::npos
                || why.find("unsubscribed address") != std::string::npos
                || why.find("spam reporting address") != std::string::npos)
                e.reasonHint = "suppressed";
        }
        e.sendingIp = str(j, "ip");
        e.campaign = firstOf(j, "category");
        if (e.campaign.empty())
            e.campaign = str(j, "marketing_campaign_name");
        e.messageId = str(j, "sg_message_id");
        if (e.messageId.empty())
            e.messageId = str(j, "smtp-id");
        // SendGrid's event id is unique per event: the same event from two overlapping exports
        // (or a webhook retry) is one event, even if other fields were rendered differently.
        if (const auto id = str(j, "sg_event_id"); !id.empty())
            e.dedupKey = sha1("sendgrid\x1f" + id);
        emitEsp(sink, std::move(r), o);
    });
}

// ---- Mailgun events --------------------------------------------------------------------------

void importMailgun(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        const std::string ev = text::toLower(str(j, "event"));
        if (oneOf(ev,
                  {"accepted", "opened", "clicked", "unsubscribed", "stored", "list_member_uploaded",
                   "list_member_upload_error", "list_uploaded"})) {
            sink.skip();
            return;
        }
        EspRecord r;
        Event& e = r.event;
        e.source = "mailgun";
        const json& status = member(j, "delivery-status");
        const std::string reason = text::toLower(str(j, "reason"));
        if (ev == "delivered")
            e.eventType = "delivered";
        else if (ev == "failed")
            e.eventType = text::toLower(str(j, "severity")) == "temporary" ? "deferral" : "bounce";
        else if (ev == "complained")
            e.eventType = "complaint";
        else if (ev == "rejected")
            e.eventType = "bounce";
        else
            return rejectUnknownEvent(sink, o, "event", ev);
        e.recipient = str(j, "recipient");
        r.recipientField = "recipient";
        r.rawTime = str(j, "timestamp");
        r.timeField = "timestamp";
        e.replyText = str(status, "message");
        if (text::trim(e.replyText).empty())
            e.replyText = str(status, "description");
        if (e.eventType == "bounce" && ev == "rejected" && text::trim(e.replyText).empty()) {
            const json& rej = member(j, "reject");
            e.replyText = str(rej, "description");
            if (text::trim(e.replyText).empty())
                e.replyText = str(rej, "reason");
        }
        setBasic(e, str(status, "code"));
        // Mailgun's own suppression lists ("suppress-bounce", "suppress-unsubscribe", …).
        if (reason.rfind("suppress-", 0) == 0)
            e.reasonHint = "suppressed";
        e.remoteMta = str(status, "mx-host");
        const json& envelope = member(j, "envelope");
        e.sendingIp = str(envelope, "sending-ip");
        e.envelopeSender = str(envelope, "sender");
        const json& headers = member(member(j, "message"), "headers");
        e.fromDomain = fromDomainOf(str(headers, "from"));
        if (e.fromDomain.empty())
            e.fromDomain = domainOf(e.envelopeSender);
        e.messageId = str(headers, "message-id");
        e.campaign = firstOf(j, "campaigns");
        if (e.campaign.empty())
            e.campaign = firstOf(j, "tags");
        e.recipientDomain = text::toLower(str(j, "recipient-domain"));
        if (const auto id = str(j, "id"); !id.empty())
            e.dedupKey = sha1("mailgun\x1f" + id);
        emitEsp(sink, std::move(r), o);
    });
}

// ---- Postmark bounces --------------------------------------------------------------------------

namespace
{

void postmarkRecord(Sink& sink, const FieldGetter& get, const Origin& o)
{
    const std::string recordType = get("RecordType");
    EspRecord r;
    Event& e = r.event;
    e.source = "postmark";
    if (recordType == "Delivery") {
        e.eventType = "delivered";
        e.recipient = get("Recipient");
        r.recipientField = "Recipient";
        r.rawTime = get("DeliveredAt");
        r.timeField = "DeliveredAt";
    } else if (recordType.empty() || recordType == "Bounce" || recordType == "SpamComplaint") {
        const std::string type = get("Type");
        if (oneOf(type,
                  {"HardBounce", "BadEmailAddress", "Blocked", "SpamNotification", "VirusNotification", "Unknown",
                   "SMTPApiError", "DMARCPolicy", "ManuallyDeactivated", "TemplateRenderingFailed", "InboundError"}))
            e.eventType = "bounce";
        else if (oneOf(type, {"Transient", "SoftBounce", "DnsError"}))
            e.eventType = "deferral";
        else if (type == "SpamComplaint")
            e.eventType = "complaint";
        else if (type == "AutoResponder")
            e.eventType = "auto_reply";
        else if (oneOf(type,
                       {"Subscribe", "Unsubscribe", "AddressChange", "ChallengeVerification", "OpenRelayTest",
                        "Unconfirmed"})) {
            sink.skip(); // list management and tests: no delivery outcome
            return;
        } else {
            rejectUnknownEvent(sink, o, "Type", type);
            return;
        }
        // The two types where Postmark states a reason the reply text may not carry.
        if (type == "ManuallyDeactivated")
            e.reasonHint = "suppressed";
        else if (type == "DMARCPolicy")
            e.reasonHint = "authfailure";
        e.recipient = get("Email");
        r.recipientField = "Email";
        r.rawTime = get("BouncedAt");
        r.timeField = "BouncedAt";
        // Postmark's stable bounce id: the API list and the webhook of one bounce are one event.
        if (const auto id = get("ID"); !id.empty())
            e.dedupKey = sha1("postmark\x1f" + id);
    } else if (oneOf(recordType, {"Open", "Click", "SubscriptionChange"})) {
        sink.skip();
        return;
    } else {
        rejectUnknownEvent(sink, o, "RecordType", recordType);
        return;
    }
    e.replyText = get("Details");
    // "smtp;550 5.1.1 …": the DSN's diagnostic type is not part of the reply.
    if (text::startsWithNoCase(e.replyText, "smtp;"))
        e.replyText.erase(0, 5);
    e.fromDomain = fromDomainOf(get("From"));
    e.messageId = get("MessageID");
    e.campaign = get("Tag");
    if (e.campaign.empty())
        e.campaign = get("MessageStream");
    emitEsp(sink, std::move(r), o);
}

} // namespace

void importPostmarkJson(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        postmarkRecord(
            sink, [&](const char* k) { return str(j, k); }, o);
    });
}

void importPostmarkCsv(const std::string& path, Sink& sink)
{
    forEachCsvRecord(path, sink, [&](const FieldGetter& get, const Origin& o) { postmarkRecord(sink, get, o); });
}

// ---- SparkPost (Bird) message events ---------------------------------------------------------

namespace
{

void sparkPostRecord(Sink& sink, const FieldGetter& get, const Origin& o)
{
    const std::string type = text::toLower(get("type"));
    if (oneOf(type,
              {"injection", "open", "initial_open", "click", "amp_open", "amp_initial_open", "amp_click",
               "list_unsubscribe", "link_unsubscribe", "relay_injection", "relay_rejection", "relay_delivery",
               "relay_tempfail", "relay_permfail", "sms_status", "ingest_success", "ingest_error"})) {
        sink.skip();
        return;
    }
    EspRecord r;
    Event& e = r.event;
    e.source = "sparkpost";
    const std::string bounceClass = get("bounce_class");
    if (type == "delivery")
        e.eventType = "delivered";
    else if (type == "delay")
        e.eventType = "deferral";
    else if (type == "bounce" || type == "out_of_band" || type == "policy_rejection" || type == "generation_failure"
             || type == "generation_rejection")
        e.eventType = bounceClass == "60" ? "auto_reply" : "bounce";
    else if (type == "spam_complaint")
        e.eventType = "complaint";
    else
        return rejectUnknownEvent(sink, o, "type", type);
    // Classes 25 and 26 are SparkPost's own refusals (suppression list, Smart Send).
    if (bounceClass == "25" || bounceClass == "26")
        e.reasonHint = "suppressed";
    e.recipient = get("rcpt_to");
    r.recipientField = "rcpt_to";
    if (e.recipient.empty())
        e.recipient = get("raw_rcpt_to");
    r.rawTime = get("timestamp");
    r.timeField = "timestamp";
    // SparkPost redacts parts of "reason"; "raw_reason" is the server's words.
    e.replyText = get("raw_reason");
    if (text::trim(e.replyText).empty())
        e.replyText = get("reason");
    setBasic(e, get("error_code"));
    e.sendingIp = get("sending_ip");
    e.campaign = get("campaign_id");
    e.envelopeSender = get("msg_from");
    e.fromDomain = fromDomainOf(get("friendly_from"));
    if (e.fromDomain.empty())
        e.fromDomain = text::toLower(get("sending_domain"));
    e.messageId = get("message_id");
    if (const auto id = get("event_id"); !id.empty())
        e.dedupKey = sha1("sparkpost\x1f" + id);
    emitEsp(sink, std::move(r), o);
}

} // namespace

void importSparkPostJson(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        // A webhook event comes wrapped: {"msys": {"message_event": {…}}}; any category inner
        // object is the event itself (its "type" says what it is).
        const json* ev = &j;
        if (const json& msys = member(j, "msys"); !msys.empty())
            for (const auto& [k, v] : msys.items())
                if (v.is_object()) {
                    ev = &v;
                    break;
                }
        sparkPostRecord(
            sink, [&](const char* k) { return str(*ev, k); }, o);
    });
}

void importSparkPostCsv(const std::string& path, Sink& sink)
{
    forEachCsvRecord(path, sink, [&](const FieldGetter& get, const Origin& o) { sparkPostRecord(sink, get, o); });
}

// ---- Mandrill (Mailchimp Transactional) webhook ----------------------------------------------

void importMandrill(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        std::string ev = text::toLower(str(j, "event"));
        // A webhook event wraps the message in "msg"; a message from the search API is bare.
        const json& msg = j.contains("msg") ? member(j, "msg") : j;
        const std::string state = text::toLower(str(msg, "state"));
        EspRecord r;
        Event& e = r.event;
        e.source = "mandrill";
        const std::string field = ev.empty() ? "state" : "event";
        const std::string what = ev.empty() ? state : ev;
        if (oneOf(what, {"open", "click", "unsub", "whitelist", "blacklist", "queued", "scheduled"})) {
            sink.skip();
            return;
        }
        if (what == "send" || what == "sent")
            e.eventType = "delivered";
        else if (what == "deferral" || what == "deferred" || what == "soft_bounce" || what == "soft-bounced")
            e.eventType = "deferral";
        else if (what == "hard_bounce" || what == "bounced")
            e.eventType = "bounce";
        else if (what == "reject" || what == "rejected") {
            e.eventType = "bounce";
            // Mandrill never tried: the address is on its rejection blacklist (unless the reason
            // names a sender-side problem, which the text will say).
            const std::string why = text::toLower(str(msg, "reject_reason"));
            if (why.empty() || oneOf(why, {"hard-bounce", "soft-bounce", "spam", "unsub", "custom"}))
                e.reasonHint = "suppressed";
        } else if (what == "spam")
            e.eventType = "complaint";
        else
            return rejectUnknownEvent(sink, o, field, what);
        e.recipient = str(msg, "email");
        r.recipientField = "msg.email";
        r.rawTime = str(j, "ts");
        r.timeField = "ts";
        if (r.rawTime.empty()) {
            r.rawTime = str(msg, "ts");
            r.timeField = "msg.ts";
        }
        e.replyText = str(msg, "diag");
        // The last SMTP exchange names the IP Mandrill sent from, and carries the reply when the
        // message itself has none (deferrals).
        if (msg.contains("smtp_events") && msg["smtp_events"].is_array() && !msg["smtp_events"].empty()) {
            const json& last = msg["smtp_events"].back();
            e.sendingIp = str(last, "source_ip");
            if (text::trim(e.replyText).empty())
                e.replyText = str(last, "diag");
        }
        e.envelopeSender = str(msg, "sender");
        e.fromDomain = domainOf(e.envelopeSender);
        e.campaign = firstOf(msg, "tags");
        e.messageId = str(msg, "_id");
        const std::string id = str(j, "_id").empty() ? e.messageId : str(j, "_id");
        // "_id" names the message, not the event: one message has a deferral and then a send.
        if (!id.empty())
            e.dedupKey = sha1("mandrill\x1f" + id + '\x1f' + what + '\x1f' + r.rawTime);
        emitEsp(sink, std::move(r), o);
    });
}

// ---- Brevo (Sendinblue) transactional webhook --------------------------------------------------

void importBrevo(const std::string& path, Sink& sink)
{
    forEachJsonObject(path, sink, [&](const json& j, const Origin& o) {
        const std::string ev = text::toLower(str(j, "event"));
        if (oneOf(ev,
                  {"request", "sent", "opened", "unique_opened", "click", "clicked", "unsubscribed", "proxy_open",
                   "unique_proxy_open", "list_addition", "first_opening", "loadedbyproxy"})) {
            sink.skip();
            return;
        }
        EspRecord r;
        Event& e = r.event;
        e.source = "brevo";
        if (ev == "delivered")
            e.eventType = "delivered";
        else if (ev == "soft_bounce" || ev == "deferred")
            e.eventType = "deferral";
        else if (ev == "hard_bounce" || ev == "invalid_email" || ev == "error")
            e.eventType = "bounce";
        else if (ev == "blocked") {
            // Brevo's own block: the contact is blocklisted or unsubscribed, nothing was sent.
            e.eventType = "bounce";
            e.reasonHint = "suppressed";
        } else if (ev == "spam" || ev == "complaint")
            e.eventType = "complaint";
        else
            return rejectUnknownEvent(sink, o, "event", ev);
        e.recipient = str(j, "email");
        r.recipientField = "email";
        // ts_event is the event's own time in epoch seconds; "date" has no zone, so last.
        for (const char* k : {"ts_event", "ts_epoch", "ts", "date"})
            if (const auto v = str(j, k); !v.empty()) {
                r.rawTime = v;
                r.timeField = k;
                break;
            }
        if (r.timeField.empty())
            r.timeField = "ts_event";
        e.replyText = str(j, "reason");
        e.sendingIp = str(j, "sending_ip");
        e.campaign = firstOf(j, "tag");
        if (e.campaign.empty())
            e.campaign = firstOf(j, "tags");
        e.messageId = str(j, "message-id");
        for (const char* k : {"sender_email", "from"})
            if (e.fromDomain.empty())
                e.fromDomain = fromDomainOf(str(j, k));
        emitEsp(sink, std::move(r), o);
    });
}

// ---- recognising an export: the confidence each record or header gives ------------------------
// The scores rank the formats whose keys may meet in one record: a SparkPost "msys" wrapper, SES
// and Postmark keys before the generic "event" of the webhooks; among those, a service's own ids
// before its event words.

namespace
{
bool has(const json& r, const char* k)
{
    return r.is_object() && r.contains(k);
}
} // namespace

int sparkPostRecord(const json& r)
{
    if (has(r, "msys"))
        return 100;
    if (has(r, "rcpt_to") || has(r, "raw_rcpt_to")
        || (has(r, "type") && (has(r, "bounce_class") || has(r, "raw_reason"))))
        return 80;
    return 0;
}

int postmarkRecord(const json& r)
{
    return has(r, "RecordType") || has(r, "BouncedAt") || (has(r, "TypeCode") && has(r, "Email")) ? 85 : 0;
}

int mandrillRecord(const json& r)
{
    if (has(r, "msg") && r["msg"].is_object())
        return 75;
    return has(r, "_id") && has(r, "state") && has(r, "email") ? 70 : 0;
}

int sendGridEventsRecord(const json& r)
{
    if (!has(r, "event"))
        return 0;
    if (has(r, "sg_event_id") || has(r, "sg_message_id") || has(r, "smtp-id"))
        return 65;
    const std::string ev = text::toLower(str(r, "event"));
    return has(r, "email")
            && oneOf(ev,
                     {"processed", "delivered", "deferred", "bounce", "dropped", "spamreport", "open", "click",
                      "unsubscribe", "group_unsubscribe", "group_resubscribe"})
        ? 45
        : 0;
}

int mailgunRecord(const json& r)
{
    return has(r, "event")
            && (has(r, "delivery-status") || has(r, "recipient-domain") || has(r, "log-level") || has(r, "envelope")
                || (has(r, "recipient") && !has(r, "email")))
        ? 60
        : 0;
}

int brevoRecord(const json& r)
{
    if (!has(r, "event"))
        return 0;
    if (has(r, "ts_event") || has(r, "ts_epoch") || has(r, "message-id") || has(r, "sending_ip"))
        return 55;
    const std::string ev = text::toLower(str(r, "event"));
    return oneOf(ev, {"hard_bounce", "soft_bounce", "invalid_email", "blocked", "unique_opened", "request"}) ? 50 : 0;
}

int postmarkCsvHeader(const Head& h)
{
    return h.hasColumn("bouncedat") && h.hasColumn("email") ? 90 : 0;
}

int sparkPostCsvHeader(const Head& h)
{
    return h.hasColumn("rcpt_to") && h.hasColumn("type") ? 85 : 0;
}

} // namespace bt::detail
