// SPDX-License-Identifier: MIT
// DMARC aggregate (rua) reports, RFC 7489 appendix C and DMARCbis: an XML file (gzip'd or not,
// read through the zlib input layer), a zip archive (libarchive), or the e-mails that carry them
// as attachments (one message, an mbox; a maildir's files each come here on their own). XML is
// read with libxml2's streaming reader (xmlTextReader): a report is never held as a tree, and a
// document that is not well-formed is refused with libxml2's words and line.
//
// Counting: a record is a report's row. A report that cannot be read at all (broken XML, not a
// <feedback> document, a required part missing, a message without a report) is one rejected
// record; a row without a source IP or a count is rejected alone and the report's other rows are
// stored; a report whose org name and report id are already stored is a duplicate, every row.
#include "../dmarc.h"

#include "../email.h"
#include "../mailsource.h"
#include "../text.h"
#include "input.h"
#include "internal.h"

#include <arpa/inet.h>
#include <libxml/xmlreader.h>

#include <archive.h>
#include <archive_entry.h>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <zlib.h>

namespace bt
{
namespace
{

using detail::Sink;

/// A rejected document keeps this much of itself as its raw record: enough to see what it is.
constexpr std::size_t kRawBytes = 4096;
/// An archive entry or attachment is read whole before parsing; past this it is refused rather
/// than filling the memory (a zip bomb; real reports are a few MB at most).
constexpr std::size_t kMaxDocumentBytes = 256u * 1024 * 1024;

void initLibxml()
{
    static std::once_flag once;
    // The parser's global tables, once, before threads use it (libxml2's own advice).
    std::call_once(once, [] { xmlInitParser(); });
}

std::string isoFromEpoch(std::string_view v, const std::string& what, const std::string& name)
{
    const auto t = text::trim(v);
    // Seconds since 1970; a few receivers write a fraction, which says nothing more.
    const auto dot = t.find('.');
    const auto whole = t.substr(0, dot);
    bool digits = !whole.empty() && whole.size() <= 12;
    for (char c : whole)
        digits = digits && text::isDigit(c);
    if (!digits)
        throw DmarcError(name + ": date_range " + what + " \"" + std::string(t)
                             + "\" is not a time (seconds since 1970, as RFC 7489 appendix C has it)",
                         0);
    return text::isoUtc(std::stoll(std::string(whole)));
}

bool isIpAddress(const std::string& s)
{
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

/// The streaming reader's state: the open elements, the text of the current one, and the report
/// being filled as elements end.
struct ReportBuilder {
    DmarcReport report;
    std::string name;
    std::vector<std::string> stack;
    std::string textBuf;
    bool haveMetadata = false, havePolicy = false;
    std::string reasonType, reasonComment;
    std::string rowCount; ///< as written, checked when the record ends

    std::string path() const
    {
        std::string p;
        for (std::size_t i = 1; i < stack.size(); ++i) {
            if (i > 1)
                p += '/';
            p += stack[i];
        }
        return p;
    }

    void start(const std::string& p, std::int64_t line)
    {
        if (p == "report_metadata")
            haveMetadata = true;
        else if (p == "policy_published")
            havePolicy = true;
        else if (p == "record") {
            report.rows.emplace_back();
            report.rows.back().line = line;
            rowCount.clear();
        } else if (!report.rows.empty() && (p == "record/auth_results/dkim" || p == "record/auth_results/spf")) {
            DmarcAuth a;
            a.method = p.substr(p.rfind('/') + 1);
            report.rows.back().auth.push_back(std::move(a));
        } else if (p == "record/row/policy_evaluated/reason") {
            reasonType.clear();
            reasonComment.clear();
        }
    }

    void end(const std::string& p, std::string v)
    {
        auto& r = report;
        // report_metadata
        if (p == "version")
            r.version = std::move(v);
        else if (p == "report_metadata/org_name")
            r.orgName = std::move(v);
        else if (p == "report_metadata/email")
            r.email = std::move(v);
        else if (p == "report_metadata/extra_contact_info")
            r.extraContactInfo = std::move(v);
        else if (p == "report_metadata/report_id")
            r.reportId = std::move(v);
        else if (p == "report_metadata/date_range/begin")
            r.begin = isoFromEpoch(v, "begin", name);
        else if (p == "report_metadata/date_range/end")
            r.end = isoFromEpoch(v, "end", name);
        // policy_published
        else if (p == "policy_published/domain")
            r.domain = text::toLower(v);
        else if (p == "policy_published/adkim")
            r.adkim = std::move(v);
        else if (p == "policy_published/aspf")
            r.aspf = std::move(v);
        else if (p == "policy_published/p")
            r.p = std::move(v);
        else if (p == "policy_published/sp")
            r.sp = std::move(v);
        else if (p == "policy_published/fo")
            r.fo = std::move(v);
        else if (p == "policy_published/np")
            r.np = std::move(v);
        else if (p == "policy_published/testing")
            r.testing = std::move(v);
        else if (p == "policy_published/discovery_method")
            r.discoveryMethod = std::move(v);
        else if (p == "policy_published/pct") {
            // Optional and gone in DMARCbis; a value that is no number is left out, not refused.
            if (!v.empty() && v.size() <= 3 && std::all_of(v.begin(), v.end(), text::isDigit))
                r.pct = std::stoi(v);
        } else if (!r.rows.empty() && (p == "record" || p.starts_with("record/"))) {
            endRecordPart(p, std::move(v));
        }
    }

    void endRecordPart(const std::string& p, std::string v)
    {
        auto& row = report.rows.back();
        if (p == "record/row/source_ip")
            row.sourceIp = std::move(v);
        else if (p == "record/row/count")
            rowCount = std::move(v);
        else if (p == "record/row/policy_evaluated/disposition")
            row.disposition = text::toLower(v);
        else if (p == "record/row/policy_evaluated/dkim")
            row.dkim = text::toLower(v);
        else if (p == "record/row/policy_evaluated/spf")
            row.spf = text::toLower(v);
        else if (p == "record/row/policy_evaluated/reason/type")
            reasonType = std::move(v);
        else if (p == "record/row/policy_evaluated/reason/comment")
            reasonComment = std::move(v);
        else if (p == "record/row/policy_evaluated/reason") {
            if (!row.reasons.empty())
                row.reasons += "; ";
            row.reasons += reasonType + (reasonComment.empty() ? "" : ": " + reasonComment);
        } else if (p == "record/identifiers/header_from")
            row.headerFrom = text::toLower(v);
        else if (p == "record/identifiers/envelope_from")
            row.envelopeFrom = text::toLower(v);
        else if (p == "record/identifiers/envelope_to")
            row.envelopeTo = text::toLower(v);
        else if (p == "record")
            finishRow(row);
        else if (!row.auth.empty()
                 && (p.starts_with("record/auth_results/dkim/") || p.starts_with("record/auth_results/spf/"))) {
            auto& a = row.auth.back();
            const auto field = p.substr(p.rfind('/') + 1);
            if (field == "domain")
                a.domain = text::toLower(v);
            else if (field == "selector")
                a.selector = std::move(v);
            else if (field == "scope")
                a.scope = text::toLower(v);
            else if (field == "result")
                a.result = text::toLower(v);
            else if (field == "human_result")
                a.humanResult = std::move(v);
        }
    }

    void finishRow(DmarcRow& row)
    {
        const std::string where = "record at line " + std::to_string(row.line);
        if (row.sourceIp.empty())
            row.problem = where + ": no <source_ip>";
        else if (!isIpAddress(row.sourceIp))
            row.problem = where + ": source_ip \"" + detail::shownBytes(row.sourceIp) + "\" is not an IP address";
        else if (rowCount.empty())
            row.problem = where + ": no <count>";
        else if (rowCount.size() > 12 || !std::all_of(rowCount.begin(), rowCount.end(), text::isDigit))
            row.problem = where + ": count \"" + detail::shownBytes(rowCount) + "\" is not a number of messages";
        else
            row.count = std::stoll(rowCount);
    }
};

struct ReaderError {
    std::string message;
    std::int64_t line = 0;
};

void onXmlError(void* arg, xmlErrorPtr error)
{
    auto* e = static_cast<ReaderError*>(arg);
    if (!error || error->level < XML_ERR_ERROR || !e->message.empty())
        return; // warnings say nothing about the data; the first error is the one that matters
    e->message = error->message ? std::string(text::trim(error->message)) : std::string("unknown error");
    e->line = error->line;
}

struct IoContext {
    const std::function<int(char*, int)>* read;
};

int ioRead(void* ctx, char* buffer, int len)
{
    return (*static_cast<IoContext*>(ctx)->read)(buffer, len);
}

int ioClose(void*)
{
    return 0;
}

/// Gunzips `bytes`: the whole of it, or with `limit` only that much (a head: data cut off after it
/// is no error then).
std::string gunzip(std::string_view bytes, const std::string& name, std::size_t limit = 0)
{
    z_stream zs {};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        throw DmarcError(name + ": zlib cannot start", 0);
    std::string out;
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    zs.avail_in = static_cast<uInt>(bytes.size());
    char buf[64 * 1024];
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
        if (limit && out.size() >= limit)
            break;
        if (out.size() > kMaxDocumentBytes) {
            inflateEnd(&zs);
            throw DmarcError(name + ": the gzip'd report holds more than "
                                 + std::to_string(kMaxDocumentBytes / (1024 * 1024))
                                 + " MB: left out unread (real reports are a few MB)",
                             0);
        }
        // Several members one after the other (cat a.gz b.gz): go on with the next.
        if (rc == Z_STREAM_END && zs.avail_in > 0) {
            inflateReset(&zs);
            rc = Z_OK;
        }
        if (rc == Z_BUF_ERROR && zs.avail_in == 0)
            break;
    }
    const std::string why = zs.msg ? zs.msg : rc == Z_BUF_ERROR ? "unexpected end of data" : "";
    inflateEnd(&zs);
    if (!limit && rc != Z_STREAM_END && rc != Z_OK)
        throw DmarcError(name + ": the gzip'd data cannot be read after " + std::to_string(out.size())
                             + " bytes (zlib: " + (why.empty() ? std::to_string(rc) : why) + ")",
                         0);
    return limit ? out.substr(0, limit) : out;
}

bool isGzipData(std::string_view b)
{
    return b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0x1f && static_cast<unsigned char>(b[1]) == 0x8b;
}

struct ArchiveFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

ArchivePtr newZipReader()
{
    ArchivePtr a(archive_read_new());
    archive_read_support_format_zip(a.get());
    return a;
}

/// Calls `each(entryName, bytes)` for every file in a zip (opened by `open`); throws DmarcError
/// naming `name` and libarchive's words when the archive cannot be read.
void forEachZipEntry(archive* a, const std::string& name, Sink* sink,
                     const std::function<void(const std::string&, std::string&&)>& each)
{
    archive_entry* entry = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(a, &entry);
        if (rc == ARCHIVE_EOF)
            return;
        if (rc < ARCHIVE_WARN)
            throw DmarcError(name + ": the zip archive cannot be read (libarchive: " + archive_error_string(a) + ")",
                             0);
        if (archive_entry_filetype(entry) != AE_IFREG)
            continue;
        const char* path = archive_entry_pathname(entry);
        const std::string entryName = name + ": " + (path ? path : "(no name)");
        std::string bytes;
        char buf[64 * 1024];
        for (;;) {
            const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n < 0)
                throw DmarcError(entryName + ": cannot be unpacked (libarchive: " + archive_error_string(a) + ")", 0);
            if (n == 0)
                break;
            bytes.append(buf, static_cast<std::size_t>(n));
            if (bytes.size() > kMaxDocumentBytes)
                throw DmarcError(entryName + ": holds more than " + std::to_string(kMaxDocumentBytes / (1024 * 1024))
                                     + " MB unpacked: left out unread (real reports are a few MB)",
                                 0);
        }
        each(entryName, std::move(bytes));
        if (sink && sink->cancelled())
            return;
    }
}

