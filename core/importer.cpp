// SPDX-License-Identifier: MIT
// One way in per input format. Every reader turns its records into Events (or Rejects with
// the reason) and hands them to the Sink, which batches, deduplicates and counts.
#include "importer.h"

#include "classifier.h"
#include "csvreader.h"
#include "importers/input.h"
#include "importers/internal.h"
#include "mailsource.h"
#include "sqlite.h"
#include "text.h"
#include "textsafety.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace bt
{
namespace
{

using namespace detail;

/// Any CSV: imported only through a column profile.
int anyCsvHeader(const Head& h)
{
    return h.header.size() >= 2 ? 1 : 0;
}

} // namespace

namespace detail
{

int bestRecord(const Head& head, int (*score)(const json&))
{
    int best = 0;
    for (const auto& r : head.records)
        best = std::max(best, score(r));
    return best;
}

/// A JSON format's detector: the best score its records get.
template<int (*Score)(const json&)> int byRecord(const Head& h)
{
    return bestRecord(h, Score);
}

/// The run of an importer that needs nothing but the file and the sink.
template<void (*Import)(const std::string&, Sink&)> void plain(const std::string& path, Sink& sink, const RunContext&)
{
    Import(path, sink);
}

void runProfile(const std::string& path, Sink& sink, const RunContext& c)
{
    importCsv(path, sink, c.profile, c.profile ? c.profile->name : std::string(format::csv));
}

const std::vector<Importer>& importers()
{
    // clang-format off
    static const std::vector<Importer> table = {
        {format::email,          emailHead,                      runEmails,                   {".eml", ".mbox"}},
        {format::sendgridEvents, byRecord<sendGridEventsRecord>, plain<importSendGridEvents>, {".json", ".jsonl"}},
        {format::mailgun,        byRecord<mailgunRecord>,        plain<importMailgun>,        {".json", ".jsonl"}},
        {format::postmarkJson,   byRecord<postmarkRecord>,       plain<importPostmarkJson>,   {".json", ".jsonl"}},
        {format::sparkpostJson,  byRecord<sparkPostRecord>,      plain<importSparkPostJson>,  {".json", ".jsonl"}},
        {format::mandrill,       byRecord<mandrillRecord>,       plain<importMandrill>,       {".json"}},
        {format::brevo,          byRecord<brevoRecord>,          plain<importBrevo>,          {".json", ".jsonl"}},
        {format::ses,            sesHead,                        plain<importSes>,            {".json", ".jsonl"}},
        {format::postmarkCsv,    postmarkCsvHeader,              plain<importPostmarkCsv>,    {".csv"}},
        {format::sparkpostCsv,   sparkPostCsvHeader,             plain<importSparkPostCsv>,   {".csv"}},
        {format::m365,           m365CsvHeader,                  plain<importM365>,           {".csv"}},
        {format::sendgridCsv,    sendGridCsvHeader,              plain<importSendGridCsv>,    {".csv"}},
        {format::postfix,        postfixHead,                    runPostfix,                  {".log", ".gz"}},
        {format::exim,           eximHead,                       plain<importExim>,           {".log", "mainlog", ".gz"}},
        {format::dmarc,          dmarcHead,                      runDmarc,                    {".xml", ".xml.gz", ".zip", ".eml", ".mbox"}},
        {format::csv,            anyCsvHeader,                   runProfile,                  {".csv", ".tsv", ".txt"}},
    };
    // clang-format on
    return table;
}

const Importer* importerNamed(std::string_view name)
{
    for (const auto& i : importers())
        if (i.name == name)
            return &i;
    return nullptr;
}

} // namespace detail

CsvProfile CsvProfile::load(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error(path + ": cannot be read");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception& e) { // parse_error, and out_of_range for a number too big for a double
        throw std::runtime_error(path + ": not valid JSON: " + e.what());
    }
    // Every other shape is refused naming the file and the field: json::value() would throw the
    // library's own type_error ("cannot use value() with string"), which names neither.
    if (!j.is_object())
        throw std::runtime_error(path + ": not a JSON object");
    auto text = [&](const char* key) {
        if (!j.contains(key))
            return std::string();
        if (!j[key].is_string())
            throw std::runtime_error(path + ": \"" + key + "\" must be a string");
        return j[key].get<std::string>();
    };
    CsvProfile p;
    p.name = text("name");
    if (p.name.empty())
        p.name = std::filesystem::path(path).stem().string();
    const std::string delim = text("delimiter");
    p.delimiter = delim == "\\t" || delim == "tab" ? '\t' : delim.empty() ? 0 : delim.front();
    if (!j.contains("columns") || !j["columns"].is_object())
        throw std::runtime_error(path + ": missing object \"columns\"");
    for (const auto& item : j["columns"].items()) {
        // Named, not a structured binding: clang 14 (the fuzz preset) cannot capture one in a lambda.
        const std::string& k = item.key();
        const auto& v = item.value();
        if (std::none_of(csvFields().begin(), csvFields().end(), [&](const CsvField& f) { return k == f.field; }))
            throw std::runtime_error(path + ": columns: unknown field \"" + k + "\"");
        if (!v.is_string())
            throw std::runtime_error(path + ": columns: \"" + k + "\" must name a column");
        p.columns[k] = v.get<std::string>();
    }
    if (!p.columns.count("recipient"))
        throw std::runtime_error(path + ": columns: \"recipient\" is required");
    return p;
}

