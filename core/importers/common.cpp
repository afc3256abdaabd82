// SPDX-License-Identifier: MIT
// The machinery every importer shares: field checks, the Sink, the streaming JSON splitter and
// the common tail of the ESP importers.
#include "../bounce.h"
#include "../classifier.h"
#include "../csvreader.h"
#include "../email.h"
#include "../formats/formats.h"
#include "../replyparser.h"
#include "../replytemplate.h"
#include "../text.h"
#include "input.h"
#include "internal.h"
#include "sqlite.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <glib.h>
#include <sstream>

namespace bt::detail
{

namespace
{
constexpr std::size_t kBatch = 10000; // records per transaction; progress and cancel as often
// In a bulk load: each batch dirties most leaves of the UNIQUE dedup_key index (its keys are
// random), and every dirty page goes to the WAL once per commit: fewer, bigger batches.
constexpr std::size_t kBulkBatch = 100000;
// The queue between the importer's thread and the writer: chunks of up to kChunk records or
// kChunkBytes, at most kQueuedChunks of them waiting.
constexpr std::size_t kChunk = 256, kChunkBytes = 1 << 20, kQueuedChunks = 8;

std::string formatUtc(GDateTime* t)
{
    gchar* s = g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
    std::string out(s);
    g_free(s);
    return out;
}

/// "5/1/2024 10:00:00 AM" (or 24-hour without AM/PM): what Export-Csv writes for a DateTime in
/// the US culture, the one Microsoft's message trace exports are most often made in.
std::string usDateTime(std::string_view v)
{
    int mo = 0, d = 0, y = 0, h = 0, mi = 0, s = 0;
    char ampm[3] = {0, 0, 0};
    const std::string copy(v);
    const int n = std::sscanf(copy.c_str(), "%d/%d/%d %d:%d:%d %2s", &mo, &d, &y, &h, &mi, &s, ampm);
    if (n < 6 || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
        return {};
    if (n == 7) {
        const char c = text::lower(ampm[0]);
        if (c == 'p' && h < 12)
            h += 12;
        else if (c == 'a' && h == 12)
            h = 0;
    }
    GDateTime* t = g_date_time_new_utc(y, mo, d, h, mi, s);
    if (!t)
        return {};
    std::string out = formatUtc(t);
    g_date_time_unref(t);
    return out;
}

/// The texts a diagnosis carries for a reader (the reason's explanation and steps, the code's
/// meaning, references, what a blocklist holds) are the same for every event of a reason and are
/// not stored with the event (the window and the CLI take them from the knowledge base): an
/// event goes through the queue and the writer without them, a few hundred bytes and a dozen
/// allocations less per row.
void dropReasonTexts(Diagnosis& d)
{
    d.explanation = {};
    d.codeMeaning = {};
    d.steps = {};
    d.references = {};
    d.blocklists = {};
}

} // namespace

std::string sha1(std::string_view s)
{
    gchar* h = g_compute_checksum_for_data(G_CHECKSUM_SHA1, reinterpret_cast<const guchar*>(s.data()), s.size());
    std::string out(h);
    g_free(h);
    return out;
}

std::string domainOf(std::string_view address)
{
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string() : text::toLower(address.substr(at + 1));
}

std::string addressDefect(std::string_view a)
{
    char hex[8];
    for (const char c : a) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0)
            return ": it holds a NUL byte";
        if (u < 0x20 || u == 0x7f) {
            std::snprintf(hex, sizeof hex, "0x%02x", u);
            return std::string(": it holds a control character (") + hex + ")";
        }
    }
    const gchar* end = nullptr;
    if (!g_utf8_validate_len(a.data(), a.size(), &end)) {
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(*end));
        return std::string(": it is not valid UTF-8 (byte ") + hex + " at position "
            + std::to_string(end - a.data() + 1) + ")";
    }
    return {};
}

std::string shownBytes(std::string_view s)
{
    std::string out;
    char hex[8];
    for (std::size_t i = 0; i < s.size();) {
        const gchar* end = nullptr;
        const auto rest = s.substr(i);
        g_utf8_validate_len(rest.data(), rest.size(), &end);
        // The valid stretch as it is, controls escaped; then one bad byte escaped.
        for (const char* p = rest.data(); p < end; ++p) {
            const auto u = static_cast<unsigned char>(*p);
            if (u < 0x20 || u == 0x7f) {
                std::snprintf(hex, sizeof hex, "\\x%02x", u);
                out += hex;
            } else {
                out += *p;
            }
        }
        i += static_cast<std::size_t>(end - rest.data());
        if (i < s.size()) {
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(s[i]));
            out += hex;
            ++i;
        }
    }
    return out;
}