/// The start of what `bytes` hold once unpacked (a gzip'd or zipped report), for recognising it.
std::string unpackedHead(std::string_view bytes, std::size_t n)
{
    try {
        if (isGzipData(bytes))
            return gunzip(bytes, "", n);
        if (detail::isZipData(bytes)) {
            auto a = newZipReader();
            if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
                return {};
            archive_entry* entry = nullptr;
            while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
                if (archive_entry_filetype(entry) != AE_IFREG)
                    continue;
                std::string out(n, '\0');
                const la_ssize_t got = archive_read_data(a.get(), out.data(), n);
                out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
                return out;
            }
            return {};
        }
    } catch (const std::exception&) {
        return {};
    }
    return std::string(bytes.substr(0, n));
}

/// An attachment that may hold a report, by its type or its name (some receivers send
/// application/octet-stream named *.xml.gz).
bool reportCandidate(const Attachment& a)
{
    const auto& t = a.contentType;
    const std::string f = text::toLower(a.filename);
    const bool byType = t == "application/zip" || t == "application/x-zip" || t == "application/x-zip-compressed"
        || t == "application/gzip" || t == "application/x-gzip" || t == "application/xml" || t == "text/xml"
        || t == "application/octet-stream";
    const bool byName = f.ends_with(".xml") || f.ends_with(".gz") || f.ends_with(".zip");
    return (byType || byName) && !a.bytes.empty();
}

