// SPDX-License-Identifier: MIT
// Postfix's log: one event per delivery attempt (status=sent, deferred, bounced), the year of
// syslog lines without one inferred, and the sending IP from the config's bind addresses.
#include "../csvreader.h"
#include "../replyparser.h"
#include "../text.h"
#include "../textsafety.h"
#include "input.h"
#include "internal.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <glib.h>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace bt::detail
{
namespace
{

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

} // namespace

/// The year of the first dated line of a syslog file: the lines run forward (SyslogYears) and
/// the last one falls at or before the file's modification time, with a day's slack because
/// syslog writes local time and the modification time is UTC. Empty when no line is dated.
std::optional<int> inferSyslogYear(const std::string& path, std::string& note, std::int64_t start, std::int64_t end)
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
    if (start > 0 && !in.seekg(start))
        return std::nullopt;
    LineReader lines(in, kMaxRecordBytes); // a stamp is at a line's start: a huge line is not held whole
    SyslogYears years;
    std::optional<SyslogStamp> last;
    int lastOffset = 0;
    std::string l;
    std::int64_t bytes = 0, offset = start;
    while ((end < 0 || offset < end) && lines.next(l, bytes))
        if (offset += bytes; const auto s = syslogStamp(l)) {
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

namespace
{

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

} // namespace

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

namespace
{

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

} // namespace

int postfixHead(const Head& h)
{
    return !h.isJson && h.text.find(" postfix/") != std::string::npos && h.text.find(": to=<") != std::string::npos ? 70
                                                                                                                    : 0;
}

void runPostfix(const std::string& path, Sink& sink, const RunContext& c)
{
    importPostfix(path, sink, c.firstYear, c.bindAddresses);
}

} // namespace bt::detail