bool plausibleAddress(std::string_view a)
{
    if (!addressDefect(a).empty())
        return false;
    const auto at = a.find('@');
    return at != std::string_view::npos && at > 0 && a.find('.', at) != std::string_view::npos
        && a.find_first_of(" \t<>,;") == std::string_view::npos && at == a.rfind('@');
}

std::string normaliseTime(std::string_view v)
{
    v = text::trim(v);
    if (v.empty())
        return {};
    bool numeric = true;
    for (char c : v)
        numeric = numeric && (text::isDigit(c) || c == '.');
    if (numeric) {
        double secs = 0;
        try {
            secs = std::stod(std::string(v));
        } catch (const std::exception&) {
            return {};
        }
        if (secs > 1e11)
            secs /= 1000; // milliseconds
        GDateTime* t = g_date_time_new_from_unix_utc(static_cast<gint64>(secs));
        if (!t)
            return {};
        std::string out = formatUtc(t);
        g_date_time_unref(t);
        return out;
    }
    if (v.size() >= 19 && text::isDigit(v[0]) && v[4] == '-' && v[7] == '-') {
        std::string iso(v);
        if (iso[10] == ' ')
            iso[10] = 'T';
        // "2024-05-01 10:00:00 +0100" (Exim's log_timezone): the zone follows a space.
        if (iso.size() > 20 && iso[19] == ' ')
            iso.erase(19, 1);
        GTimeZone* utc = g_time_zone_new_utc();
        GDateTime* t = g_date_time_new_from_iso8601(iso.c_str(), utc);
        g_time_zone_unref(utc);
        if (t) {
            GDateTime* u = g_date_time_to_utc(t);
            std::string out = formatUtc(u);
            g_date_time_unref(u);
            g_date_time_unref(t);
            return out;
        }
        return {};
    }
    if (v.find('/') != std::string_view::npos)
        return usDateTime(v);
    return isoTimestamp(v);
}

std::string str(const json& j, const char* key)
{
    if (!j.is_object())
        return {};
    const auto it = j.find(key);
    if (it == j.end())
        return {};
    if (it->is_string())
        return it->get<std::string>();
    if (it->is_number())
        return it->dump();
    return {};
}

std::string fromDomainOf(std::string_view headerValue)
{
    const auto addrs = formats::findAddresses(headerValue);
    return addrs.empty() ? std::string() : domainOf(addrs.front());
}

int column(const std::vector<std::string>& header, std::string_view name)
{
    const std::string want = text::toLower(name);
    for (std::size_t i = 0; i < header.size(); ++i)
        if (text::toLower(text::trim(header[i])) == want)
            return static_cast<int>(i);
    return -1;
}

// ---- Sink ------------------------------------------------------------------------------------

Sink::Sink(Workspace& ws, std::int64_t importId, const Classifier& c, ImportObserver* obs, bool bulk)
    : m_ws(ws)
    , m_id(importId)
    , m_classifier(c)
    , m_obs(obs)
    , m_batch(bulk ? kBulkBatch : kBatch)
{
    m_tx.emplace(ws.db());
    m_ws.beginEventBatch();
    m_chunk.reserve(kChunk);
    m_writer = std::thread([this] { write(); });
}

Sink::~Sink()
{
    // Not finished (an exception on the way out): stop the writer; the open batch rolls back.
    stopWriter();
}