/// True when a message's head carries a DMARC aggregate report as an attachment.
bool carriesReport(std::string_view message)
{
    const std::string lower = text::toLower(message.substr(0, 64 * 1024));
    // Most e-mails have none of these types: they are not parsed a second time.
    static const char* types[]
        = {"application/zip",         "application/x-zip", "application/gzip", "application/x-gzip", "/xml",
           "application/octet-stream"};
    if (std::none_of(std::begin(types), std::end(types),
                     [&](const char* t) { return lower.find(t) != std::string::npos; }))
        return false;
    for (const auto& a : attachmentsOf(message))
        if (reportCandidate(a) && xmlRootElement(unpackedHead(a.bytes, 4096)) == "feedback")
            return true;
    return false;
}

std::string rawHead(std::string_view bytes)
{
    return std::string(bytes.substr(0, kRawBytes));
}

/// One document's report into the sink: its rows, or one reject saying why it cannot be read.
void emitDocument(Sink& sink, const std::function<int(char*, int)>& read, const std::string& name,
                  const std::function<std::string()>& raw)
{
    DmarcReport report;
    try {
        report = parseDmarcReport(read, name);
    } catch (const DmarcError& e) {
        sink.reject({name, e.line(), -1, e.what(), raw()});
        return;
    } catch (const std::runtime_error& e) {
        // The input layer's own failure (damaged gzip data): the document cannot be read.
        sink.reject({name, 0, -1, e.what(), raw()});
        return;
    }
    for (const auto& row : report.rows)
        if (!row.problem.empty())
            sink.reject(
                {name, row.line, -1, name + ": " + row.problem,
                 "source_ip=" + row.sourceIp + "; disposition=" + row.disposition + "; header_from=" + row.headerFrom});
    sink.report(std::move(report));
}

