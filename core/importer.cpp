// SPDX-License-Identifier: MIT
// One way in per input format. Every reader turns its records into Events (or Rejects with
// the reason) and hands them to the Sink, which batches, deduplicates and counts.
#include "importer.h"

#include "bounce.h"
#include "classifier.h"
#include "csvreader.h"
#include "email.h"
#include "formats/formats.h"
#include "importers/input.h"
#include "importers/internal.h"
#include "mailsource.h"
#include "replyparser.h"
#include "replytemplate.h"
#include "text.h"
#include "textsafety.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <glib.h>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace bt
{
namespace
{

using namespace detail;

std::string eventTypeOfKind(const std::string& kind)
{
    if (kind == "delayed")
        return "deferral";
    if (kind == "feedback")
        return "complaint";
    return kind; // bounce, delivered, auto_reply
}

// ---- bounce emails -------------------------------------------------------------------------

void importEmailFile(const std::string& path, Sink& sink, const BounceReader& reader, std::uint64_t& done,
                     std::uint64_t total);

/// The files of a folder, recursively, in name order.
std::vector<std::string> folderFiles(const std::string& path)
{
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(
             path, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec))
            files.push_back(it->path().string());
    std::sort(files.begin(), files.end());
    return files;
}

/// A file of a folder that is an input of its own: an export or a log recognised from its
/// content. E-mails stay with the folder (a maildir is one import), and so does anything not
/// recognised, or a CSV no importer knows (a message whose first header is "Content-Type: a; b"
/// reads as one), which the e-mail reader then rejects with its reason, as before.
bool ownInput(const std::string& file)
{
    const std::string f = detectFormat(file);
    return !f.empty() && f != format::email && f != format::csv;
}

std::vector<std::string> folderEmailFiles(const std::string& path)
{
    auto files = folderFiles(path);
    std::erase_if(files, ownInput);
    return files;
}

void importEmails(const std::string& path, Sink& sink, const Classifier& classifier)
{
    const BounceReader reader(std::shared_ptr<const Classifier>(&classifier, [](const Classifier*) {}));
    std::uint64_t done = 0, total = 0;
    std::error_code ec;
    const bool folder = std::filesystem::is_directory(path, ec);
    if (!folder)
        total = std::filesystem::file_size(path, ec);
    // A folder's exports and logs are imported on their own (importInputs): its e-mails here.
    for (const auto& file : folder ? folderEmailFiles(path) : std::vector<std::string> {path}) {
        if (sink.cancelled())
            return;
        importEmailFile(file, sink, reader, done, total);
    }
}

void importEmailFile(const std::string& path, Sink& sink, const BounceReader& reader, std::uint64_t& done,
                     std::uint64_t total)
{
    forEachMessage(
        path,
        [&](SourceMessage&& m) {
            done += m.bytes.size();
            sink.setProgress(done, total);
            const auto outcome = reader.read(m.bytes);
            const std::string messageKey = sha1(m.bytes);
            if (outcome.records.empty()) {
                std::string why = outcome.error;
                for (const auto& w : outcome.warnings)
                    why += "; a reader failed on it: " + w;
                sink.reject({m.path, 0, static_cast<std::int64_t>(m.offset), why, m.bytes});
                return !sink.cancelled();
            }
            std::size_t n = 0;
            for (const auto& r : outcome.records) {
                Event e;
                e.eventType = eventTypeOfKind(r.kind);
                e.source = r.format;
                e.timestamp = r.timestamp;
                e.recipient = r.recipient;
                e.envelopeSender = r.envelopeSender;
                e.fromDomain = r.original.fromDomain;
                e.campaign = r.original.campaign;
                e.messageId = r.original.messageId;
                e.remoteMta = r.remoteMta;
                e.replyText = r.replyText;
                e.basicCode = r.basicCode;
                e.enhancedCode = r.enhancedCode;
                e.diagnosis = r.diagnosis;
                e.reasonHint = r.reasonHint;
                e.filteringGateway = r.filteringGateway;
                e.provider = r.diagnosis.provider;
                e.sourceFile = m.path;
                e.sourceOffset = static_cast<std::int64_t>(m.offset);
                // The message is stored once with its first recipient; the others point to it.
                if (n == 0)
                    e.raw = m.bytes;
                // The same message imported again (or from a second copy) is the same event.
                e.dedupKey = sha1(messageKey + '\x1f' + std::to_string(n) + '\x1f' + r.recipient);
                ++n;
                sink.event(std::move(e));
            }
            return !sink.cancelled();
        },
        [&](const std::string& file, const std::string& error) {
            sink.reject({file, 0, -1, error, {}});
        });
}

// ---- Postfix log ------------------------------------------------------------------------------

/// "Apr 11 08:59:10 host postfix/smtp[31378]: 0B1FD90A21: to=<…>, …" or an RFC 3339 prefix.
struct PostfixLine {
    std::string time, program, queueId, rest;
};

/// Syslog's "Mmm dd hh:mm:ss" prefix, which has no year.
struct SyslogStamp {
    int month = 0, day = 0, hour = 0, minute = 0, second = 0;
    /// Seconds from the start of a year of 12 months of 31 days: only for comparing stamps.
    std::int64_t ordinal() const
    {
        return ((static_cast<std::int64_t>(month) * 31 + day) * 24 + hour) * 3600 + minute * 60 + second;
    }
};

std::optional<SyslogStamp> syslogStamp(std::string_view l)
{
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (l.size() < 15 || l[3] != ' ' || l[6] != ' ' || l[9] != ':' || l[12] != ':')
        return std::nullopt;
    SyslogStamp s;
    for (int i = 0; i < 12; ++i)
        if (l.substr(0, 3) == months[i])
            s.month = i + 1;
    auto num = [&](std::size_t at) {
        const char a = l[at] == ' ' ? '0' : l[at], b = l[at + 1];
        return text::isDigit(a) && text::isDigit(b) ? (a - '0') * 10 + (b - '0') : -1;
    };
    s.day = num(4), s.hour = num(7), s.minute = num(10), s.second = num(13);
    if (!s.month || s.day < 1 || s.day > 31 || s.hour < 0 || s.hour > 23 || s.minute < 0 || s.minute > 59
        || s.second < 0 || s.second > 60)
        return std::nullopt;
    return s;
}

/// Gives syslog stamps their years, relative to the first line's: lines run forward in time, so
/// a stamp more than a day before the latest one seen starts the next year (31 Dec → 1 Jan);
/// a smaller step back (lines of several processes a little out of order, the hour a clock is
/// put back in autumn) stays in the same year.
class SyslogYears
{
public:
    /// The year of this stamp minus the first line's year.
    int place(const SyslogStamp& s)
    {
        constexpr std::int64_t kTolerance = 86400, kYear = 372LL * 86400;
        const std::int64_t t = s.ordinal();
        if (!m_started) {
            m_started = true;
            m_latest = t;
            return 0;
        }
        if (m_offset * kYear + t < m_latest - kTolerance)
            ++m_offset;
        m_latest = std::max(m_latest, m_offset * kYear + t);
        return m_offset;
    }

private:
    bool m_started = false;
    int m_offset = 0;
    std::int64_t m_latest = 0;
};

std::int64_t utcSeconds(int year, const SyslogStamp& s)
{
    GDateTime* t = g_date_time_new_utc(year, s.month, s.day, s.hour, s.minute, s.second);
    if (!t)
        return -1; // 29 Feb of a year without it
    const std::int64_t out = g_date_time_to_unix(t);
    g_date_time_unref(t);
    return out;
}

/// The year of the first dated line of a syslog file: the lines run forward (SyslogYears) and
/// the last one falls at or before the file's modification time, with a day's slack because
/// syslog writes local time and the modification time is UTC. Empty when no line is dated.
std::optional<int> inferSyslogYear(const std::string& path, std::string& note)
{
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(path, ec);
    if (ec)
        return std::nullopt;
    const std::time_t modified = std::chrono::system_clock::to_time_t(std::chrono::file_clock::to_sys(mtime));
    std::tm tm {};
    gmtime_r(&modified, &tm);
    const int modifiedYear = tm.tm_year + 1900;
    InputFile in(path);
    LineReader lines(in, kMaxRecordBytes); // a stamp is at a line's start: a huge line is not held whole
    SyslogYears years;
    std::optional<SyslogStamp> last;
    int lastOffset = 0;
    std::string l;
    std::int64_t bytes = 0;
    while (lines.next(l, bytes))
        if (const auto s = syslogStamp(l)) {
            lastOffset = years.place(*s);
            last = s;
        }
    if (!last)
        return std::nullopt;
    int lastYear = modifiedYear - 1;
    for (int y = modifiedYear + 1; y >= modifiedYear - 1; --y) {
        const auto t = utcSeconds(y, *last);
        if (t >= 0 && t <= static_cast<std::int64_t>(modified) + 86400) {
            lastYear = y;
            break;
        }
    }
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const int first = lastYear - lastOffset;
    note = "syslog lines carry no year: the first is taken as " + std::to_string(first)
        + (lastOffset ? ", the last as " + std::to_string(lastYear) : std::string())
        + ", so that the lines run forward and end by the file's modification time (" + when
        + "); --year sets the first line's year";
    return first;
}

/// `year`: the year of this line, when its stamp has none.
bool splitPostfix(std::string_view l, PostfixLine& out, int year)
{
    const auto pf = l.find(" postfix");
    if (pf == std::string_view::npos)
        return false;
    const auto colon = l.find(": ", pf);
    if (colon == std::string_view::npos)
        return false;
    const auto prog = l.substr(pf + 1, colon - pf - 1);
    const auto bracket = prog.find('[');
    out.program = std::string(prog.substr(0, bracket));
    auto rest = l.substr(colon + 2);
    const auto qcolon = rest.find(": ");
    if (qcolon == std::string_view::npos || qcolon > 20)
        return false;
    out.queueId = std::string(rest.substr(0, qcolon));
    out.rest = std::string(rest.substr(qcolon + 2));
    const auto head = l.substr(0, pf);
    if (head.size() >= 19 && text::isDigit(head[0]) && head[4] == '-') {
        out.time = normaliseTime(head.substr(0, head.find(' ')));
    } else if (const auto s = syslogStamp(head)) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, s->month, s->day, s->hour, s->minute,
                      s->second);
        out.time = buf;
    }
    return true;
}