void Sink::event(Event&& e)
{
    if (m_quiet)
        return;
    // Whatever the format: an address that holds a NUL, a control character or bytes that are not
    // UTF-8 never becomes an event (it would go on into the suppression list).
    if (const auto defect = addressDefect(e.recipient); !defect.empty()) {
        reject({e.sourceFile, e.sourceLine, e.sourceOffset,
                (e.sourceLine > 0 ? "line " + std::to_string(e.sourceLine) + ": " : std::string()) + "recipient \""
                    + shownBytes(e.recipient) + "\" is not an e-mail address" + defect,
                std::move(e.raw)});
        return;
    }
    ++m_counts.read;
    dropReasonTexts(e.diagnosis);
    if (e.dedupKey.empty())
        e.dedupKey = sha1(e.source + '\x1f' + text::toLower(e.recipient) + '\x1f' + e.timestamp + '\x1f' + e.eventType
                          + '\x1f' + e.replyText + '\x1f' + e.enhancedCode);
    if (e.recipientDomain.empty())
        e.recipientDomain = domainOf(e.recipient);
    if (e.provider.empty())
        e.provider = providerFor(m_classifier.knowledge(), e.recipientDomain, e.remoteMta);
    if (e.templateText.empty() && !e.replyText.empty())
        e.templateText = replyTemplate(e.replyText, &m_classifier.knowledge());
    const std::size_t bytes = sizeof(Event) + e.raw.size() + e.replyText.size() + e.templateText.size();
    push(std::move(e), bytes);
}

void Sink::reject(Reject&& r)
{
    if (m_quiet)
        return;
    ++m_counts.read;
    const std::size_t bytes = sizeof(Reject) + r.raw.size() + r.reason.size();
    push(std::move(r), bytes);
}

void Sink::report(DmarcReport&& r)
{
    std::int64_t rows = 0;
    std::size_t bytes = sizeof(DmarcReport);
    for (const auto& row : r.rows)
        if (row.problem.empty()) {
            ++rows;
            bytes += sizeof(DmarcRow) + row.auth.size() * sizeof(DmarcAuth);
        }
    if (rows == 0)
        return;
    m_counts.read += rows;
    push(std::move(r), bytes);
}

void Sink::push(Item&& item, std::size_t bytes)
{
    m_chunk.push_back(std::move(item));
    m_chunkBytes += bytes;
    if (m_chunk.size() >= kChunk || m_chunkBytes >= kChunkBytes)
        flush();
    // Progress and cancel on this thread, as often as a batch is committed.
    if (++m_sincePoll >= kBatch) {
        m_sincePoll = 0;
        if (m_obs) {
            m_obs->progress(m_done, m_total);
            m_cancelled = m_obs->cancelled();
        }
    }
}

void Sink::flush()
{
    if (m_chunk.empty())
        return;
    std::unique_lock lock(m_mutex);
    m_notFull.wait(lock, [&] { return m_queue.size() < kQueuedChunks || m_error; });
    if (m_error)
        std::rethrow_exception(m_error);
    m_queue.push_back(std::move(m_chunk));
    lock.unlock();
    m_notEmpty.notify_one();
    m_chunk = {};
    m_chunk.reserve(kChunk);
    m_chunkBytes = 0;
}

void Sink::write()
{
    for (;;) {
        std::vector<Item> chunk;
        {
            std::unique_lock lock(m_mutex);
            m_notEmpty.wait(lock, [&] { return !m_queue.empty() || m_closing; });
            if (m_queue.empty())
                return;
            chunk = std::move(m_queue.front());
            m_queue.pop_front();
            if (m_error)
                continue; // failed before: what was queued behind is dropped
        }
        m_notFull.notify_one();
        try {
            for (auto& item : chunk)
                store(item);
        } catch (...) {
            {
                const std::lock_guard lock(m_mutex);
                m_error = std::current_exception();
            }
            m_notFull.notify_one();
        }
    }
}

void Sink::store(Item& item)
{
    std::size_t records = 1;
    if (const auto* e = std::get_if<Event>(&item)) {
        ++m_written.read;
        if (m_ws.addEvent(m_id, *e) == Workspace::Added::Imported) {
            ++m_written.imported;
            m_eventsAdded = true;
        } else {
            ++m_written.duplicate;
        }
    } else if (const auto* d = std::get_if<DmarcReport>(&item)) {
        // A report's rows are its records: stored or found duplicate together.
        const auto rows = static_cast<std::int64_t>(
            std::count_if(d->rows.begin(), d->rows.end(), [](const DmarcRow& r) { return r.problem.empty(); }));
        const bool added = m_ws.addDmarcReport(m_id, *d) == Workspace::Added::Imported;
        m_written.read += rows;
        (added ? m_written.imported : m_written.duplicate) += rows;
        records = static_cast<std::size_t>(rows);
    } else {
        ++m_written.read;
        ++m_written.rejected;
        m_ws.addReject(m_id, std::get<Reject>(item));
    }
    m_inBatch += records;
    if (m_inBatch < m_batch)
        return;
    m_inBatch = 0;
    // The counts go into the same transaction as the rows: a killed import shows exactly what it
    // committed.
    m_ws.updateImport(m_id, m_written, "running");
    m_ws.endEventBatch();
    m_tx->commit();
    m_committed = m_written;
    m_tx.emplace(m_ws.db());
    m_ws.beginEventBatch();
}