std::string detectFormat(const std::string& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        return std::string(format::email);
    // The content decides, a gzip'd file's decompressed content; a CR-only file's lines are
    // looked at as lines.
    Head head;
    head.text = readHead(path, 64 * 1024);
    // A zip archive (a DMARC aggregate report as Google sends it) is judged by its first file.
    if (isZipData(head.text))
        head.text = zipFileHead(path, 64 * 1024);
    if (head.text.find('\n') == std::string::npos)
        std::replace(head.text.begin(), head.text.end(), '\r', '\n');
    const auto t = text::trim(head.text);
    if (t.empty())
        return "";
    head.isJson = t.front() == '{' || t.front() == '[';
    if (head.isJson) {
        // The keys of the first records; a broken first record (a truncated line) gives way to
        // the next ones.
        head.records = jsonHeadRecords(head.text, 8);
    } else {
        auto firstLine = head.text.substr(0, head.text.find('\n'));
        // PowerShell's Export-Csv type line comes before the header (CsvReader skips it too).
        if (firstLine.starts_with("#TYPE ") && firstLine.size() < head.text.size()) {
            const auto next = head.text.substr(firstLine.size() + 1);
            firstLine = next.substr(0, next.find('\n'));
        }
        std::istringstream in(firstLine);
        CsvReader r(in, detectDelimiter(firstLine));
        CsvRow row;
        std::string err;
        if (r.next(row, err) && row.fields.size() >= 2)
            for (auto& f : row.fields)
                head.header.push_back(text::toLower(std::string(text::trim(f))));
    }
    const Importer* best = nullptr;
    int bestConfidence = 0;
    for (const auto& i : importers())
        if (const int c = i.detect(head); c > bestConfidence) {
            best = &i;
            bestConfidence = c;
        }
    return best ? std::string(best->name) : std::string();
}

