// SPDX-License-Identifier: MIT
// Microsoft 365 message trace exports: the Get-MessageTraceDetail CSV (one row per step of a
// message, the reply in "Detail") and the extended/summary report CSV (one row per message,
// every recipient's steps in "recipient_status"). Only the steps that end a delivery become
// events; receive, resolve, spam-scan and similar steps are skipped like the non-delivery
// lines of a mail log.
#include "../text.h"
#include "internal.h"

#include <initializer_list>

namespace bt::detail
{
namespace
{

/// The outcome a trace step names, or "" for a step that is not one.
std::string outcomeOf(std::string_view step)
{
    const std::string s = text::toLower(text::trim(step));
    if (s == "deliver" || s == "delivered" || s == "send external" || s == "send" || s == "sent")
        return "delivered";
    if (s == "fail" || s == "failed")
        return "bounce";
    if (s == "defer" || s == "deferred" || s == "pending")
        return "deferral";
    return {};
}

/// "{LED=550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found …};{MSG=};…": the
/// last error description is the remote (or Exchange's own) reply.
std::string ledOf(std::string_view detail, std::string_view key = "LED=")
{
    const auto p = detail.find(key);
    if (p == std::string_view::npos)
        return {};
    auto v = detail.substr(p + key.size());
    const auto end = v.find('}');
    return std::string(text::trim(v.substr(0, end)));
}

} // namespace

int m365CsvHeader(const Head& h)
{
    // Get-MessageTraceDetail (Date, Event, Detail, RecipientAddress) or the extended/summary
    // report (origin_timestamp_utc, recipient_status).
    return (h.hasColumn("recipientaddress") && h.hasColumn("event") && h.hasColumn("detail"))
            || (h.hasColumn("origin_timestamp_utc")
                && (h.hasColumn("recipient_status") || h.hasColumn("recipient_address")))
        ? 80
        : 0;
}

void importM365(const std::string& path, Sink& sink)
{
    forEachCsvRecord(path, sink, [&](const FieldGetter& get, const Origin& o) {
        auto first = [&](std::initializer_list<const char*> names, std::string* which = nullptr) {
            for (const char* n : names)
                if (auto v = get(n); !v.empty()) {
                    if (which)
                        *which = n;
                    return v;
                }
            if (which)
                *which = *names.begin();
            return std::string();
        };
        std::string timeField;
        const std::string rawTime = first({"origin_timestamp_utc", "Date", "Received"}, &timeField);
        const std::string sender = first({"sender_address", "SenderAddress"});
        const std::string detail = first({"Detail", "detail"});
        auto emit = [&](const std::string& recipient, const std::string& recipientField, const std::string& type) {
            EspRecord r;
            Event& e = r.event;
            e.source = "m365";
            e.eventType = type;
            e.recipient = recipient;
            r.recipientField = recipientField;
            r.rawTime = rawTime;
            r.timeField = timeField;
            const std::string led = ledOf(detail);
            e.replyText = led.empty() ? detail : led;
            e.remoteMta = ledOf(detail, "FQDN=");
            e.envelopeSender = sender;
            e.fromDomain = domainOf(sender);
            e.sendingIp = first({"original_client_ip", "FromIP"});
            e.messageId = first({"message_id", "MessageId"});
            emitEsp(sink, std::move(r), o);
        };
        // Per-step rows: one recipient, one event word.
        if (const std::string step = first({"Event", "status", "Status"}); !step.empty()) {
            const std::string type = outcomeOf(step);
            if (type.empty()) {
                sink.skip();
                return;
            }
            std::string field;
            const std::string recipient = first({"RecipientAddress", "recipient_address"}, &field);
            emit(recipient, field, type);
            return;
        }
        // Report rows: "a@x.com##Receive, Deliver;b@y.com##Receive, Fail" — the last step of each
        // recipient is where its message ended.
        const std::string statuses = get("recipient_status");
        if (statuses.empty()) {
            rejectAt(sink, o, "no recipient (fields \"recipient_status\" and \"RecipientAddress\" are empty)");
            return;
        }
        std::string_view rest = statuses;
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            const auto one = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            if (text::trim(one).empty())
                continue;
            const auto hashes = one.find("##");
            const std::string recipient(text::trim(one.substr(0, hashes)));
            const auto steps = hashes == std::string_view::npos ? std::string_view() : one.substr(hashes + 2);
            const auto comma = steps.rfind(',');
            const std::string type = outcomeOf(comma == std::string_view::npos ? steps : steps.substr(comma + 1));
            if (type.empty()) {
                sink.skip();
                continue;
            }
            emit(recipient, "recipient_status", type);
        }
    });
}

} // namespace bt::detail