void Sink::stopWriter()
{
    if (!m_writer.joinable())
        return;
    {
        const std::lock_guard lock(m_mutex);
        m_closing = true;
    }
    m_notEmpty.notify_one();
    m_writer.join();
}

Diagnosis Sink::diagnose(const std::string& reply, std::optional<int> basic, const std::string& enhanced)
{
    const std::string key = reply + '\x1f' + (basic ? std::to_string(*basic) : "") + '\x1f' + enhanced;
    return m_cache.get(key, [&] {
        Reply r = parseReply(reply);
        if (!r.basicCode)
            r.basicCode = basic;
        if (r.enhancedCode.empty())
            r.enhancedCode = enhanced;
        auto d = m_classifier.diagnose(r, Classifier::Texts::Omit);
        dropReasonTexts(d);
        return d;
    });
}

void Sink::refine(Diagnosis& d, std::string_view stage, std::string_view hint)
{
    refineByContext(m_classifier, d, {stage, hint, false, d.enhancedCode});
}

ImportCounts Sink::finish(const std::string& status, bool bulk)
{
    // What is queued is stored unless the writer failed (then the import is failing anyway).
    {
        const std::lock_guard lock(m_mutex);
        if (!m_error && !m_chunk.empty())
            m_queue.push_back(std::move(m_chunk));
    }
    m_chunk.clear();
    stopWriter();
    // The writer is done: from here on this thread has the workspace again.
    std::exception_ptr failure = m_error;
    if (!failure && m_tx) {
        try {
            m_ws.updateImport(m_id, m_written, bulk ? std::string("running") : status);
            m_ws.endEventBatch();
            m_tx->commit();
            m_committed = m_written;
        } catch (...) {
            failure = std::current_exception(); // a full disk at the last COMMIT
        }
    }
    if (failure) {
        // The open batch is rolled back (SQLite may have done so already): what stays is what
        // the last COMMIT wrote, and the import record says so.
        m_tx.reset();
        m_ws.abandonEventBatch();
    }
    m_tx.reset();
    const std::string finalStatus = failure ? std::string("failed") : status;
    if (bulk) {
        try {
            m_ws.endBulkLoad();
        } catch (...) {
            // The rows are committed; the next open builds the missing indexes.
        }
    }
    try {
        sql::Transaction tx(m_ws.db());
        m_ws.finishImport(m_id, m_committed, finalStatus);
        tx.commit();
        m_recorded = true;
    } catch (...) {
        // No room even for that: the record keeps the counts of the last COMMIT, which are those
        // of the rows committed, and its status `running` (the next import of the file redoes it).
        if (!failure)
            failure = std::current_exception();
    }
    m_counts = m_committed;
    m_failure = failure;
    // A domain this import showed the MX of gets its provider on every event, earlier ones too.
    if (!failure && m_eventsAdded) {
        try {
            m_ws.learnProviders(m_classifier.knowledge(), m_id);
        } catch (...) {
            m_failure = std::current_exception();
        }
    }
    return m_counts;
}

// ---- ESP records -----------------------------------------------------------------------------

bool oneOf(std::string_view v, std::initializer_list<std::string_view> set)
{
    return std::find(set.begin(), set.end(), v) != set.end();
}

void setStatus(Event& e, const std::string& status)
{
    const auto s = text::trim(status);
    if (s.size() == 3 && text::isDigit(s[0]) && text::isDigit(s[1]) && text::isDigit(s[2]))
        e.basicCode = std::stoi(std::string(s));
    else if (s.size() >= 5 && text::isDigit(s[0]) && s[1] == '.')
        e.enhancedCode = std::string(s);
}

void setBasic(Event& e, const std::string& code)
{
    const auto s = text::trim(code);
    if (s.size() == 3 && (s[0] == '2' || s[0] == '4' || s[0] == '5') && text::isDigit(s[1]) && text::isDigit(s[2]))
        e.basicCode = std::stoi(std::string(s));
}