namespace
{

/// Why storing failed, said for a person: a full disk as "disk full", with what stays.
/// `committed`: null when the import could not even begin.
std::string storeFailure(const std::exception_ptr& e, const ImportCounts* committed, bool recorded = true)
{
    std::string what;
    bool full = false;
    try {
        std::rethrow_exception(e);
    } catch (const sql::Error& x) {
        what = x.what();
        full = x.diskFull();
    } catch (const std::exception& x) {
        what = x.what();
    } catch (...) {
        what = "unknown error";
    }
    if (!full)
        return what;
    if (!committed)
        return "disk full: the workspace's disk has no room left (SQLite: " + what + "); nothing was imported";
    return "disk full: the workspace's disk has no room left (SQLite: " + what + "); the import stopped"
        + (recorded ? std::string(" and is recorded as failed with what was committed before")
                    : std::string(" and its record keeps what was committed before (no room to mark it failed)"))
        + ": read " + std::to_string(committed->read) + ", imported " + std::to_string(committed->imported)
        + ", rejected " + std::to_string(committed->rejected) + ", duplicate " + std::to_string(committed->duplicate)
        + ". Free some space and import the file again to complete it";
}

/// Why an import's events have no sending IP, for its note.
std::string noSendingIp(const std::string& name, bool postfixConfig)
{
    if (name == format::ses)
        return "SES does not report which of its addresses sent the mail (mail.sourceIp is the address that called "
               "the SES API, not a sending IP): sending IP unknown";
    if (name == format::postfix && !postfixConfig)
        return "Postfix does not log the address it sends from: sending IP unknown (--postfix-config /etc/postfix "
               "reads its smtp_bind_address)";
    if (name == format::exim)
        return "no line gives the interface it sent from (I=[…], logged with log_selector = +outgoing_interface): "
               "sending IP unknown";
    if (name == format::email)
        return "bounce e-mails do not say which address sent the original: sending IP unknown";
    return "no record gives a sending IP: sending IP unknown";
}

/// Releases the workspace's import lock however importPath() leaves.
struct ImportLockGuard {
    Workspace& ws;
    ~ImportLockGuard() { ws.unlockImports(); }
};

} // namespace

std::vector<std::string> importInputs(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec))
        return {path};
    std::vector<std::string> own;
    bool emails = false;
    for (const auto& f : folderFiles(path)) {
        if (ownInput(f))
            own.push_back(f);
        else
            emails = true;
    }
    std::vector<std::string> out;
    if (emails || own.empty())
        out.push_back(path);
    out.insert(out.end(), own.begin(), own.end());
    return out;
}

namespace
{

/// Moves the start of `range` back by up to `bytes` to the start of a line, with its line
/// number: the lines before a followed log's new part that give it context.
void contextStart(const std::string& path, Sink::LogRange& range, std::int64_t bytes)
{
    const std::int64_t at = std::max<std::int64_t>(0, range.from - bytes);
    InputFile in(path);
    if (at > 0 && !in.seekg(at))
        throw std::runtime_error(path + ": cannot go to byte " + std::to_string(at) + " of the log");
    std::string block(static_cast<std::size_t>(range.from - at), '\0');
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    if (in.gcount() != static_cast<std::streamsize>(block.size()))
        throw std::runtime_error(path + ": the log is shorter than where reading stopped before (byte "
                                 + std::to_string(range.from) + ")");
    // From byte 0 every line is whole; further in, the block may start mid-line.
    std::size_t first = 0;
    if (at > 0) {
        first = block.find('\n');
        if (first == std::string::npos)
            return; // one line longer than the context: no context
        ++first;
    }
    range.start = at + static_cast<std::int64_t>(first);
    range.startLine
        -= static_cast<std::int64_t>(std::count(block.begin() + static_cast<std::ptrdiff_t>(first), block.end(), '\n'));
}

} // namespace