std::string field(std::string_view rest, std::string_view name)
{
    const auto p = rest.find(std::string(name) + "=");
    if (p == std::string_view::npos || (p > 0 && rest[p - 1] != ' ' && rest[p - 1] != ','))
        return {};
    auto v = rest.substr(p + name.size() + 1);
    const auto end = v.find(", ");
    v = v.substr(0, end);
    if (v.size() >= 2 && v.front() == '<' && v.back() == '>')
        v = v.substr(1, v.size() - 2);
    return std::string(v);
}

/// Postfix's configuration lines: a line starting with white space continues the one before;
/// comments and blank lines are left out.
std::vector<std::string> logicalLines(std::istream& in)
{
    std::vector<std::string> out;
    std::string l;
    while (std::getline(in, l)) {
        if (!l.empty() && l.back() == '\r')
            l.pop_back();
        const auto t = text::trim(l);
        if (t.empty() || t.front() == '#')
            continue;
        if (text::isSpace(l.front()) && !out.empty())
            out.back().append(1, ' ').append(t.data(), t.size());
        else
            out.emplace_back(t);
    }
    return out;
}

bool ipLiteral(const std::string& v)
{
    return !v.empty() && v.find_first_not_of("0123456789abcdefABCDEF.:") == std::string::npos
        && v.find_first_of(".:") != std::string::npos;
}