/// A document held in memory: XML, or a gzip'd or zipped one (an attachment, an archive entry).
void emitBytes(Sink& sink, std::string&& bytes, const std::string& name, int depth = 0)
{
    if (isGzipData(bytes) || detail::isZipData(bytes)) {
        if (depth > 1) {
            sink.reject({name, 0, -1, name + ": an archive inside an archive inside an archive: left out unread",
                         std::string()});
            return;
        }
        try {
            if (isGzipData(bytes)) {
                emitBytes(sink, gunzip(bytes, name), name, depth + 1);
            } else {
                auto a = newZipReader();
                if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
                    throw DmarcError(
                        name + ": the zip archive cannot be read (libarchive: " + archive_error_string(a.get()) + ")",
                        0);
                forEachZipEntry(a.get(), name, &sink, [&](const std::string& entry, std::string&& content) {
                    emitBytes(sink, std::move(content), entry, depth + 1);
                });
            }
        } catch (const DmarcError& e) {
            sink.reject({name, 0, -1, e.what(), std::string()});
        }
        return;
    }
    if (xmlRootElement(std::string_view(bytes).substr(0, 4096)).empty()) {
        sink.reject({name, 0, -1,
                     name + ": not an XML document: a DMARC aggregate report is XML (<feedback>), zip'd or gzip'd",
                     rawHead(bytes)});
        return;
    }
    std::size_t pos = 0;
    const std::function<int(char*, int)> read = [&](char* buf, int len) {
        const std::size_t n = std::min(static_cast<std::size_t>(len), bytes.size() - pos);
        std::memcpy(buf, bytes.data() + pos, n);
        pos += n;
        return static_cast<int>(n);
    };
    emitDocument(sink, read, name, [&] { return rawHead(bytes); });
}

