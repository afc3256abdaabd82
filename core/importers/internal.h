// SPDX-License-Identifier: MIT
// What the importers share and no one else needs: the Sink that batches, deduplicates and
// counts, the helpers that check fields, the streaming JSON record splitter, and one entry
// point per format. Internal to the core: importer.h is the public face.
#pragma once

#include "../diagnosis.h"
#include "../dmarc.h"
#include "../importer.h"
#include "../memo.h"
#include "../workspace.h"
#include "sqlite.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <istream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace bt
{
class Classifier;
struct SourceMessage;

namespace detail
{

using nlohmann::json;

std::string sha1(std::string_view s);
std::string domainOf(std::string_view address);
/// An address with one @ and a dot after it, no spaces or brackets, and nothing a stored address
/// must not hold (see addressDefect).
bool plausibleAddress(std::string_view a);
/// What makes `a` unusable as an address whatever its shape — ": it holds a NUL byte", ": it
/// holds a control character (0x07)", ": it is not valid UTF-8 (byte 0xff)" — or empty. Such
/// bytes would go on into the suppression list and every export.
std::string addressDefect(std::string_view a);
/// `s` for a message: NUL, control and non-UTF-8 bytes written as \xNN.
std::string shownBytes(std::string_view s);
/// Epoch seconds (or milliseconds), ISO 8601 (with or without zone; none means UTC), RFC 5322,
/// or the US "M/D/YYYY h:mm:ss AM" PowerShell writes → ISO UTC; empty when unreadable.
std::string normaliseTime(std::string_view v);
/// A JSON member as text: strings as they are, numbers printed; empty when absent or other.
std::string str(const json& j, const char* key);
/// The domain of the first address in a header value ("Shop <news@shop.example>").
std::string fromDomainOf(std::string_view headerValue);
/// Column index by header name (case-insensitive, trimmed), -1 when absent.
int column(const std::vector<std::string>& header, std::string_view name);

/// Batches, deduplicates and counts; keeps the diagnosis of each distinct reply (a pure function
/// of the text), which is what makes million-row exports cheap.
///
/// A pipeline over two threads: the importer's thread reads, diagnoses and prepares each record
/// (dedup key, provider, template) and hands it on through a small bounded queue (a few
/// thousand records or a few MB, so memory stays flat); a writer thread stores them in order,
/// in batch transactions. The observer is only ever called on the importer's thread. The
/// workspace must not be used by anyone else until finish() returns.
class Sink
{
public:
    /// `bulk`: the workspace is in bulk mode (Workspace::beginBulkLoad): bigger transactions.
    Sink(Workspace& ws, std::int64_t importId, const Classifier& c, ImportObserver* obs, bool bulk = false);
    ~Sink();
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;

    /// Both may throw the writer's error (a failed insert) for an earlier record.
    void event(Event&& e);
    void reject(Reject&& r);
    /// A DMARC aggregate report: each of its rows is a record (read), all imported or all
    /// duplicate (by org name and report id) together. Rows with a `problem` must have been
    /// rejected by the caller; they are not stored with the report.
    void report(DmarcReport&& r);
    /// A record recognised and deliberately left out (an open or click, a "processed" notice):
    /// not read, not rejected; counted apart so the user can see it happened.
    void skip() { ++m_skipped; }

    /// The diagnosis of an ESP's reply text with the codes the export gives beside it.
    Diagnosis diagnose(const std::string& reply, std::optional<int> basic, const std::string& enhanced);
    /// The same refinements as for bounce emails ("user unknown" after DATA is a filter, a
    /// reason the source states itself), so import and a later re-diagnosis agree.
    void refine(Diagnosis& d, std::string_view stage, std::string_view hint = {});

    /// The part of a log this import reads (ImportOptions' range): where reading starts (the
    /// context's first line), where counting starts, and where it ends (-1: the file's end).
    struct LogRange {
        std::int64_t start = 0, startLine = 1, from = 0, to = -1;
    };
    void setLogRange(const LogRange& r) { m_range = r; }
    const LogRange& logRange() const { return m_range; }
    /// While set, event() and reject() drop what they are given uncounted: a log's context lines.
    void setQuiet(bool quiet) { m_quiet = quiet; }

    bool cancelled() const { return m_cancelled; }
    void setProgress(std::uint64_t done, std::uint64_t total)
    {
        m_done = done;
        m_total = total;
    }
    /// Stores what is still queued, commits the last batch, builds the indexes again after a
    /// bulk load (before the import is marked finished), and records the final counts and status.
    /// When storing failed (a full disk: the writer's statement or a COMMIT), the open batch is
    /// rolled back and the import is recorded `failed` with the counts of what was committed —
    /// exactly the rows it left in the workspace — and failure() says why. Returns the counts
    /// recorded. Never throws.
    ImportCounts finish(const std::string& status, bool bulk = false);
    /// Why storing failed (the writer's error), or null.
    std::exception_ptr failure() const { return m_failure; }
    /// False when finish() could not even write the final status (no room left): the import
    /// record keeps its last COMMIT's counts, status `running`.
    bool recorded() const { return m_recorded; }
    /// Before finish() only `read` is current (the writer's counts lag behind).
    const ImportCounts& counts() const { return m_counts; }
    std::int64_t skipped() const { return m_skipped; }

private:
    using Item = std::variant<Event, Reject, DmarcReport>;
    void push(Item&& item, std::size_t bytes);
    void flush();
    void write(); ///< the writer thread
    void store(Item& item);
    void stopWriter();

    Workspace& m_ws;
    std::int64_t m_id;
    const Classifier& m_classifier;
    ImportObserver* m_obs;
    std::optional<sql::Transaction> m_tx; ///< the writer's open batch
    ImportCounts m_counts; ///< the importer thread's (read) until finish()
    ImportCounts m_written; ///< the writer's
    ImportCounts m_committed; ///< the writer's as of its last COMMIT
    std::exception_ptr m_failure; ///< why storing failed, once finish() has run
    bool m_recorded = false; ///< finish() wrote the final status
    bool m_eventsAdded = false; ///< the writer stored an event (a DMARC import stores none)
    std::int64_t m_skipped = 0;
    std::size_t m_batch; ///< records per transaction
    std::size_t m_inBatch = 0; ///< writer: records in the open transaction
    std::size_t m_sincePoll = 0; ///< importer: records since the observer was asked
    bool m_cancelled = false;
    std::uint64_t m_done = 0, m_total = 0;
    LogRange m_range;
    bool m_quiet = false;
    /// Diagnoses by reply and codes. A diagnosis with its texts is ~1–2 KB, and replies that quote
    /// the recipient make every row a new key: 10 000 entries ≈ 20 MB at most.
    BoundedMemo<Diagnosis> m_cache {10000};

    std::vector<Item> m_chunk; ///< being filled by the importer's thread
    std::size_t m_chunkBytes = 0;
    std::deque<std::vector<Item>> m_queue;
    std::mutex m_mutex;
    std::condition_variable m_notEmpty, m_notFull;
    bool m_closing = false;
    std::exception_ptr m_error; ///< the writer's failure, rethrown on the importer's thread
    std::thread m_writer;
};

/// Where a record stands in its file, for the event's origin and for a reject.
struct Origin {
    std::string file;
    std::int64_t line = 0;
    std::int64_t offset = -1;
    std::string raw;
};

/// Rejects with "line N: why" (every reason names its line, as the other importers do).
void rejectAt(Sink& sink, const Origin& o, const std::string& why);

/// What an ESP record says once its own field names are resolved.
struct EspRecord {
    Event event; ///< eventType, source, recipient, replyText and whatever else the format gives
    std::string recipientField; ///< the field the recipient came from, named in a reject
    std::string rawTime; ///< the timestamp as written
    std::string timeField; ///< the field it came from
};

/// The common tail of every ESP importer: rejects a record without a usable recipient or
/// timestamp (naming the field), takes the codes from the reply where the export gives none
/// beside it, diagnoses every outcome but a delivery (applying the reason the ESP itself
/// states), sets the origin and hands the event to the sink.
void emitEsp(Sink& sink, EspRecord&& rec, const Origin& o);
/// Why emitEsp would reject the record (without the "line N: " prefix), empty when it takes it;
/// trims the recipient and reads the timestamp into the event on the way.
std::string espRecordProblem(EspRecord& rec);

bool oneOf(std::string_view v, std::initializer_list<std::string_view> set);
/// A status field that holds either a basic code ("550") or an enhanced one ("5.1.1").
void setStatus(Event& e, const std::string& status);
/// A basic code field ("550"); anything else is left out.
void setBasic(Event& e, const std::string& code);
/// "no event type (field …)" or "event type "x" (field …) is not one this importer knows".
void rejectUnknownEvent(Sink& sink, const Origin& o, const std::string& field, const std::string& value);
/// rejectUnknownEvent's reason, for callers that only want the words.
std::string unknownEventProblem(const std::string& field, const std::string& value);

/// Streams the records of a JSON export, whatever its shape:
///  - JSON Lines (one value per line; a broken line costs only itself);
///  - a top-level array, split element by element without parsing it whole;
///  - an API page, a top-level object holding the records in one of `wrappers` ({"items": […]},
///    {"Bounces": […]}, {"results": […]}), split the same way without holding the page;
///  - a single pretty-printed object.
/// Calls `each(text, line, offset)` with the text of each record and where it starts. When
/// `tooLong` is given, a record longer than kMaxRecordBytes is not held whole: `tooLong(start,
/// line, offset, bytes)` gets its first 200 bytes and its size instead.
void forEachJsonRecord(std::istream& in,
                       const std::function<void(const std::string&, std::int64_t, std::int64_t)>& each,
                       const std::function<void(const std::string&, std::int64_t, std::int64_t, std::uint64_t)>& tooLong
                       = {});

/// Top-level keys whose array holds the records of an API page.
bool isWrapperKey(std::string_view key);

/// forEachJsonRecord plus parsing: a value that does not parse is rejected with the parser's
/// words; a record that is itself an array (a webhook batch saved per line) or an API page on
/// one line is opened up. `each(object, origin)` sees one JSON object per call. Returns early
/// when the sink is cancelled.
void forEachJsonObject(const std::string& path, Sink& sink,
                       const std::function<void(const json&, const Origin&)>& each);

/// A record's field by name (a JSON key or a CSV column, case-insensitive for CSV); empty when
/// absent. Lets one mapping serve a format's JSON and CSV exports.
using FieldGetter = std::function<std::string(const char*)>;

/// Streams a CSV export with a header row through CsvReader: a record the parser cannot close,
/// or whose field count differs from the header's, is rejected with the line and counts;
/// `each(get, origin)` sees the others.
/// `delimiter` 0 = detected; `onHeader` sees the header's names (lower case, trimmed) first.
void forEachCsvRecord(const std::string& path, Sink& sink,
                      const std::function<void(const FieldGetter&, const Origin&)>& each, char delimiter = 0,
                      const std::function<void(const std::vector<std::string>&)>& onHeader = {});

/// The first few records of a JSON export's head (for recognising the format); a record cut
/// off at the end of the head is left out.
std::vector<json> jsonHeadRecords(const std::string& head, std::size_t max);

// One entry point per format (the file is already recognised).
/// Reads a log line by line (LF, CRLF or CR-only line ends; gzip'd or not), with each line's 1-based number and byte
/// offset, reporting progress to the sink; `each` returns false to stop.
void forEachLogLine(const std::string& path, Sink& sink,
                    const std::function<bool(const std::string& line, std::int64_t lineNo, std::int64_t offset)>& each);

/// The shared end of a log importer's delivery line (Postfix, Exim): diagnose unless it is a
/// delivery (the reply quoted in `parsed`, else `inner` as a whole), record the origin, use the
/// line itself as the dedup key, and hand the event to the sink.
void emitLogLine(Sink& sink, Event&& e, const Reply& parsed, const std::string& inner, const std::string& path,
                 std::int64_t lineNo, std::int64_t lineOffset, const std::string& line);

/// An Event field a CSV may give (the names of CsvProfile::columns) and the columns that hold it
/// in a SendGrid suppression CSV.
struct CsvField {
    const char* field;
    std::vector<const char*> names; ///< exact header names read without a profile (SendGrid's)
    /// Header keywords for guessing a profile, most telling first: "=word" the whole header,
    /// "~word" one of its words (so "ip" does not hit "recipient"), anything else a substring.
    std::vector<const char*> guess;
    std::vector<const char*> exclude; ///< keywords (same syntax) that rule a header out
};
const std::vector<CsvField>& csvFields();

/// A CSV read by column names: a profile's, or SendGrid's suppression-list names when null.
void importCsv(const std::string& path, Sink& sink, const CsvProfile* profile, const std::string& source);
void importSendGridCsv(const std::string& path, Sink& sink);
void importSes(const std::string& path, Sink& sink);
void importSendGridEvents(const std::string& path, Sink& sink);
void importMailgun(const std::string& path, Sink& sink);
void importPostmarkJson(const std::string& path, Sink& sink);
void importPostmarkCsv(const std::string& path, Sink& sink);
void importSparkPostJson(const std::string& path, Sink& sink);
void importSparkPostCsv(const std::string& path, Sink& sink);
void importMandrill(const std::string& path, Sink& sink);
void importBrevo(const std::string& path, Sink& sink);
void importM365(const std::string& path, Sink& sink);
void importExim(const std::string& path, Sink& sink);

// ---- Bounce emails (email.cpp) and Postfix's log (postfix.cpp) ----------------------------------

/// The files of a folder, recursively, in name order.
std::vector<std::string> folderFiles(const std::string& path);
/// A file of a folder that is an input of its own (an export or a log recognised from its
/// content); e-mails and anything unrecognised stay with the folder's e-mail import.
bool ownInput(const std::string& file);
/// The folder's files the e-mail import reads: folderFiles() without the ownInput() ones.
std::vector<std::string> folderEmailFiles(const std::string& path);
/// The year of a syslog file's first line (syslog stamps have none), from the file's time and its
/// last stamp; `note` says what was assumed. nullopt when the file has no syslog stamp. Only the
/// lines from byte `start` to `end` (-1: the end) when given: a followed log's new part.
std::optional<int> inferSyslogYear(const std::string& path, std::string& note, std::int64_t start = 0,
                                   std::int64_t end = -1);
/// Postfix's smtp_bind_address per transport (syslog tag → IP) from main.cf and master.cf in
/// `dir`; `note` says what was read.
std::map<std::string, std::string> postfixBindAddresses(const std::string& dir, std::string& note);

// ---- The registry: one entry per format ----------------------------------------------------------

/// What format detection sees of a file: its first 64 KiB (a gzip'd file's decompressed).
struct Head {
    std::string text; ///< CR-only line ends made LF
    bool isJson = false; ///< starts with { or [: only JSON formats may claim it
    std::vector<json> records; ///< JSON: the first records (up to 8), broken ones left out
    /// Not JSON: the first row read as CSV (after PowerShell's #TYPE line), lower case and
    /// trimmed, when it has 2 fields or more.
    std::vector<std::string> header;
    bool hasColumn(std::string_view name) const
    {
        return std::find(header.begin(), header.end(), name) != header.end();
    }
};

/// What a run may need beyond the file and the sink.
struct RunContext {
    const Classifier& classifier;
    const CsvProfile* profile; ///< the "csv" format's columns
    int firstYear; ///< the year of a syslog file's first line
    const std::map<std::string, std::string>& bindAddresses; ///< Postfix: sending IP by syslog tag
    /// A folder's e-mail files to read instead of all of them (ImportOptions::files), or null.
    const std::vector<std::string>* files = nullptr;
};

/// One input format: its name (ImportResult::format, the workspace's imports.format), how sure
/// its content detector is that a file is of this format (0: not at all; the highest wins, the
/// first in the table on a tie), how it runs, and the file name endings it usually has (for file
/// dialogs only: detection never looks at the name).
struct Importer {
    std::string_view name;
    int (*detect)(const Head& head);
    void (*run)(const std::string& path, Sink& sink, const RunContext& context);
    std::vector<std::string_view> extensions;
};

/// Every format, in table order. Adding a format: its file (detector + run) and one line here.
int emailHead(const Head& h);
void runEmails(const std::string& path, Sink& sink, const RunContext& c);
int postfixHead(const Head& h);
void runPostfix(const std::string& path, Sink& sink, const RunContext& c);

const std::vector<Importer>& importers();
const Importer* importerNamed(std::string_view name);

/// The highest confidence `score` gives one of the head's JSON records (0 for a head that is not JSON).
int bestRecord(const Head& head, int (*score)(const json&));

// Detectors, beside their importers: a JSON record's score, or a whole head's.
int sparkPostRecord(const json& r);
int postmarkRecord(const json& r);
int mandrillRecord(const json& r);
int sendGridEventsRecord(const json& r);
int mailgunRecord(const json& r);
int brevoRecord(const json& r);
int sesHead(const Head& h);
int postmarkCsvHeader(const Head& h);
int sparkPostCsvHeader(const Head& h);
int m365CsvHeader(const Head& h);
int sendGridCsvHeader(const Head& h);
int eximHead(const Head& h);

// ---- DMARC aggregate reports (dmarc.cpp) ----------------------------------------------------------

/// True when the bytes start like a zip archive (a local file header).
bool isZipData(std::string_view bytes);
/// The first `n` bytes of the first file in a zip archive, decompressed; empty when it is no
/// readable zip. What format detection looks at for a .zip.
std::string zipFileHead(const std::string& path, std::size_t n);
int dmarcHead(const Head& h);
/// The DMARC aggregate reports a message carries as attachments, into the sink (each report's
/// rows, or a reject for an attachment that cannot be read); false when it carries none. The
/// bounce e-mail importer asks it about every message that is no bounce.
bool importReportMessage(Sink& sink, const SourceMessage& m);
void runDmarc(const std::string& path, Sink& sink, const RunContext& c);

} // namespace detail
} // namespace bt