/// The sending IP of each Postfix SMTP client, by the tag its lines carry ("postfix/smtp",
/// "postfix-out2/smtp"): `smtp_bind_address` of main.cf, overridden per master.cf service with
/// `-o smtp_bind_address=…`, under the service's `syslog_name` ($service_name expanded). A tag
/// two services with different addresses share tells nothing and is left out. Throws naming the
/// file when main.cf cannot be read.
std::map<std::string, std::string> postfixBindAddresses(const std::string& dir, std::string& note)
{
    const auto mainCf = (std::filesystem::path(dir) / "main.cf").string();
    std::ifstream mainIn(mainCf);
    if (!mainIn)
        throw std::runtime_error(mainCf + ": cannot be read (--postfix-config names Postfix's configuration folder)");
    std::map<std::string, std::string> params;
    for (const auto& l : logicalLines(mainIn)) {
        const auto eq = l.find('=');
        if (eq != std::string::npos)
            params[std::string(text::trim(l.substr(0, eq)))] = std::string(text::trim(l.substr(eq + 1)));
    }
    const std::string defaultSyslog = params.count("syslog_name") ? params["syslog_name"] : "postfix";
    const std::string defaultBind = params["smtp_bind_address"];
    std::map<std::string, std::string> byTag;
    std::set<std::string> ambiguous;
    auto add = [&](std::string syslog, const std::string& service, const std::string& bind) {
        for (const char* var : {"${service_name}", "$service_name", "$(service_name)"})
            for (auto at = syslog.find(var); at != std::string::npos; at = syslog.find(var))
                syslog.replace(at, std::strlen(var), service);
        if (!ipLiteral(bind) || syslog.find('$') != std::string::npos)
            return;
        const std::string tag = syslog + "/smtp";
        if (const auto it = byTag.find(tag); it != byTag.end() && it->second != bind)
            ambiguous.insert(tag);
        byTag[tag] = bind;
    };
    bool sawSmtp = false;
    std::ifstream masterIn((std::filesystem::path(dir) / "master.cf").string());
    for (const auto& l : logicalLines(masterIn)) {
        std::istringstream words(l);
        std::vector<std::string> f;
        for (std::string w; words >> w;)
            f.push_back(w);
        if (f.size() < 8 || f[1] != "unix" || f[7] != "smtp")
            continue;
        sawSmtp = true;
        std::string syslog = defaultSyslog, bind = defaultBind;
        for (std::size_t i = 8; i + 1 < f.size(); ++i)
            if (f[i] == "-o") {
                const auto eq = f[i + 1].find('=');
                const std::string key = f[i + 1].substr(0, eq);
                const std::string value = eq == std::string::npos ? std::string() : f[i + 1].substr(eq + 1);
                if (key == "syslog_name")
                    syslog = value;
                else if (key == "smtp_bind_address")
                    bind = value;
            }
        add(syslog, f[0], bind);
    }
    if (!sawSmtp)
        add(defaultSyslog, "smtp", defaultBind);
    for (const auto& tag : ambiguous)
        byTag.erase(tag);
    std::string list;
    for (const auto& [tag, ip] : byTag)
        list += (list.empty() ? "" : ", ") + tag + " " + ip;
    std::string left;
    for (const auto& tag : ambiguous)
        left += (left.empty() ? "" : ", ") + tag;
    note = byTag.empty() ? "the Postfix configuration in " + dir
            + " sets no smtp_bind_address (or none a log line can be told by): sending IP unknown"
                         : "sending IP from the Postfix configuration in " + dir + " (smtp_bind_address): " + list;
    if (!left.empty())
        note += " (" + left + " left out: services with different addresses log under it)";
    return byTag;
}