std::string unknownEventProblem(const std::string& field, const std::string& value)
{
    if (value.empty())
        return "no event type (field \"" + field + "\" is missing or empty)";
    return "event type \"" + value + "\" (field \"" + field + "\") is not one this importer knows";
}

void rejectUnknownEvent(Sink& sink, const Origin& o, const std::string& field, const std::string& value)
{
    rejectAt(sink, o, unknownEventProblem(field, value));
}

void rejectAt(Sink& sink, const Origin& o, const std::string& why)
{
    sink.reject({o.file, o.line, o.offset, "line " + std::to_string(o.line) + ": " + why, o.raw});
}

std::string espRecordProblem(EspRecord& rec)
{
    Event& e = rec.event;
    e.recipient = std::string(text::trim(e.recipient));
    if (e.recipient.empty())
        return "no recipient (field \"" + rec.recipientField + "\" is missing or empty)";
    if (!plausibleAddress(e.recipient))
        return "recipient \"" + shownBytes(e.recipient) + "\" (field \"" + rec.recipientField
            + "\") is not an e-mail address" + addressDefect(e.recipient);
    // Every ESP export dates its events; one without a time is damaged, and the time is part of
    // the dedup key, so a guessed or empty one would merge distinct events.
    if (text::trim(rec.rawTime).empty())
        return "no timestamp (field \"" + rec.timeField + "\" is missing or empty)";
    e.timestamp = normaliseTime(rec.rawTime);
    if (e.timestamp.empty())
        return "timestamp \"" + rec.rawTime + "\" (field \"" + rec.timeField + "\") cannot be read";
    return {};
}

void emitEsp(Sink& sink, EspRecord&& rec, const Origin& o)
{
    if (auto why = espRecordProblem(rec); !why.empty()) {
        rejectAt(sink, o, why);
        return;
    }
    Event& e = rec.event;
    e.replyText = std::string(text::trim(e.replyText));
    const Reply parsed = parseReply(e.replyText);
    if (!e.basicCode)
        e.basicCode = parsed.basicCode;
    if (e.enhancedCode.empty())
        e.enhancedCode = parsed.enhancedCode;
    if (e.eventType == "complaint" && e.reasonHint.empty())
        e.reasonHint = "feedback";
    if (e.eventType == "auto_reply" && e.reasonHint.empty())
        e.reasonHint = "vacation";
    if (e.eventType != "delivered") {
        e.diagnosis = sink.diagnose(e.replyText, e.basicCode, e.enhancedCode);
        sink.refine(e.diagnosis, e.diagnosis.smtpStage, e.reasonHint);
    }
    e.sourceFile = o.file;
    e.sourceLine = o.line;
    e.sourceOffset = o.offset;
    if (e.raw.empty())
        e.raw = o.raw;
    sink.event(std::move(e));
}

// ---- JSON splitting --------------------------------------------------------------------------

bool isWrapperKey(std::string_view key)
{
    // Mailgun's events API page, Postmark's bounces API, SparkPost's events API, a Mandrill
    // webhook body saved as JSON, Brevo's events API.
    return key == "items" || key == "Bounces" || key == "results" || key == "mandrill_events" || key == "events";
}

namespace
{

/// Splits a JSON document (not JSON Lines) into records by tracking depth and strings, so a
/// large array is never parsed whole. Records are the elements of a top-level array, the
/// elements of a wrapper array inside a top-level object, or the top-level object itself.
class DocumentSplitter
{
public:
    using Each = std::function<void(const std::string&, std::int64_t, std::int64_t)>;
    using TooLong = std::function<void(const std::string&, std::int64_t, std::int64_t, std::uint64_t)>;
    DocumentSplitter(const Each& each, const TooLong& tooLong)
        : m_each(each)
        , m_tooLong(tooLong)
    {
    }