ImportResult importPath(Workspace& ws, const std::string& path, const Classifier& classifier, ImportObserver* observer,
                        const CsvProfile* profile, const ImportOptions& options)
{
    ImportResult result;
    result.file = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        result.error = path + ": no such file or folder";
        return result;
    }
    const bool folder = std::filesystem::is_directory(path, ec);
    if (!folder) {
        // A binary file is said to be one, not "a CSV whose columns no importer knows". A gzip'd
        // file is judged by what it holds.
        if (!std::ifstream(path, std::ios::binary)) {
            result.error = path + ": cannot be read";
            return result;
        }
        const std::string head = readHead(path, 8 * 1024);
        // A zip archive is binary by nature: what it holds decides (detectFormat looks inside).
        if (const std::string why = isZipData(head) ? std::string() : binaryReason(head); !why.empty()) {
            result.error = path + ": not a text file: " + why;
            return result;
        }
        if (text::trim(head).empty()) {
            result.error = path + ": is empty, nothing to import";
            result.empty = true;
            return result;
        }
    }
    result.format = profile       ? std::string(format::csv) + ":" + profile->name
        : !options.format.empty() ? options.format
                                  : detectFormat(path);
    if (!options.format.empty() && !profile && !importerNamed(options.format)) {
        result.error = path + ": \"" + options.format + "\" is not a format this program imports";
        return result;
    }
    if (result.format.empty()) {
        result.error = path
            + ": format not recognised (an e-mail, mbox or maildir; a SendGrid, Mailgun, Postmark, "
              "SparkPost, Mandrill, Brevo, SES or Microsoft 365 export; a Postfix or Exim log; a DMARC "
              "aggregate report, as XML, gzip'd, zipped or attached to e-mails) — for another CSV, give a "
              "column profile with --profile";
        return result;
    }
    if (result.format == format::csv) {
        result.error = path + ": a CSV whose columns no importer knows: map them once with --profile FILE";
        return result;
    }
    if (result.format == format::email && !folder && isGzip(path)) {
        result.error = path
            + ": a gzip'd e-mail or mbox file: decompress it first (gunzip); logs and exports are "
              "read compressed, e-mails are not";
        return result;
    }
    // Size and sha256 of the content: a folder's is that of its files in name order.
    std::int64_t size = 0;
    std::string sha;
    // A followed log's new part, and where the lines that give it context start.
    Sink::LogRange range;
    const bool ranged = options.fromOffset > 0 || options.toOffset >= 0;
    if (ranged) {
        range.from = range.start = options.fromOffset;
        range.startLine = options.fromLine;
        range.to = options.toOffset;
        if (options.contextBytes > 0 && options.fromOffset > 0)
            try {
                contextStart(path, range, options.contextBytes);
            } catch (const std::exception& e) {
                result.error = e.what();
                return result;
            }
    }
    if (options.files) {
        // A watched folder's new files: the import is of them, named by the folder.
        std::string all;
        for (const auto& f : *options.files) {
            size += static_cast<std::int64_t>(std::filesystem::file_size(f, ec));
            all += f + '\x1f' + fileSha256(f) + '\n';
        }
        sha = sha1(all);
    } else if (ranged) {
        // Not the whole file's digest (a growing log read each minute): the part's place.
        std::error_code sizeEc;
        const auto whole = static_cast<std::int64_t>(std::filesystem::file_size(path, sizeEc));
        size = (range.to < 0 ? whole : range.to) - range.from;
        sha = sha1(path + '\x1f' + std::to_string(range.from) + '\x1f' + std::to_string(range.to) + '\x1f'
                   + std::to_string(range.startLine));
    } else if (folder) {
        std::string all;
        for (const auto& f : folderEmailFiles(path)) {
            size += static_cast<std::int64_t>(std::filesystem::file_size(f, ec));
            all += f + '\x1f' + fileSha256(f) + '\n';
        }
        sha = sha1(all);
    } else {
        size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
        sha = fileSha256(path);
    }
    // Syslog lines carry no year: the first line's, given or inferred (a pass over the file).
    int firstYear = 0;
    if (result.format == format::postfix) {
        if (options.year) {
            firstYear = *options.year;
        } else {
            try {
                const auto inferred = ranged ? inferSyslogYear(path, result.note, range.start, range.to)
                                             : inferSyslogYear(path, result.note);
                firstYear = inferred ? *inferred : 1970;
            } catch (const std::exception& e) {
                result.error = e.what(); // damaged gzip data
                return result;
            }
        }
    }
    std::map<std::string, std::string> bindAddresses;
    std::string bindNote;
    if (result.format == "postfix_log" && !options.postfixConfig.empty()) {
        try {
            bindAddresses = postfixBindAddresses(options.postfixConfig, bindNote);
        } catch (const std::exception& e) {
            result.error = e.what();
            return result;
        }
    }
    // One import at a time per workspace, whichever process runs it: wait for the one running,
    // as long as the observer does not cancel.
    if (std::string holder; !ws.tryLockImports(path, holder)) {
        if (observer)
            observer->waiting(holder);
        for (;;) {
            if (observer && observer->cancelled()) {
                result.cancelled = true;
                result.error = path + ": not imported: cancelled while waiting for another import into the workspace ("
                    + holder + ")";
                return result;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            if (ws.tryLockImports(path, holder))
                break;
        }
    }
    const ImportLockGuard unlock {ws};
    bool bulk = false;
    try {
        result.importId = ws.beginImport(path, size, sha, result.format);
        // A big file: indexes built once at the end instead of row by row (see Workspace); a
        // gzip'd file's rows are counted from what it holds.
        // What this import brings: a followed log's new part or a folder's new files, not the
        // whole file (a look at a growing log would otherwise rebuild every index each time).
        bulk
            = ws.beginBulkLoad(folder || ranged || options.files ? size : static_cast<std::int64_t>(contentSize(path)));
    } catch (const std::exception&) {
        result.error = path + ": " + storeFailure(std::current_exception(), nullptr);
        return result;
    }
    std::optional<Sink> sinkHolder;
    try {
        sinkHolder.emplace(ws, result.importId, classifier, observer, bulk);
    } catch (const std::exception&) {
        result.error = path + ": " + storeFailure(std::current_exception(), nullptr);
        try {
            // Nothing was added: the dropped indexes come back now, not at the next open.
            if (bulk)
                ws.endBulkLoad();
            ws.finishImport(result.importId, {}, "failed");
        } catch (const std::exception&) {
            // Left `running` with nothing committed: the next import of the file replaces it.
        }
        return result;
    }
    Sink& sink = *sinkHolder;
    sink.setLogRange(range);
    std::string readError;
    try {
        const RunContext context {classifier, profile, firstYear, bindAddresses,
                                  options.files ? &*options.files : nullptr};
        importerNamed(profile ? format::csv : std::string_view(result.format))->run(path, sink, context);
    } catch (const std::exception& e) {
        // The writer's failure comes back here too; finish() tells which it was.
        readError = e.what();
    }
    result.cancelled = readError.empty() && sink.cancelled();
    result.counts = sink.finish(!readError.empty() ? "failed" : result.cancelled ? "cancelled" : "done", bulk);
    result.skipped = sink.skipped();
    if (const auto failure = sink.failure()) {
        result.error = path + ": " + storeFailure(failure, &result.counts, sink.recorded());
        result.cancelled = false;
        return result;
    }
    if (!readError.empty()) {
        result.error = readError.rfind(path, 0) == 0 ? readError : path + ": " + readError;
        return result;
    }
    // Where the sending IP comes from, or that nothing gave it (groups say "sending IP unknown").
    auto addNote = [&](const std::string& n) {
        if (!n.empty())
            result.note += (result.note.empty() ? "" : "; ") + n;
    };
    addNote(bindNote);
    // DMARC reports are no events: a sending IP is what every row of theirs names.
    if (result.counts.imported > 0 && result.format != format::dmarc) {
        try {
            auto st = ws.db().prepare("SELECT EXISTS (SELECT 1 FROM events WHERE import_id = ? AND sending_ip IS NOT "
                                      "NULL AND sending_ip <> '')");
            st.bind(1, result.importId);
            if (st.step() && st.int64(0) == 0)
                addNote(noSendingIp(result.format, !options.postfixConfig.empty()));
        } catch (const sql::Error&) {
            // Only a note.
        }
    }
    if (observer)
        observer->progress(static_cast<std::uint64_t>(size), static_cast<std::uint64_t>(size));
    return result;
}

} // namespace bt