void importXmlFile(const std::string& path, Sink& sink, std::uint64_t total)
{
    detail::InputFile in(path);
    const std::function<int(char*, int)> read = [&](char* buf, int len) {
        in.read(buf, len);
        const auto n = static_cast<int>(in.gcount());
        sink.setProgress(in.consumed(), total);
        return n;
    };
    emitDocument(sink, read, path, [&] { return detail::readHead(path, kRawBytes); });
}

void importZipFile(const std::string& path, Sink& sink, std::uint64_t total)
{
    auto a = newZipReader();
    try {
        if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK)
            throw DmarcError(
                path + ": the zip archive cannot be read (libarchive: " + archive_error_string(a.get()) + ")", 0);
        forEachZipEntry(a.get(), path, &sink, [&](const std::string& entry, std::string&& content) {
            sink.setProgress(static_cast<std::uint64_t>(archive_filter_bytes(a.get(), -1)), total);
            emitBytes(sink, std::move(content), entry, 1);
        });
    } catch (const DmarcError& e) {
        sink.reject({path, 0, -1, e.what(), std::string()});
    }
}

/// A message as a reject names it: the file, and its place in an mbox.
std::string messageName(const SourceMessage& m)
{
    const bool mbox = m.index > 0 || m.bytes.starts_with("From ");
    return mbox ? m.path + " (message " + std::to_string(m.index + 1) + ")" : m.path;
}

void importMessages(const std::string& path, Sink& sink, std::uint64_t total)
{
    forEachMessage(
        path,
        [&](SourceMessage&& m) {
            sink.setProgress(m.offset, total);
            if (!detail::importReportMessage(sink, m))
                sink.reject({m.path, 0, static_cast<std::int64_t>(m.offset),
                             messageName(m)
                                 + ": the message carries no DMARC aggregate report (no XML, zip or gzip attachment "
                                   "holding one)",
                             rawHead(m.bytes)});
            return !sink.cancelled();
        },
        [&](const std::string& file, const std::string& error) {
            sink.reject({file, 0, -1, file + ": " + error, std::string()});
        });
}

} // namespace