    void run(std::istream& in, std::int64_t offset)
    {
        m_offset = offset;
        char c;
        char prev = 0;
        while (in.get(c)) {
            feed(c);
            ++m_offset;
            // LF, CRLF or a lone CR (a CR-only file) each end a line.
            m_line += c == '\r' || (c == '\n' && prev != '\r');
            prev = c;
        }
        if (m_inRecord && !text::trim(m_cur).empty())
            emit(); // cut off: the parser says what is wrong
    }

private:
    void start()
    {
        m_inRecord = true;
        m_cur.clear();
        m_recLine = m_line;
        m_recOffset = m_offset;
        m_recDepth = m_depth;
    }
    void emit()
    {
        if (m_cur.size() > kMaxRecordBytes && m_tooLong)
            m_tooLong(m_cur.substr(0, 200), m_recLine, m_recOffset,
                      static_cast<std::uint64_t>(m_offset - m_recOffset + 1));
        else
            m_each(m_cur, m_recLine, m_recOffset);
        m_cur.clear();
        m_inRecord = false;
    }
    /// Appends to the record's text up to one byte past the limit: enough to know it is too long,
    /// never more (a 50 MB field is read past, not held).
    void keep(char c)
    {
        if (m_cur.size() <= kMaxRecordBytes || !m_tooLong)
            m_cur.push_back(c);
    }

    void feed(char c)
    {
        if (m_inString) {
            if (m_inRecord)
                keep(c);
            if (m_capture && m_key.size() < 256) // a key to compare with the wrapper keys, not a value
                m_key.push_back(c);
            if (m_escape)
                m_escape = false;
            else if (c == '\\')
                m_escape = true;
            else if (c == '"') {
                m_inString = false;
                if (m_capture) {
                    m_key.pop_back();
                    m_capture = false;
                }
            }
            return;
        }
        const bool sep = text::isSpace(c) || c == ',';
        // Between records of an array being split.
        if (!m_inRecord && m_depth == m_elemDepth) {
            if (sep)
                return;
            if (c == ']') {
                --m_depth;
                m_elemDepth = -1;
                return;
            }
            start();
        }
        // Between top-level values.
        if (!m_inRecord && m_depth == 0) {
            if (sep || c == '\xEF' || c == '\xBB' || c == '\xBF')
                return;
            if (c == '[') {
                m_depth = 1;
                m_elemDepth = 1;
                return;
            }
            start();
            m_topObject = c == '{';
            m_unwrapped = false;
        }
        // A scalar element ends at the next separator of its array.
        if (m_inRecord && m_depth == m_recDepth && !m_cur.empty() && m_cur.front() != '{' && m_cur.front() != '['
            && (c == ',' || c == ']' || c == '\n')) {
            emit();
            if (c == ']' && m_depth == m_elemDepth) {
                --m_depth;
                m_elemDepth = -1;
            }
            return;
        }
        if (m_inRecord)
            keep(c);
        switch (c) {
        case '"':
            m_inString = true;
            m_capture = m_topObject && m_depth == 1;
            if (m_capture)
                m_key.clear();
            break;
        case ':':
            if (m_topObject && m_depth == 1)
                m_pendingKey = m_key;
            break;
        case ',':
            if (m_depth == 1)
                m_pendingKey.clear();
            break;
        case '[':
            if (m_topObject && m_depth == 1 && m_elemDepth < 0 && isWrapperKey(m_pendingKey)) {
                // An API page: its records are this array's elements; the page itself is not one.
                m_cur.clear();
                m_inRecord = false;
                m_unwrapped = true;
                m_depth = 2;
                m_elemDepth = 2;
                return;
            }
            ++m_depth;
            break;
        case '{':
            ++m_depth;
            break;
        case '}':
        case ']':
            --m_depth;
            if (m_inRecord && m_depth == m_recDepth)
                emit();
            if (m_depth <= 0) {
                if (m_topObject && m_unwrapped)
                    m_inRecord = false, m_cur.clear();
                m_depth = 0;
                m_topObject = false;
                m_pendingKey.clear();
            }
            break;
        default:
            break;
        }
    }

    const Each& m_each;
    const TooLong& m_tooLong;
    std::string m_cur, m_key, m_pendingKey;
    int m_depth = 0, m_elemDepth = -1, m_recDepth = 0;
    bool m_inString = false, m_escape = false, m_capture = false, m_inRecord = false;
    bool m_topObject = false, m_unwrapped = false;
    std::int64_t m_line = 1, m_offset = 0, m_recLine = 1, m_recOffset = 0;
};

} // namespace