void importPostfix(const std::string& path, Sink& sink, int firstYear, const std::map<std::string, std::string>& bind)
{
    std::unordered_map<std::string, std::string> senders; // queue id → from
    SyslogYears years;
    forEachLogLine(path, sink, [&](const std::string& l, std::int64_t lineNo, std::int64_t lineOffset) {
        // Every dated line moves the clock, a Postfix line or not, exactly as in inferSyslogYear().
        int year = firstYear;
        if (const auto s = syslogStamp(l))
            year += years.place(*s);
        PostfixLine p;
        if (!splitPostfix(l, p, year))
            return true; // not a Postfix line: other daemons share the log
        if (p.program.ends_with("qmgr")) {
            if (auto from = field(p.rest, "from"); !from.empty() || p.rest.starts_with("from=<>"))
                senders[p.queueId] = from;
            if (p.rest == "removed")
                senders.erase(p.queueId);
            return true;
        }
        if (!p.rest.starts_with("to="))
            return true; // connects, cleanup, etc.: not delivery records
        auto reject = [&](const std::string& why) { sink.reject({path, lineNo, lineOffset, why, l}); };
        const std::string status = field(p.rest, "status");
        const std::string to = field(p.rest, "to");
        if (status.empty()) {
            reject("line " + std::to_string(lineNo) + ": delivery line without status=");
            return true;
        }
        if (!plausibleAddress(to)) {
            reject("line " + std::to_string(lineNo) + ": to=<" + shownBytes(to) + "> is not an e-mail address"
                   + addressDefect(to));
            return true;
        }
        Event e;
        e.source = "postfix";
        e.recipient = to;
        e.timestamp = p.time;
        const auto st = status.substr(0, status.find(' '));
        e.eventType = st == "sent" ? "delivered" : st == "deferred" ? "deferral" : st == "bounced" ? "bounce" : st;
        if (e.eventType != "delivered" && e.eventType != "deferral" && e.eventType != "bounce") {
            reject("line " + std::to_string(lineNo) + ": unknown status \"" + st + "\"");
            return true;
        }
        e.enhancedCode = field(p.rest, "dsn");
        // Postfix does not log the address it sent from; its configuration says it.
        if (const auto it = bind.find(p.program); it != bind.end())
            e.sendingIp = it->second;
        const auto relay = field(p.rest, "relay");
        e.remoteMta = relay.substr(0, relay.find('['));
        if (auto it = senders.find(p.queueId); it != senders.end()) {
            e.envelopeSender = it->second;
            e.fromDomain = domainOf(it->second);
        }
        // The text in parentheses after status=…: Postfix's own words or the remote reply.
        const auto open = p.rest.find(" (", p.rest.find("status="));
        std::string inner = open == std::string::npos ? std::string() : p.rest.substr(open + 2);
        if (!inner.empty() && inner.back() == ')')
            inner.pop_back();
        const Reply parsed = primaryReply(inner);
        e.replyText = parsed.basicCode ? parsed.text : inner;
        e.basicCode = parsed.basicCode;
        if (e.remoteMta.empty())
            e.remoteMta = parsed.remoteHost;
        emitLogLine(sink, std::move(e), parsed, inner, path, lineNo, lineOffset, l);
        return !sink.cancelled();
    });
}