std::string xmlRootElement(std::string_view head)
{
    std::size_t i = 0;
    if (head.starts_with("\xEF\xBB\xBF"))
        i = 3;
    for (;;) {
        while (i < head.size() && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
            ++i;
        if (i >= head.size() || head[i] != '<')
            return {};
        const auto rest = head.substr(i);
        // A declaration, a processing instruction, a comment or a DOCTYPE before the root: skipped.
        std::string_view closer;
        if (rest.starts_with("<?"))
            closer = "?>";
        else if (rest.starts_with("<!--"))
            closer = "-->";
        else if (rest.starts_with("<!"))
            closer = ">";
        else
            break;
        const auto close = rest.find(closer, 2);
        if (close == std::string_view::npos)
            return {};
        i += close + closer.size();
    }
    std::size_t end = i + 1;
    while (end < head.size() && head[end] != '>' && head[end] != '/' && head[end] != ' ' && head[end] != '\t'
           && head[end] != '\r' && head[end] != '\n')
        ++end;
    std::string name(head.substr(i + 1, end - i - 1));
    if (name.empty() || !(text::isAlpha(name[0]) || name[0] == '_'))
        return {};
    if (const auto colon = name.find(':'); colon != std::string::npos)
        name.erase(0, colon + 1);
    return name;
}

DmarcReport parseDmarcReport(const std::function<int(char*, int)>& read, const std::string& name)
{
    initLibxml();
    IoContext io {&read};
    // No network, no DTD loaded, no entities substituted: a report is plain data, and a
    // document from a stranger must not make the parser fetch or expand anything.
    xmlTextReaderPtr reader = xmlReaderForIO(ioRead, ioClose, &io, name.c_str(), nullptr, XML_PARSE_NONET);
    if (!reader)
        throw DmarcError(name + ": libxml2 cannot start reading it", 0);
    const std::unique_ptr<xmlTextReader, void (*)(xmlTextReaderPtr)> guard(reader, xmlFreeTextReader);
    ReaderError error;
    xmlTextReaderSetStructuredErrorHandler(reader, onXmlError, &error);
    ReportBuilder b;
    b.name = name;
    b.report.sourceFile = name;
    int rc = 0;
    while ((rc = xmlTextReaderRead(reader)) == 1) {
        switch (xmlTextReaderNodeType(reader)) {
        case XML_READER_TYPE_ELEMENT: {
            const auto* local = reinterpret_cast<const char*>(xmlTextReaderConstLocalName(reader));
            std::string elementName = local ? local : "";
            if (b.stack.empty() && elementName != "feedback")
                throw DmarcError(name + ": not a DMARC aggregate report: its root element is <" + elementName
                                     + ">, a report's is <feedback> (RFC 7489 appendix C)",
                                 xmlTextReaderGetParserLineNumber(reader));
            const bool empty = xmlTextReaderIsEmptyElement(reader) == 1;
            b.stack.push_back(std::move(elementName));
            b.textBuf.clear();
            const std::string p = b.path();
            // The node's own line: the parser's position may already be further on.
            const xmlNodePtr node = xmlTextReaderCurrentNode(reader);
            b.start(p, node ? xmlGetLineNo(node) : xmlTextReaderGetParserLineNumber(reader));
            if (empty) {
                b.end(p, {});
                b.stack.pop_back();
            }
            break;
        }
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA:
            if (const auto* v = reinterpret_cast<const char*>(xmlTextReaderConstValue(reader)))
                b.textBuf += v;
            break;
        case XML_READER_TYPE_END_ELEMENT:
            if (!b.stack.empty()) {
                b.end(b.path(), std::string(text::trim(b.textBuf)));
                b.stack.pop_back();
            }
            b.textBuf.clear();
            break;
        default:
            break;
        }
    }
    if (rc < 0 || !error.message.empty()) {
        const std::int64_t line = error.line;
        throw DmarcError(name + (line > 0 ? ": line " + std::to_string(line) : std::string())
                             + ": not well-formed XML ("
                             + (error.message.empty() ? std::string("libxml2 stopped reading") : error.message) + ")",
                         line);
    }
    auto& r = b.report;
    const auto missing = [&](const std::string& what) {
        throw DmarcError(name + ": not a complete DMARC aggregate report: " + what, 0);
    };
    if (!b.haveMetadata)
        missing("no <report_metadata>");
    if (!b.havePolicy)
        missing("no <policy_published>");
    if (r.orgName.empty())
        missing("<report_metadata> has no <org_name>");
    if (r.reportId.empty())
        missing("<report_metadata> has no <report_id>");
    if (r.begin.empty() || r.end.empty())
        missing("<report_metadata> has no <date_range> with <begin> and <end>");
    if (r.domain.empty())
        missing("<policy_published> has no <domain>");
    if (r.rows.empty())
        missing("no <record>");
    return std::move(r);
}

DmarcReport parseDmarcReport(std::string_view xml, const std::string& name)
{
    std::size_t pos = 0;
    const std::function<int(char*, int)> read = [&](char* buf, int len) {
        const std::size_t n = std::min(static_cast<std::size_t>(len), xml.size() - pos);
        std::memcpy(buf, xml.data() + pos, n);
        pos += n;
        return static_cast<int>(n);
    };
    return parseDmarcReport(read, name);
}

namespace detail
{

bool isZipData(std::string_view b)
{
    return b.size() >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == '\x03' && b[3] == '\x04';
}

std::string zipFileHead(const std::string& path, std::size_t n)
{
    auto a = newZipReader();
    if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK)
        return {};
    archive_entry* entry = nullptr;
    while (archive_read_next_header(a.get(), &entry) == ARCHIVE_OK) {
        if (archive_entry_filetype(entry) != AE_IFREG)
            continue;
        std::string out;
        char buf[16 * 1024];
        while (out.size() < n) {
            const la_ssize_t got = archive_read_data(a.get(), buf, sizeof buf);
            if (got <= 0)
                break;
            out.append(buf, static_cast<std::size_t>(got));
        }
        // A zipped .xml.gz: what it holds.
        return unpackedHead(out, n);
    }
    return {};
}

int dmarcHead(const Head& h)
{
    const std::string root = xmlRootElement(h.text);
    if (root == "feedback")
        return 100;
    // Any other XML is ours too, with a low confidence: no other importer reads XML, and this one
    // rejects it saying what it is ("its root element is <x>") instead of "format not recognised".
    if (!root.empty())
        return 5;
    // One e-mail whose attachment is a report: surer than the bounce reader's 100. An mbox stays
    // the bounce reader's whatever its first message is: it reads the reports it meets as this
    // importer does (importReportMessage), so a mailbox of bounces and reports is read whole.
    if (emailHead(h) > 0 && !h.text.starts_with("From ") && carriesReport(h.text))
        return 110;
    return 0;
}

bool importReportMessage(Sink& sink, const SourceMessage& m)
{
    bool any = false;
    int n = 0;
    for (auto& a : attachmentsOf(m.bytes)) {
        ++n;
        if (!reportCandidate(a))
            continue;
        // A report, or a zip or gzip that cannot even be opened (it is rejected saying why); not a
        // PDF, an image, a signature or some other XML beside it.
        const std::string head = unpackedHead(a.bytes, 4096);
        const bool damaged = head.empty() && (isGzipData(a.bytes) || isZipData(a.bytes));
        if (!damaged && xmlRootElement(head) != "feedback")
            continue;
        any = true;
        std::string name = messageName(m) + ": attachment ";
        if (a.filename.empty())
            name += "number " + std::to_string(n);
        else
            name += a.filename;
        emitBytes(sink, std::move(a.bytes), name);
    }
    return any;
}

void runDmarc(const std::string& path, Sink& sink, const RunContext&)
{
    std::error_code ec;
    const auto total = static_cast<std::uint64_t>(std::filesystem::file_size(path, ec));
    const std::string head = readHead(path, 4096);
    if (isZipData(head))
        importZipFile(path, sink, total);
    else if (!xmlRootElement(head).empty())
        importXmlFile(path, sink, total);
    else
        importMessages(path, sink, total);
}

} // namespace detail
} // namespace bt