void forEachJsonRecord(
    std::istream& in, const std::function<void(const std::string&, std::int64_t, std::int64_t)>& each,
    const std::function<void(const std::string&, std::int64_t, std::int64_t, std::uint64_t)>& tooLong)
{
    // JSON Lines or a document? Look at the first two non-empty lines of a bounded head (a
    // single-line array may be the whole file and must not be read whole to find out). Lines
    // when the first line is a whole object; or when it is broken but the next one is whole
    // (a lines file whose first record is damaged); or when whole arrays follow each other
    // line by line (webhook batches appended to a file).
    constexpr std::size_t kPeek = 1 << 20;
    std::string head(kPeek, '\0');
    in.read(head.data(), static_cast<std::streamsize>(kPeek));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (head.rfind("\xEF\xBB\xBF", 0) == 0)
        head.erase(0, 3);
    if (head.find('\n') == std::string::npos)
        std::replace(head.begin(), head.end(), '\r', '\n'); // a CR-only file: its lines all the same
    std::string firstLine, secondLine;
    {
        std::size_t p = 0;
        while (p < head.size() && secondLine.empty()) {
            const auto nl = head.find('\n', p);
            if (nl == std::string::npos && head.size() == kPeek)
                break; // a line longer than the head: not a line of JSON Lines
            const auto t = text::trim(std::string_view(head).substr(p, nl == std::string::npos ? nl : nl - p));
            if (!t.empty())
                (firstLine.empty() ? firstLine : secondLine) = std::string(t);
            if (nl == std::string::npos)
                break;
            p = nl + 1;
        }
    }
    bool lines = false;
    if (!firstLine.empty() && firstLine.front() == '{')
        lines = json::accept(firstLine) || (!secondLine.empty() && json::accept(secondLine));
    else if (!firstLine.empty() && firstLine.front() == '[')
        lines = json::accept(firstLine) && !secondLine.empty()
            && (secondLine.front() == '[' || secondLine.front() == '{');
    in.clear();
    in.seekg(0);
    if (!lines) {
        DocumentSplitter splitter(each, tooLong);
        splitter.run(in, 0);
        return;
    }
    std::string l;
    std::int64_t line = 0, offset = 0, bytes = 0;
    LineReader reader(in, tooLong ? kMaxRecordBytes : std::size_t(-1));
    while (reader.next(l, bytes)) {
        ++line;
        const std::int64_t at = offset;
        offset += bytes;
        if (reader.cut()) {
            l.resize(200);
            tooLong(l, line, at, static_cast<std::uint64_t>(bytes));
            continue;
        }
        if (line == 1 && l.rfind("\xEF\xBB\xBF", 0) == 0)
            l.erase(0, 3);
        if (text::trim(l).empty())
            continue;
        each(l, line, at);
    }
}

void forEachJsonObject(const std::string& path, Sink& sink, const std::function<void(const json&, const Origin&)>& each)
{
    InputFile in(path);
    std::error_code ec;
    const auto total = std::filesystem::file_size(path, ec);
    const auto tooLong = [&](const std::string& start, std::int64_t line, std::int64_t offset, std::uint64_t bytes) {
        rejectAt(sink, Origin {path, line, offset, start},
                 "the record takes " + byteSize(bytes) + ", more than the " + byteSize(kMaxRecordBytes)
                     + " a record may: left out unread");
    };
    forEachJsonRecord(
        in,
        [&](const std::string& textValue, std::int64_t line, std::int64_t offset) {
            if (sink.cancelled())
                return;
            sink.setProgress(in.consumed(), total);
            const Origin o {path, line, offset, textValue};
            json j;
            try {
                j = json::parse(textValue);
            } catch (const json::exception& e) { // parse_error, and out_of_range for a number too big for a double
                rejectAt(sink, o, std::string("not valid JSON: ") + e.what());
                return;
            }
            // A batch saved as one line, or an API page on one line: its elements are the records.
            const json* list = &j;
            if (j.is_object())
                for (const auto& [k, v] : j.items())
                    if (isWrapperKey(k) && v.is_array()) {
                        list = &v;
                        break;
                    }
            if (list->is_array()) {
                for (const auto& element : *list) {
                    const Origin eo {path, line, offset, element.dump()};
                    if (!element.is_object())
                        rejectAt(sink, eo, "not a JSON object");
                    else
                        each(element, eo);
                }
                return;
            }
            if (!j.is_object()) {
                rejectAt(sink, o, "not a JSON object");
                return;
            }
            each(j, o);
        },
        tooLong);
}