/// A message's first header; a log line never starts so, and a message may quote log lines.
int emailHead(const Head& h)
{
    if (h.isJson)
        return 0;
    const std::string& t = h.text;
    if (t.starts_with("From ") || text::startsWithNoCase(t, "Return-Path:") || text::startsWithNoCase(t, "Received:")
        || text::startsWithNoCase(t, "Delivered-To:") || text::startsWithNoCase(t, "X-"))
        return 100;
    // Headers without a usual first field (Subject:, From: first): less sure.
    if (text::startsWithNoCase(t, "From:") || text::startsWithNoCase(t, "Subject:")
        || text::startsWithNoCase(t, "Date:") || text::startsWithNoCase(t, "Message-ID:"))
        return 20;
    return 0;
}

int postfixHead(const Head& h)
{
    return !h.isJson && h.text.find(" postfix/") != std::string::npos && h.text.find(": to=<") != std::string::npos ? 70
                                                                                                                    : 0;
}

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

void runEmails(const std::string& path, Sink& sink, const RunContext& c)
{
    importEmails(path, sink, c.classifier);
}

void runPostfix(const std::string& path, Sink& sink, const RunContext& c)
{
    importPostfix(path, sink, c.firstYear, c.bindAddresses);
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
        if (const std::string why = binaryReason(head); !why.empty()) {
            result.error = path + ": not a text file: " + why;
            return result;
        }
        if (text::trim(head).empty()) {
            result.error = path + ": is empty, nothing to import";
            result.empty = true;
            return result;
        }
    }
    result.format = profile ? std::string(format::csv) + ":" + profile->name : detectFormat(path);
    if (result.format.empty()) {
        result.error = path
            + ": format not recognised (an e-mail, mbox or maildir; a SendGrid, Mailgun, Postmark, "
              "SparkPost, Mandrill, Brevo, SES or Microsoft 365 export; a Postfix or Exim log) — for "
              "another CSV, give a column profile with --profile";
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
    if (folder) {
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
                const auto inferred = inferSyslogYear(path, result.note);
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
        bulk = ws.beginBulkLoad(folder ? size : static_cast<std::int64_t>(contentSize(path)));
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
            ws.finishImport(result.importId, {}, "failed");
        } catch (const std::exception&) {
            // Left `running` with nothing committed: the next import of the file replaces it.
        }
        return result;
    }
    Sink& sink = *sinkHolder;
    std::string readError;
    try {
        const RunContext context {classifier, profile, firstYear, bindAddresses};
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
    if (result.counts.imported > 0) {
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
