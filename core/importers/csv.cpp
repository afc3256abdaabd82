// SPDX-License-Identifier: MIT
// A CSV read by column names: SendGrid's suppression lists (Bounces, Blocks, Invalid Emails) by
// their own names, any other CSV through a user's column profile. Both on the shared pipeline
// (forEachCsvRecord, emitEsp), so they check, skip and diagnose as every ESP importer does.
#include "../text.h"
#include "internal.h"

#include <algorithm>
#include <functional>

namespace bt::detail
{

const std::vector<CsvField>& csvFields()
{
    // Order matters for guessing: a header taken by an earlier field is not offered to later
    // ones, so the specific fields (recipient, reply) choose before the vaguer (status, code).
    static const std::vector<CsvField> fields = {
        {"recipient",
         {"email", "recipient", "address"},
         {"recipient", "rcpt", "=to", "email", "address", "~to"},
         {"from", "sender", "~ip", "reply"}},
        // "Diagnostic-Code" holds the reply; a header that is only a code does not, nor "Reply-To".
        {"reply",
         {"reason", "response", "diagnostic", "details"},
         {"reply", "reason", "response", "diagnostic", "description", "detail", "smtp", "error"},
         {"=code", "=smtp code", "=smtp_code", "=error code", "=error_code", "=status code", "~id", "~type", "~ip",
          "~to"}},
        {"timestamp", {"created", "created_at", "timestamp", "date"}, {"timestamp", "time", "date", "created"}, {}},
        {"status", {"status"}, {"=status", "status", "enhanced"}, {}},
        {"basic_code", {"code", "error_code"}, {"=code", "smtp code", "error_code", "code"}, {}},
        {"event_type", {"event", "type"}, {"=event", "event", "=type", "type"}, {}},
        {"sending_ip",
         {"ip", "sending_ip"},
         {"sending_ip", "sending ip", "source ip", "~ip", "ip_address", "ip address"},
         {}},
        {"campaign", {"category", "campaign", "tag"}, {"campaign", "tag", "category", "stream"}, {}},
        {"from", {"from"}, {"=from", "from"}, {"envelope", "mail_from", "mail from"}},
        {"envelope_sender",
         {"envelope_sender", "sender"},
         {"envelope", "sender", "return-path", "return_path", "mail_from", "mail from"},
         {}},
        {"message_id",
         {"message_id", "sg_message_id", "messageid"},
         {"message_id", "message-id", "messageid", "message id", "msgid", "~msg"},
         {}},
        {"remote_mta",
         {"mx", "remote_mta", "mx-host"},
         {"remote_mta", "~mx", "mx_host", "mx-host", "remote", "mta", "receiving"},
         {}},
    };
    return fields;
}

namespace
{

/// The event type a CSV's own word names; "" for a record that is not an outcome (an open, a
/// click, an acceptance notice: skipped), nullopt for a word no importer knows (rejected). No
/// word at all: a bounce, as in a suppression list, which has no type column.
std::optional<std::string> eventTypeOfWord(const std::string& w)
{
    if (w.empty() || oneOf(w, {"bounce", "bounced", "hard_bounce", "failed", "dropped", "blocked", "rejected"}))
        return "bounce";
    if (oneOf(w, {"delivered", "delivery", "sent"}))
        return "delivered";
    if (oneOf(w, {"deferred", "deferral", "delay", "delayed", "soft_bounce"}))
        return "deferral";
    if (oneOf(w, {"spamreport", "complaint", "complained", "spam", "spam_complaint"}))
        return "complaint";
    if (oneOf(w, {"auto_reply", "autoreply", "auto-reply", "autoresponder"}))
        return "auto_reply";
    if (oneOf(w,
              {"open", "opened", "click", "clicked", "unsubscribe", "unsubscribed", "processed", "accepted", "queued",
               "request", "injection"}))
        return "";
    return std::nullopt;
}

/// One CSV record as the importer reads it: skipped (not an outcome), rejected with the
/// reason, or the record emitEsp takes. The mapping dialog's preview asks the same function.
struct CsvRecord {
    bool skipped = false;
    std::string problem; ///< why it is rejected, without the "line N: " prefix
    EspRecord record;
};

CsvRecord readCsvRecord(const std::function<std::string(const char*)>& get,
                        const std::function<std::string(const char*)>& named, const std::string& source)
{
    CsvRecord out;
    const std::string word = text::toLower(get("event_type"));
    const auto type = eventTypeOfWord(word);
    if (!type) {
        out.problem = unknownEventProblem(named("event_type"), word);
        return out;
    }
    if (type->empty()) {
        out.skipped = true;
        return out;
    }
    EspRecord& r = out.record;
    Event& e = r.event;
    e.source = source;
    e.eventType = *type;
    e.recipient = get("recipient");
    r.recipientField = named("recipient");
    r.rawTime = get("timestamp");
    r.timeField = named("timestamp");
    e.replyText = get("reply");
    setStatus(e, get("status"));
    setBasic(e, get("basic_code"));
    e.sendingIp = get("sending_ip");
    e.campaign = get("campaign");
    e.fromDomain = domainOf(get("from"));
    e.envelopeSender = get("envelope_sender");
    e.messageId = get("message_id");
    e.remoteMta = get("remote_mta");
    return out;
}

} // namespace

int sendGridCsvHeader(const Head& h)
{
    return h.hasColumn("email") && h.hasColumn("reason") && (h.hasColumn("created") || h.hasColumn("status")) ? 50 : 0;
}

void importCsv(const std::string& path, Sink& sink, const CsvProfile* profile, const std::string& source)
{
    // Event field → the column that holds it (as written in the header), resolved once.
    std::map<std::string, std::string> cols;
    const auto onHeader = [&](const std::vector<std::string>& header) {
        for (const auto& f : csvFields()) {
            if (profile) {
                if (const auto it = profile->columns.find(f.field); it != profile->columns.end())
                    cols[f.field] = it->second;
                continue;
            }
            for (const auto& n : f.names)
                if (std::find(header.begin(), header.end(), n) != header.end()) {
                    cols[f.field] = n;
                    break;
                }
        }
    };
    forEachCsvRecord(
        path, sink,
        [&](const FieldGetter& row, const Origin& o) {
            auto get = [&](const char* field) {
                const auto it = cols.find(field);
                return it == cols.end() ? std::string() : row(it->second.c_str());
            };
            // Named in a reject: the column, or the profile's field when no column holds it.
            auto named = [&](const char* field) {
                const auto it = cols.find(field);
                return it == cols.end() ? std::string(field) : it->second;
            };
            CsvRecord r = readCsvRecord(get, named, source);
            if (r.skipped)
                sink.skip();
            else if (!r.problem.empty())
                rejectAt(sink, o, r.problem);
            else
                emitEsp(sink, std::move(r.record), o);
        },
        profile ? profile->delimiter : 0, onHeader);
}

void importSendGridCsv(const std::string& path, Sink& sink)
{
    importCsv(path, sink, nullptr, "sendgrid");
}

} // namespace bt::detail