void forEachCsvRecord(const std::string& path, Sink& sink,
                      const std::function<void(const FieldGetter&, const Origin&)>& each, char delimiter,
                      const std::function<void(const std::vector<std::string>&)>& onHeader)
{
    InputFile in(path);
    std::error_code ec;
    const auto total = std::filesystem::file_size(path, ec);
    CsvReader reader(in, delimiter);
    CsvRow row;
    std::string err;
    if (!reader.next(row, err))
        return;
    std::vector<std::string> header;
    for (const auto& f : row.fields)
        header.push_back(text::toLower(text::trim(f)));
    if (onHeader)
        onHeader(header);
    while (reader.next(row, err)) {
        if (sink.cancelled())
            return;
        sink.setProgress(in.consumed(), total);
        const Origin o {path, row.line, row.offset, row.raw};
        if (!err.empty()) {
            rejectAt(sink, o, err);
            continue;
        }
        if (row.fields.size() != header.size()) {
            rejectAt(sink, o,
                     std::to_string(row.fields.size()) + " fields where the header has "
                         + std::to_string(header.size()));
            continue;
        }
        const FieldGetter get = [&](const char* name) {
            const std::string want = text::toLower(name);
            for (std::size_t i = 0; i < header.size(); ++i)
                if (header[i] == want)
                    return std::string(text::trim(row.fields[i]));
            return std::string();
        };
        each(get, o);
    }
}

std::vector<json> jsonHeadRecords(const std::string& head, std::size_t max)
{
    std::vector<json> out;
    std::istringstream in(head);
    forEachJsonRecord(in, [&](const std::string& textValue, std::int64_t, std::int64_t) {
        if (out.size() >= max)
            return;
        const json j = json::parse(textValue, nullptr, false);
        if (j.is_discarded())
            return;
        if (j.is_array()) {
            for (const auto& e : j)
                if (out.size() < max)
                    out.push_back(e);
            return;
        }
        if (j.is_object())
            for (const auto& [k, v] : j.items())
                if (isWrapperKey(k) && v.is_array()) {
                    for (const auto& e : v)
                        if (out.size() < max)
                            out.push_back(e);
                    return;
                }
        out.push_back(j);
    });
    return out;
}

void forEachLogLine(const std::string& path, Sink& sink,
                    const std::function<bool(const std::string& line, std::int64_t lineNo, std::int64_t offset)>& each)
{
    InputFile in(path);
    std::error_code ec;
    const auto total = std::filesystem::file_size(path, ec);
    // A followed log's new lines, after the lines before them that give their context.
    const auto range = sink.logRange();
    if (range.start > 0 && !in.seekg(range.start))
        throw std::runtime_error(path + ": cannot go to byte " + std::to_string(range.start)
                                 + " of the log: it is shorter than where reading stopped before");
    std::string l;
    std::int64_t lineNo = range.startLine - 1, offset = range.start, bytes = 0;
    LineReader lines(in, kMaxRecordBytes);
    while ((range.to < 0 || offset < range.to) && lines.next(l, bytes)) {
        ++lineNo;
        const std::int64_t lineOffset = offset;
        offset += bytes;
        sink.setProgress(in.consumed(), total);
        sink.setQuiet(lineOffset < range.from);
        if (lines.cut()) {
            l.resize(200);
            rejectAt(sink, Origin {path, lineNo, lineOffset, l},
                     "the line takes " + byteSize(static_cast<std::uint64_t>(bytes)) + ", more than the "
                         + byteSize(kMaxRecordBytes) + " a log line may: left out unread");
            continue;
        }
        if (!each(l, lineNo, lineOffset))
            break;
    }
    sink.setQuiet(false);
}

void emitLogLine(Sink& sink, Event&& e, const Reply& parsed, const std::string& inner, const std::string& path,
                 std::int64_t lineNo, std::int64_t lineOffset, const std::string& line)
{
    if (e.eventType != "delivered") {
        Reply r = parsed.basicCode ? parsed : parseReply(inner);
        if (r.enhancedCode.empty())
            r.enhancedCode = e.enhancedCode;
        e.diagnosis = sink.diagnose(r.text, r.basicCode, r.enhancedCode);
        sink.refine(e.diagnosis, parsed.smtpStage);
    }
    e.sourceFile = path;
    e.sourceLine = lineNo;
    e.sourceOffset = lineOffset;
    e.raw = line;
    e.dedupKey = sha1(e.source + '\x1f' + line);
    sink.event(std::move(e));
}

} // namespace bt::detail