namespace bt
{

namespace
{

bool keywordMatches(const std::string& header, std::string_view keyword)
{
    if (keyword.front() == '=')
        return header == keyword.substr(1);
    if (keyword.front() == '~') {
        const auto word = keyword.substr(1);
        std::size_t i = 0;
        while (i < header.size()) {
            while (i < header.size() && !(text::isAlpha(header[i]) || text::isDigit(header[i])))
                ++i;
            std::size_t end = i;
            while (end < header.size() && (text::isAlpha(header[end]) || text::isDigit(header[end])))
                ++end;
            if (end > i && std::string_view(header).substr(i, end - i) == word)
                return true;
            i = end;
        }
        return false;
    }
    return header.find(keyword) != std::string::npos;
}

} // namespace

std::vector<std::string> profileFields()
{
    std::vector<std::string> out;
    for (const auto& f : detail::csvFields())
        out.emplace_back(f.field);
    return out;
}

std::map<std::string, std::string> guessProfileColumns(const std::vector<std::string>& header)
{
    std::vector<std::string> lower;
    for (const auto& h : header)
        lower.push_back(text::toLower(text::trim(h)));
    std::vector<bool> taken(header.size(), false);
    std::map<std::string, std::string> out;
    for (const auto& f : detail::csvFields()) {
        int found = -1;
        for (const char* keyword : f.guess) {
            for (std::size_t c = 0; c < lower.size() && found < 0; ++c) {
                if (taken[c] || lower[c].empty())
                    continue;
                const bool excluded = std::any_of(f.exclude.begin(), f.exclude.end(),
                                                  [&](const char* x) { return keywordMatches(lower[c], x); });
                if (!excluded && keywordMatches(lower[c], keyword))
                    found = static_cast<int>(c);
            }
            if (found >= 0)
                break;
        }
        if (found >= 0) {
            taken[static_cast<std::size_t>(found)] = true;
            out[f.field] = header[static_cast<std::size_t>(found)];
        }
    }
    return out;
}

ProfileRecordCheck checkProfileRecord(const CsvProfile& profile, const std::map<std::string, std::string>& byColumn)
{
    auto get = [&](const char* field) {
        const auto c = profile.columns.find(field);
        if (c == profile.columns.end())
            return std::string();
        const auto v = byColumn.find(c->second);
        return v == byColumn.end() ? std::string() : v->second;
    };
    auto named = [&](const char* field) {
        const auto c = profile.columns.find(field);
        return c == profile.columns.end() ? std::string(field) : c->second;
    };
    auto r = detail::readCsvRecord(get, named, "csv");
    ProfileRecordCheck check;
    check.skipped = r.skipped;
    check.problem = r.skipped || !r.problem.empty() ? r.problem : detail::espRecordProblem(r.record);
    return check;
}

} // namespace bt
