// SPDX-License-Identifier: MIT
#include "tester.h"

#include "alignment.h"
#include "checks.h"
#include "dns.h"
#include "email.h"
#include "knowledge.h"
#include "text.h"

#include <arpa/inet.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <set>

namespace bt
{

namespace
{

using ojson = nlohmann::ordered_json;

bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

std::string removeWhitespace(std::string_view s)
{
    std::string out;
    for (char c : s)
        if (!text::isSpace(c))
            out += c;
    return out;
}

/// Unfolds a header value: CRLF (or LF) before whitespace goes, the rest is kept.
std::string unfold(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' || s[i] == '\n')
            continue;
        out += s[i];
    }
    return out;
}

// ---- base64 and hashes (OpenSSL's libcrypto) ----

std::string base64Encode(const unsigned char* data, std::size_t n)
{
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, int(n));
    out.resize(std::size_t(std::max(0, len)));
    return out;
}

/// Lenient base64 (whitespace skipped, as DKIM's b=, bh= and p= allow); false on other bytes.
bool base64Decode(std::string_view in, std::string& out)
{
    out.clear();
    int value = 0, bits = 0;
    bool padding = false;
    for (unsigned char c : in) {
        int d;
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+')
            d = 62;
        else if (c == '/')
            d = 63;
        else if (c == '=') {
            padding = true;
            continue;
        } else if (text::isSpace(c))
            continue;
        else
            return false;
        if (padding)
            return false;
        value = ((value << 6) | d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((value >> bits) & 0xff);
        }
    }
    return true;
}

std::string sha256(std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// ---- tag lists (RFC 6376 3.2) ----

using Tags = std::map<std::string, std::string>;

Tags parseTags(std::string_view value)
{
    Tags out;
    std::size_t pos = 0;
    while (pos <= value.size()) {
        auto end = value.find(';', pos);
        if (end == std::string_view::npos)
            end = value.size();
        const auto item = value.substr(pos, end - pos);
        const auto eq = item.find('=');
        if (eq != std::string_view::npos) {
            const std::string name(text::trim(item.substr(0, eq)));
            if (!name.empty() && !out.count(name))
                out[name] = std::string(text::trim(item.substr(eq + 1)));
        }
        pos = end + 1;
    }
    return out;
}

/// The domain of an address ("Name <a@b.example>", "<a@b.example>", "a@b.example"), lower case.
std::string domainOf(std::string_view address)
{
    std::string_view a = address;
    if (const auto lt = a.rfind('<'); lt != std::string_view::npos) {
        a = a.substr(lt + 1);
        if (const auto gt = a.find('>'); gt != std::string_view::npos)
            a = a.substr(0, gt);
    }
    const auto at = a.rfind('@');
    if (at == std::string_view::npos)
        return {};
    std::string d = text::toLower(text::trim(a.substr(at + 1)));
    while (!d.empty() && (d.back() == '.' || d.back() == '>'))
        d.pop_back();
    return d;
}

std::string addressOf(std::string_view value)
{
    std::string_view a = value;
    if (const auto lt = a.rfind('<'); lt != std::string_view::npos) {
        a = a.substr(lt + 1);
        if (const auto gt = a.find('>'); gt != std::string_view::npos)
            a = a.substr(0, gt);
    }
    return std::string(text::trim(a));
}

bool isSubdomainOrSame(const std::string& sub, const std::string& parent)
{
    return sub == parent
        || (sub.size() > parent.size() && sub.compare(sub.size() - parent.size(), parent.size(), parent) == 0
            && sub[sub.size() - parent.size() - 1] == '.');
}

/// "aligned" per DMARC: strict = the same name, relaxed = the same organisational domain.
bool aligned(const std::string& a, const std::string& b, bool strict)
{
    if (a.empty() || b.empty())
        return false;
    if (strict)
        return a == b;
    const auto oa = organizationalDomain(a), ob = organizationalDomain(b);
    return !oa.empty() && oa == ob;
}

bool isPrivateIp(const std::string& ip)
{
    if (ip.find(':') != std::string::npos) {
        unsigned char b[16];
        if (inet_pton(AF_INET6, ip.c_str(), b) != 1)
            return true;
        static const unsigned char loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return std::equal(b, b + 16, loop) || (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    }
    in_addr a {};
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1)
        return true;
    const std::uint32_t v = ntohl(a.s_addr);
    return (v >> 24) == 10 || (v >> 24) == 127 || (v >> 24) == 0 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8
        || (v >> 16) == 0xa9fe || (v >> 22) == (100u << 2 | 1u);
}

bool looksLikeHostName(std::string_view s)
{
    return s.find('.') != std::string_view::npos && !dns::isIpAddress(std::string(s))
        && std::any_of(s.begin(), s.end(), [](char c) { return text::isAlpha(c); });
}

// ---- Received (RFC 5321 4.4) ----

struct Hop {
    std::string raw; ///< the header as written, unfolded
    std::string helo, rdns, ip, by, with;
    bool hasFrom = false;
    bool tls = false;
};

/// Reads one Received value: the from/by/with clauses at parenthesis depth 0, the IP in the
/// from clause (bracketed first, as Postfix, Exim and Gmail write it; then bare, as Microsoft).
Hop parseReceived(const std::string& value)
{
    Hop h;
    h.raw = text::collapseSpace(value);
    std::string v = value;
    if (const auto semi = v.rfind(';'); semi != std::string::npos)
        v = v.substr(0, semi); // the date
    // Words at depth 0 with their offsets.
    struct Word {
        std::string text;
        std::size_t at;
    };
    std::vector<Word> words;
    int depth = 0;
    std::size_t i = 0;
    while (i < v.size()) {
        const char c = v[i];
        if (c == '(') {
            ++depth;
            ++i;
        } else if (c == ')') {
            depth = std::max(0, depth - 1);
            ++i;
        } else if (text::isSpace(c)) {
            ++i;
        } else {
            const std::size_t start = i;
            while (i < v.size() && !text::isSpace(v[i]) && v[i] != '(' && v[i] != ')')
                ++i;
            if (depth == 0)
                words.push_back({v.substr(start, i - start), start});
        }
    }
    auto clause = [&](std::string_view keyword, std::string& firstWord) -> std::string {
        for (std::size_t w = 0; w < words.size(); ++w) {
            if (text::toLower(words[w].text) != keyword)
                continue;
            if (w + 1 < words.size())
                firstWord = words[w + 1].text;
            std::size_t end = v.size();
            for (std::size_t n = w + 1; n < words.size(); ++n) {
                const auto k = text::toLower(words[n].text);
                if (k == "from" || k == "by" || k == "with" || k == "id" || k == "for" || k == "via")
                    if (n != w + 1) {
                        end = words[n].at;
                        break;
                    }
            }
            return v.substr(words[w].at, end - words[w].at);
        }
        return {};
    };
    std::string helo, by, with;
    const std::string from = clause("from", helo);
    clause("by", by);
    clause("with", with);
    h.hasFrom = !from.empty();
    h.helo = text::toLower(helo);
    h.by = text::toLower(by);
    h.with = with;
    if (h.hasFrom) {
        // Bracketed address literals first: [203.0.113.5], [IPv6:2001:db8::1].
        for (std::size_t b = from.find('['); b != std::string::npos && h.ip.empty(); b = from.find('[', b + 1)) {
            const auto e = from.find(']', b);
            if (e == std::string::npos)
                break;
            std::string inside = from.substr(b + 1, e - b - 1);
            if (text::startsWithNoCase(inside, "IPv6:"))
                inside = inside.substr(5);
            if (dns::isIpAddress(inside))
                h.ip = inside;
        }
        // Then tokens inside the comment: "(mail.example.com 203.0.113.5)", "(203.0.113.5)".
        std::string token;
        auto take = [&] {
            if (!token.empty()) {
                if (h.ip.empty() && dns::isIpAddress(token))
                    h.ip = token;
                else if (h.rdns.empty() && looksLikeHostName(token) && text::toLower(token) != h.helo)
                    h.rdns = text::toLower(token);
                token.clear();
            }
        };
        const auto open = from.find('(');
        for (std::size_t k = open == std::string::npos ? from.size() : open + 1; k < from.size(); ++k) {
            const char c = from[k];
            if (text::isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '=' || c == ',')
                take();
            else
                token += c;
        }
        take();
        while (!h.rdns.empty() && h.rdns.back() == '.')
            h.rdns.pop_back();
        if (h.ip.empty() && dns::isIpAddress(h.helo))
            h.ip = h.helo;
    }
    const std::string withUpper = [&] {
        std::string u = with;
        for (auto& c : u)
            c = char(std::toupper(static_cast<unsigned char>(c)));
        return u;
    }();
    // ESMTPS/ESMTPSA/UTF8SMTPS/LMTPS (RFC 3848), HTTPS (Microsoft's internal hops), or the TLS
    // version in a comment ("version=TLS1_3", "using TLSv1.3").
    h.tls = withUpper.find("SMTPS") != std::string::npos || withUpper.find("LMTPS") != std::string::npos
        || withUpper == "HTTPS" || text::findNoCase(value, "TLS") != std::string::npos;
    return h;
}

/// The RFC 5322 date-time of a Date header: the time (unix seconds) and whether the syntax is
/// strict (obsolete zones such as "GMT" or "EST" are read but noted). Hand-written: one line,
/// no regular expression needed.
struct DateParse {
    bool ok = false;
    bool obsolete = false;
    std::string problem;
    std::int64_t time = 0;
};

DateParse parseDate(std::string_view s)
{
    DateParse r;
    std::string v = unfold(s);
    // Comments after the zone, "(UTC)", are allowed (CFWS).
    if (const auto p = v.find('('); p != std::string::npos)
        v = v.substr(0, p);
    std::vector<std::string> t;
    std::string cur;
    for (char c : v) {
        if (text::isSpace(c) || c == ',') {
            if (!cur.empty())
                t.push_back(cur);
            cur.clear();
            if (c == ',')
                t.push_back(",");
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        t.push_back(cur);
    static const char* days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::size_t i = 0;
    if (t.size() >= 2 && t[1] == ",") {
        if (std::none_of(std::begin(days), std::end(days), [&](const char* d) { return t[0] == d; })) {
            r.problem = "\"" + t[0] + "\" is not a day name";
            return r;
        }
        i = 2;
    }
    if (t.size() < i + 5) {
        r.problem = "it needs day, month, year, time and zone";
        return r;
    }
    auto number = [](const std::string& x, int& out) {
        const auto [p, ec] = std::from_chars(x.data(), x.data() + x.size(), out);
        return ec == std::errc() && p == x.data() + x.size();
    };
    int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
    if (!number(t[i], day) || day < 1 || day > 31 || t[i].size() > 2) {
        r.problem = "\"" + t[i] + "\" is not a day of the month";
        return r;
    }
    int month = -1;
    for (int m = 0; m < 12; ++m)
        if (t[i + 1] == months[m])
            month = m;
    if (month < 0) {
        r.problem = "\"" + t[i + 1] + "\" is not a month name (Jan … Dec)";
        return r;
    }
    if (!number(t[i + 2], year) || t[i + 2].size() < 4) {
        r.problem = "\"" + t[i + 2] + "\" is not a four-digit year";
        return r;
    }
    const std::string& time = t[i + 3];
    const auto c1 = time.find(':'), c2 = time.find(':', c1 == std::string::npos ? 0 : c1 + 1);
    if (c1 != 2 || !number(time.substr(0, 2), hh) || !number(time.substr(3, 2), mm)
        || (c2 != std::string::npos && (c2 != 5 || time.size() != 8 || !number(time.substr(6, 2), ss)))
        || (c2 == std::string::npos && time.size() != 5) || hh > 23 || mm > 59 || ss > 60) {
        r.problem = "\"" + time + "\" is not a time hh:mm:ss";
        return r;
    }
    const std::string& zone = t[i + 4];
    int offset = 0;
    if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-')) {
        int z = 0;
        if (!number(zone.substr(1), z)) {
            r.problem = "\"" + zone + "\" is not a zone +hhmm";
            return r;
        }
        offset = (z / 100 * 60 + z % 100) * 60 * (zone[0] == '-' ? -1 : 1);
    } else {
        static const std::map<std::string, int> obs
            = {{"UT", 0},   {"GMT", 0},  {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
               {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}, {"Z", 0}};
        const auto it = obs.find(zone);
        if (it == obs.end()) {
            r.problem = "\"" + zone + "\" is not a time zone";
            return r;
        }
        r.obsolete = true;
        offset = it->second * 3600;
    }
    if (t.size() > i + 5) {
        r.problem = "text after the zone: \"" + t[i + 5] + "\"";
        return r;
    }
    std::tm tm {};
    tm.tm_year = year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    r.time = std::int64_t(timegm(&tm)) - offset;
    r.ok = true;
    return r;
}

/// RFC 5322 3.6.4 msg-id: "<" id-left "@" id-right ">", dot-atom-text or a [literal] on the right.
std::string messageIdProblem(std::string_view raw)
{
    const auto v = text::trim(raw);
    if (v.size() < 5 || v.front() != '<' || v.back() != '>')
        return "it is not enclosed in < >";
    const auto inner = v.substr(1, v.size() - 2);
    const auto at = inner.rfind('@');
    if (at == std::string_view::npos)
        return "it has no @";
    auto atext = [](char c) {
        return text::isAlpha(c) || text::isDigit(c)
            || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos
            || static_cast<unsigned char>(c) >= 0x80;
    };
    auto dotAtom = [&](std::string_view s) {
        if (s.empty() || s.front() == '.' || s.back() == '.')
            return false;
        for (std::size_t k = 0; k < s.size(); ++k)
            if (!(atext(s[k]) || (s[k] == '.' && s[k + 1] != '.')))
                return false;
        return true;
    };
    const auto left = inner.substr(0, at), right = inner.substr(at + 1);
    if (!dotAtom(left))
        return "the part before @ is not a dot-atom (spaces, quotes, double dots or empty)";
    if (!(dotAtom(right) || (right.size() > 2 && right.front() == '[' && right.back() == ']')))
        return "the part after @ is not a domain or [literal]";
    return {};
}

/// The value of a raw header with the b= tag's value emptied (RFC 6376 3.7: the signature header
/// is hashed with b= empty), folding and everything else kept.
std::string withEmptyB(const std::string& raw)
{
    const auto colon = raw.find(':');
    if (colon == std::string::npos)
        return raw;
    std::size_t pos = colon + 1;
    while (pos <= raw.size()) {
        auto end = raw.find(';', pos);
        if (end == std::string::npos)
            end = raw.size();
        const auto eq = raw.find('=', pos);
        if (eq != std::string::npos && eq < end && removeWhitespace(std::string_view(raw).substr(pos, eq - pos)) == "b")
            return raw.substr(0, eq + 1) + raw.substr(end);
        pos = end + 1;
    }
    return raw;
}

std::string clipped(std::string s, std::size_t n)
{
    if (s.size() > n)
        s = s.substr(0, n) + "…";
    return s;
}

/// A DKIM-Signature as evidence: folded lines joined, b= shortened (it is 344 characters of noise).
std::string signatureEvidence(const RawMessage::Field& f)
{
    std::string v = text::collapseSpace(f.raw);
    auto b = v.find("b=");
    while (b != std::string::npos && b > 0 && !(v[b - 1] == ';' || text::isSpace(v[b - 1])))
        b = v.find("b=", b + 1);
    if (b != std::string::npos) {
        auto end = v.find(';', b);
        if (end == std::string::npos)
            end = v.size();
        if (end - b > 24)
            v = v.substr(0, b + 22) + "…" + v.substr(end);
    }
    return v;
}

std::string answerEvidence(const dns::Answer& a)
{
    std::string s = std::string(dns::typeName(a.type)) + " " + a.name + " → ";
    if (a.records.empty())
        s += dns::statusName(a.status) + (a.detail.empty() ? std::string() : " (" + a.detail + ")");
    for (std::size_t i = 0; i < a.records.size(); ++i)
        s += (i ? " | " : "") + clipped(a.records[i].value, 160);
    s += " (asked " + (a.server.empty() ? std::string("the resolver") : a.server) + " at " + text::isoUtc(a.checkedAt)
        + ")";
    return s;
}

std::string sourceEvidence(const CheckSource& s)
{
    return "(asked " + s.server + (s.cached ? ", cached," : "") + " at " + text::isoUtc(s.checkedAt) + ")";
}

// ---- DKIM verification (RFC 6376 6.1, RFC 8301, RFC 8463) ----

struct DkimOutcome {
    TesterCheck check;
    bool pass = false; ///< verified (a weak 1024-bit key still passes for DMARC)
    std::string domain;
    std::vector<std::string> signedHeaders; ///< h=, lower case
};

DkimOutcome verifyDkim(const RawMessage& m, std::size_t index, dns::Resolver* resolver, std::int64_t now,
                       const char* noDnsStatus)
{
    DkimOutcome o;
    const auto& field = m.fields[index];
    auto& c = o.check;
    c.id = "dkim";
    c.evidence = signatureEvidence(field);
    const Tags t = parseTags(unfold(field.value()));
    auto get = [&](const char* k) {
        const auto it = t.find(k);
        return it == t.end() ? std::string() : it->second;
    };
    c.domain = o.domain = text::toLower(get("d"));
    c.selector = get("s");
    auto failWith = [&](std::string status, std::string detail) {
        c.status = std::move(status);
        c.detail = std::move(detail);
        return o;
    };
    for (const char* required : {"v", "a", "b", "bh", "d", "h", "s"})
        if (!t.count(required))
            return failWith("fail",
                            "The signature lacks its required " + std::string(required)
                                + "= tag, so receivers ignore it (RFC 6376 3.5).");
    if (get("v") != "1")
        return failWith("fail", "The signature says v=" + get("v") + "; only v=1 exists.");
    const std::string alg = text::toLower(get("a"));
    if (alg == "rsa-sha1")
        return failWith("fail", "The signature uses rsa-sha1, which receivers no longer accept (RFC 8301).");
    if (alg != "rsa-sha256" && alg != "ed25519-sha256")
        return failWith("fail", "The signature algorithm a=" + alg + " is unknown (rsa-sha256 or ed25519-sha256).");
    std::string headerCanon = "simple", bodyCanon = "simple";
    if (const std::string cv = text::toLower(get("c")); !cv.empty()) {
        const auto slash = cv.find('/');
        headerCanon = cv.substr(0, slash);
        if (slash != std::string::npos)
            bodyCanon = cv.substr(slash + 1);
    }
    for (const auto& canon : {headerCanon, bodyCanon})
        if (canon != "simple" && canon != "relaxed")
            return failWith("fail", "The canonicalisation c=" + get("c") + " is unknown (simple or relaxed).");
    for (std::size_t pos = 0; pos <= get("h").size();) {
        const std::string h = get("h");
        auto end = h.find(':', pos);
        if (end == std::string::npos)
            end = h.size();
        if (auto name = text::toLower(removeWhitespace(std::string_view(h).substr(pos, end - pos))); !name.empty())
            o.signedHeaders.push_back(name);
        pos = end + 1;
    }
    if (std::find(o.signedHeaders.begin(), o.signedHeaders.end(), "from") == o.signedHeaders.end())
        return failWith("fail", "The signature does not cover the From header (h= must name it, RFC 6376 5.4).");
    if (const std::string i = domainOf(get("i")); t.count("i") && !isSubdomainOrSame(i, o.domain))
        return failWith("fail", "The signature's i= domain " + i + " is not d=" + o.domain + " or under it.");
    // Expiry before anything else: an expired signature is ignored whatever its hashes say.
    std::int64_t expires = 0, signedAt = 0;
    const std::string x = get("x"), ts = get("t");
    std::from_chars(x.data(), x.data() + x.size(), expires);
    std::from_chars(ts.data(), ts.data() + ts.size(), signedAt);
    if (!x.empty() && expires < now)
        return failWith("fail",
                        "The signature expired at " + text::isoUtc(expires) + " (x=" + x
                            + "); receivers ignore expired signatures (RFC 6376 3.5).");
    if (!x.empty() && !ts.empty() && expires < signedAt)
        return failWith("fail", "The signature expires (x=) before it was made (t=).");

    // Body hash.
    std::vector<std::string> notes;
    if (m.hasBody) {
        std::string body = canonicalBody(m.body, bodyCanon);
        if (const std::string l = get("l"); !l.empty()) {
            std::size_t length = 0;
            const auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), length);
            if (ec != std::errc() || p != l.data() + l.size())
                return failWith("fail", "l=" + l + " is not a number.");
            if (length > body.size())
                return failWith("fail",
                                "The body hash did not verify: l=" + l + " is longer than the body ("
                                    + std::to_string(body.size())
                                    + " bytes canonicalised); it was shortened after signing.");
            if (length < body.size())
                notes.push_back("l=" + l + " leaves " + std::to_string(body.size() - length)
                                + " bytes of the body unsigned: anyone may append to it");
            body.resize(length);
        }
        const auto digest = sha256(body);
        const std::string computed = base64Encode(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
        const std::string bh = removeWhitespace(get("bh"));
        if (computed != bh)
            return failWith("fail",
                            "The body hash did not verify: the body was changed after signing (bh=" + bh
                                + ", the body hashes to " + computed + " with c=" + bodyCanon + ").");
    } else {
        notes.push_back("the input has no body, so the body hash was not checked");
    }

    if (!resolver) {
        c.status = noDnsStatus;
        c.detail = m.hasBody ? "The body hash matches; the signature itself was not checked (no DNS)."
                             : "Not checked: no body and no DNS.";
        return o;
    }
    const std::string keyName = c.selector + "._domainkey." + o.domain;
    const auto answer = resolver->query(keyName, dns::Type::TXT);
    c.evidence += "\n" + answerEvidence(answer);
    if (answer.status != dns::Status::Ok && answer.status != dns::Status::None
        && answer.status != dns::Status::NxDomain)
        return failWith("error",
                        "The key at " + keyName + " could not be read (" + dns::statusName(answer.status)
                            + "), so the signature was not checked.");
    std::string keyRecord;
    for (const auto& r : answer.records) {
        const Tags kt = parseTags(r.value);
        if (kt.count("p")) {
            keyRecord = r.value;
            break;
        }
    }
    if (keyRecord.empty())
        return failWith(
            "fail",
            "No DKIM key is published at " + keyName + " ("
                + (answer.status == dns::Status::Ok ? std::string("TXT without p=") : dns::statusName(answer.status))
                + "): receivers cannot verify the signature.");
    const Tags kt = parseTags(keyRecord);
    auto key = [&](const char* k) {
        const auto it = kt.find(k);
        return it == kt.end() ? std::string() : it->second;
    };
    if (kt.count("v") && key("v") != "DKIM1")
        return failWith("fail", "The key record at " + keyName + " says v=" + key("v") + ", not DKIM1.");
    const std::string p = removeWhitespace(key("p"));
    if (p.empty())
        return failWith("fail",
                        "The key at " + keyName
                            + " is revoked (empty p=): the domain withdrew it, so signatures made with it fail.");
    const std::string keyType = kt.count("k") ? text::toLower(key("k")) : "rsa";
    if (alg.rfind(keyType, 0) != 0)
        return failWith("fail", "The key at " + keyName + " is k=" + keyType + " but the signature is a=" + alg + ".");
    if (kt.count("h") && text::findNoCase(key("h"), "sha256") == std::string::npos)
        return failWith("fail", "The key at " + keyName + " allows only h=" + key("h") + ", not sha256.");
    if (const std::string flags = key("t");
        flags.find('s') != std::string::npos && t.count("i") && domainOf(get("i")) != o.domain)
        return failWith("fail", "The key has t=s (strict) but i= is a subdomain of d=.");
    if (key("t").find('y') != std::string::npos)
        notes.push_back("the key is marked t=y (testing): receivers may treat the signature as unsigned");

    std::string der;
    if (!base64Decode(p, der))
        return failWith("fail", "The key at " + keyName + " is not valid base64.");
    Pkey pkey;
    if (keyType == "ed25519") {
        if (der.size() != 32)
            return failWith("fail",
                            "The ed25519 key at " + keyName + " is " + std::to_string(der.size()) + " bytes, not 32.");
        pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(der.data()), der.size()));
        if (!pkey)
            return failWith("error", "This OpenSSL cannot read ed25519 keys, so the signature was not checked.");
    } else {
        const auto* q = reinterpret_cast<const unsigned char*>(der.data());
        pkey.reset(d2i_PUBKEY(nullptr, &q, long(der.size())));
        if (!pkey) { // some publish the bare PKCS#1 RSAPublicKey
            q = reinterpret_cast<const unsigned char*>(der.data());
            pkey.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &q, long(der.size())));
        }
        if (!pkey || EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA)
            return failWith("fail", "The key at " + keyName + " is not an RSA public key.");
    }
    const int bits = keyType == "rsa" ? EVP_PKEY_get_bits(pkey.get()) : 256;

    // Header hash: the h= fields, each the last one not used yet (RFC 6376 5.4.2), then this
    // signature with b= empty and no final CRLF.
    std::string data;
    std::map<std::string, std::size_t> used; // name → how many taken from the bottom
    for (const auto& name : o.signedHeaders) {
        std::size_t skip = used[name]++;
        for (std::size_t k = m.fields.size(); k-- > 0;) {
            if (text::toLower(m.fields[k].name) != name)
                continue;
            if (skip-- == 0) {
                data += canonicalHeader(m.fields[k].raw, headerCanon);
                break;
            }
        }
    }
    std::string self = canonicalHeader(withEmptyB(field.raw), headerCanon);
    if (self.size() >= 2)
        self.resize(self.size() - 2);
    data += self;

    std::string signature;
    if (!base64Decode(get("b"), signature) || signature.empty())
        return failWith("fail", "b= is not valid base64.");
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    int ok = 0;
    if (keyType == "ed25519") {
        // RFC 8463: Ed25519 signs the SHA-256 of the header data (pure Ed25519, no digest of its own).
        const auto digest = sha256(data);
        ok = EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1
            && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                reinterpret_cast<const unsigned char*>(digest.data()), digest.size())
                == 1;
    } else {
        ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) == 1
            && EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                reinterpret_cast<const unsigned char*>(data.data()), data.size())
                == 1;
    }
    const std::string keyWords = std::to_string(bits) + "-bit " + keyType + " key at " + keyName;
    if (!ok)
        return failWith(
            "fail",
            "The signature did not verify against the " + keyWords
                + ": a signed header (h=) was changed after signing, or the key is not the one that signed.");
    std::string noteText;
    for (const auto& n : notes)
        noteText += "; " + n;
    if (keyType == "rsa" && bits < 1024)
        return failWith("fail",
                        "The signature verifies, but with a " + std::to_string(bits)
                            + "-bit RSA key: receivers ignore keys under 1024 bits (RFC 8301)" + noteText + ".");
    o.pass = true;
    if (keyType == "rsa" && bits < 2048)
        return failWith("warn",
                        "The signature verifies with a " + keyWords
                            + ", which is weak: use 2048 bits (RFC 8301 allows 1024 only for now)" + noteText + ".");
    if (!notes.empty())
        return failWith("warn", "The signature verifies with the " + keyWords + noteText + ".");
    return failWith("pass", "The signature verifies with the " + keyWords + " (body and signed headers unchanged).");
}

// ---- ARC (RFC 8617): structure only ----

TesterCheck checkArc(const RawMessage& m)
{
    TesterCheck c;
    c.id = "arc";
    std::map<int, std::array<int, 3>> sets; // i → counts of AS, AMS, AAR
    std::map<int, std::string> cv;
    std::string evidence;
    for (const auto& f : m.fields) {
        const auto name = text::toLower(f.name);
        int kind = name == "arc-seal"              ? 0
            : name == "arc-message-signature"      ? 1
            : name == "arc-authentication-results" ? 2
                                                   : -1;
        if (kind < 0)
            continue;
        const std::string value = unfold(f.value());
        int instance = 0;
        if (kind == 2) {
            const std::string i(text::trim(std::string_view(value).substr(0, value.find(';'))));
            if (i.size() > 2 && i.substr(0, 2) == "i=")
                std::from_chars(i.data() + 2, i.data() + i.size(), instance);
        } else {
            const Tags t = parseTags(value);
            if (const auto it = t.find("i"); it != t.end())
                std::from_chars(it->second.data(), it->second.data() + it->second.size(), instance);
            if (kind == 0)
                cv[instance] = text::toLower(t.count("cv") ? t.at("cv") : "");
        }
        sets[instance][std::size_t(kind)]++;
        if (kind == 0)
            evidence += (evidence.empty() ? "" : "\n") + clipped(f.name + ": " + value, 200);
    }
    if (sets.empty()) {
        c.status = "none";
        c.detail = "No ARC headers: no forwarder or list sealed the message (only needed when one did).";
        return c;
    }
    c.evidence = evidence;
    const int n = sets.rbegin()->first;
    std::string problem;
    for (int i = 1; i <= n && problem.empty(); ++i) {
        const auto it = sets.find(i);
        if (it == sets.end())
            problem = "instance i=" + std::to_string(i) + " is missing";
        else if (it->second != std::array<int, 3> {1, 1, 1})
            problem = "instance i=" + std::to_string(i)
                + " does not have exactly one ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results";
        else if (i == 1 && cv[i] != "none")
            problem = "i=1 says cv=" + cv[i] + " (the first seal must say cv=none)";
        else if (i > 1 && cv[i] != "pass")
            problem
                = "i=" + std::to_string(i) + " says cv=" + cv[i] + ": the chain was already broken when it was sealed";
    }
    if (sets.begin()->first < 1 || n > 50)
        problem = "instance numbers out of 1–50";
    if (!problem.empty()) {
        c.status = "fail";
        c.detail
            = "The ARC chain is broken: " + problem + " (structure checked; seals not verified cryptographically).";
        return c;
    }
    c.status = "pass";
    c.detail = "The ARC chain has " + std::to_string(n) + " complete set" + (n == 1 ? "" : "s")
        + " in order with valid cv= values (structure checked; seals not verified cryptographically).";
    return c;
}

std::vector<std::string> linkDomains(std::string_view message)
{
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& part : attachmentsOf(message)) {
        if (part.contentType.rfind("text/", 0) != 0)
            continue;
        const std::string& b = part.bytes;
        for (std::size_t at = text::findNoCase(b, "http"); at != std::string::npos && out.size() < 10;
             at = text::findNoCase(b, "http", at + 4)) {
            std::size_t p = at + 4;
            if (p < b.size() && (b[p] == 's' || b[p] == 'S'))
                ++p;
            if (b.compare(p, 3, "://") != 0)
                continue;
            p += 3;
            std::size_t e = p;
            while (e < b.size() && std::string_view("/?#:\"'<> \t\r\n)]").find(b[e]) == std::string_view::npos)
                ++e;
            std::string host = text::toLower(b.substr(p, e - p));
            if (const auto atSign = host.rfind('@'); atSign != std::string::npos)
                host = host.substr(atSign + 1);
            if (!looksLikeHostName(host))
                continue;
            const std::string org = organizationalDomain(host);
            if (!org.empty() && seen.insert(org).second)
                out.push_back(org);
        }
    }
    return out;
}

const char* worst(const std::vector<std::string>& statuses)
{
    for (const char* s : {"fail", "error", "warn", "pass"})
        if (std::find(statuses.begin(), statuses.end(), s) != statuses.end())
            return s;
    return "none";
}

} // namespace

std::string RawMessage::Field::value() const
{
    const auto colon = raw.find(':');
    return colon == std::string::npos ? std::string() : std::string(text::trim(unfold(raw.substr(colon + 1))));
}

RawMessage splitMessage(std::string_view bytes)
{
    RawMessage m;
    // Line ends to CRLF: DKIM hashes the message as it crossed SMTP.
    std::string s;
    s.reserve(bytes.size() + bytes.size() / 32);
    // A lone CR (old Mac text, some pastes) ends a line as well.
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r'))
            s += '\r';
        s += bytes[i];
        if (bytes[i] == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n'))
            s += '\n';
    }
    std::size_t pos = 0;
    while (s.compare(pos, 2, "\r\n") == 0)
        pos += 2;
    if (s.compare(pos, 5, "From ") == 0) {
        const auto eol = s.find("\r\n", pos);
        pos = eol == std::string::npos ? s.size() : eol + 2;
    }
    // A whole "Show original" page copied (Gmail puts a summary table — "Message ID", "SPF:
    // PASS with IP …", "Download Original" — above the message): when the text does not start
    // with a header line, start at the first line that begins a received message's header block.
    auto isHeaderLine = [&](std::size_t at) {
        const auto eol = std::min(s.find("\r\n", at), s.size());
        const auto colon = s.find(':', at);
        return colon != std::string::npos && colon > at && colon < eol && s.find_first_of(" \t", at) >= colon;
    };
    if (pos < s.size() && !isHeaderLine(pos)) {
        std::size_t best = std::string::npos;
        for (const char* name : {"\r\nDelivered-To:", "\r\nReceived:", "\r\nReturn-Path:", "\r\nARC-Seal:",
                                 "\r\nX-Received:", "\r\nAuthentication-Results:", "\r\nDKIM-Signature:"})
            best = std::min(best, s.find(name, pos));
        if (best != std::string::npos)
            pos = best + 2;
    }
    while (pos < s.size()) {
        if (s.compare(pos, 2, "\r\n") == 0) {
            m.hasBody = true;
            m.body = s.substr(pos + 2);
            break;
        }
        auto eol = s.find("\r\n", pos);
        while (eol != std::string::npos && eol + 2 < s.size() && isWsp(s[eol + 2]))
            eol = s.find("\r\n", eol + 2);
        if (eol == std::string::npos)
            eol = s.size();
        const std::string raw = s.substr(pos, eol - pos);
        const auto colon = raw.find(':');
        // A line without a colon ends the header block (a pasted text after headers-only input).
        if (colon == std::string::npos || colon == 0 || raw.find_first_of(" \t") < colon) {
            m.hasBody = true;
            m.body = s.substr(pos);
            break;
        }
        m.fields.push_back({raw.substr(0, colon), raw});
        pos = eol + 2;
    }
    return m;
}

std::string canonicalBody(std::string_view body, std::string_view method)
{
    std::string out;
    if (method == "relaxed") {
        // Per line: whitespace runs become one space, trailing whitespace goes.
        out.reserve(body.size());
        std::size_t pos = 0;
        while (pos < body.size()) {
            auto eol = body.find("\r\n", pos);
            const bool hasEol = eol != std::string_view::npos;
            if (!hasEol)
                eol = body.size();
            std::string line;
            bool space = false;
            for (std::size_t i = pos; i < eol; ++i) {
                if (isWsp(body[i])) {
                    space = true;
                    continue;
                }
                if (space) // inner and leading runs become one space; a trailing run is dropped
                    line += ' ';
                space = false;
                line += body[i];
            }
            out += line;
            out += "\r\n";
            pos = hasEol ? eol + 2 : body.size();
        }
    } else {
        out.assign(body);
        if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0))
            out += "\r\n";
    }
    // Empty lines at the end go (both methods); simple keeps one CRLF for an empty body.
    while (out.size() >= 4 && out.compare(out.size() - 4, 4, "\r\n\r\n") == 0)
        out.resize(out.size() - 2);
    if (out == "\r\n")
        out.clear();
    if (method != "relaxed" && out.empty())
        out = "\r\n";
    return out;
}

std::string canonicalHeader(std::string_view rawField, std::string_view method)
{
    if (method != "relaxed")
        return std::string(rawField) + "\r\n";
    const auto colon = rawField.find(':');
    std::string name = text::toLower(text::trim(rawField.substr(0, colon)));
    std::string value;
    bool space = false;
    for (char c : colon == std::string_view::npos ? std::string_view() : rawField.substr(colon + 1)) {
        if (c == '\r' || c == '\n')
            continue;
        if (isWsp(c)) {
            space = true;
            continue;
        }
        if (space && !value.empty())
            value += ' ';
        space = false;
        value += c;
    }
    return name + ":" + value + "\r\n";
}

TesterReport testMessage(std::string_view message, const TesterOptions& options)
{
    const RawMessage m = splitMessage(message);
    if (m.fields.empty())
        throw TesterInputError("no header block: a received message starts with its headers (Received:, From: …)");
    TesterReport report;
    const std::int64_t now = options.now ? options.now : std::int64_t(std::time(nullptr));
    report.checkedAt = std::int64_t(std::time(nullptr));
    auto header = [&](std::string_view name) -> const RawMessage::Field* {
        for (const auto& f : m.fields)
            if (text::toLower(f.name) == text::toLower(name))
                return &f;
        return nullptr;
    };
    auto count = [&](std::string_view name) {
        return std::count_if(m.fields.begin(), m.fields.end(),
                             [&](const RawMessage::Field& f) { return text::toLower(f.name) == text::toLower(name); });
    };
    std::vector<TesterCheck> checks;

    // ---- Received chain → the connecting IP ----
    std::vector<Hop> hops;
    for (const auto& f : m.fields)
        if (text::toLower(f.name) == "received")
            hops.push_back(parseReceived(f.value()));
    std::string receiverOrg;
    for (const auto& h : hops)
        if (looksLikeHostName(h.by)) {
            report.receiver = h.by;
            receiverOrg = organizationalDomain(h.by);
            break;
        }
    const Hop* connecting = nullptr;
    for (const auto& h : hops) {
        if (!h.hasFrom || h.ip.empty())
            continue;
        const bool byReceiver = !looksLikeHostName(h.by) || organizationalDomain(h.by) == receiverOrg;
        if (!byReceiver)
            break; // below the receiver's hops: the sender's own relays
        if (isPrivateIp(h.ip))
            continue;
        const std::string name = !h.rdns.empty() ? h.rdns : h.helo;
        if (!receiverOrg.empty() && looksLikeHostName(name) && organizationalDomain(name) == receiverOrg)
            continue; // one of the receiver's own relays handing it on
        connecting = &h;
        break;
    }
    {
        TesterCheck c;
        c.id = "received";
        if (connecting) {
            report.ip = connecting->ip;
            report.ipHeader = "Received: " + connecting->raw;
            c.status = "pass";
            c.detail = "The message came from " + connecting->ip
                + (connecting->rdns.empty() ? std::string() : " (" + connecting->rdns + ")") + " into "
                + (connecting->by.empty() ? std::string("the receiver") : connecting->by)
                + ", the first hop outside the receiver's servers.";
            c.evidence = report.ipHeader;
            // Receivers also write the IP they checked SPF for: said when it differs.
            if (const auto* rs = header("Received-SPF")) {
                const auto v = rs->value();
                if (const auto ci = text::findNoCase(v, "client-ip="); ci != std::string::npos) {
                    std::string ip = v.substr(ci + 10);
                    ip = ip.substr(0, ip.find_first_of("; "));
                    if (ip != report.ip)
                        c.evidence += "\nReceived-SPF names client-ip=" + ip + ": " + clipped(v, 200);
                }
            }
        } else {
            c.status = "warn";
            c.detail = hops.empty() ? "The input has no Received header, so the sending IP is unknown: paste the "
                                      "message as received, with all its headers."
                                    : "No Received header names a public IP outside the receiver's servers.";
            for (const auto& h : hops)
                c.evidence += (c.evidence.empty() ? "" : "\n") + clipped("Received: " + h.raw, 240);
        }
        checks.push_back(c);
    }

    // ---- identities ----
    const auto* fromField = header("From");
    report.fromDomain = fromField ? domainOf(fromField->value()) : std::string();
    if (const auto* rp = header("Return-Path")) {
        report.mailFrom = addressOf(rp->value());
    }
    std::string mailFromDomain = domainOf(report.mailFrom);
    if (mailFromDomain.empty() && connecting && looksLikeHostName(connecting->helo))
        mailFromDomain = connecting->helo; // null sender: SPF checks the HELO name (RFC 7208 2.4)

    // ---- the receiver's own Authentication-Results ----
    {
        TesterCheck c;
        c.id = "receiver_results";
        const RawMessage::Field* ar = nullptr;
        for (const auto& f : m.fields)
            if (text::toLower(f.name) == "authentication-results") {
                ar = &f;
                break; // the topmost: the receiver adds its own above everything it received
            }
        if (!ar) {
            c.status = "none";
            c.detail = "No Authentication-Results header: the receiver's own verdict is not in the input.";
        } else {
            const auto results = parseAuthenticationResults(ar->value());
            std::vector<std::string> statuses;
            std::string words;
            for (const char* method : {"spf", "dkim", "dmarc", "arc"})
                if (const auto* r = results.find(method)) {
                    words += (words.empty() ? "" : ", ") + std::string(method) + "=" + r->result;
                    statuses.push_back(r->result == "pass"                                  ? "pass"
                                           : r->result == "fail" || r->result == "softfail" ? "fail"
                                                                                            : "warn");
                }
            c.status = statuses.empty() ? "none" : worst(statuses);
            c.detail = "The receiver (" + (results.authServId.empty() ? std::string("unnamed") : results.authServId)
                + ") recorded " + (words.empty() ? std::string("no SPF, DKIM or DMARC result") : words) + ".";
            c.evidence = clipped("Authentication-Results: " + unfold(ar->value()), 600);
        }
        checks.push_back(c);
    }

    // ---- DNS ----
    std::unique_ptr<dns::Resolver> resolver;
    std::string dnsProblem;
    const auto deadline
        = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(100, options.deadlineMs));
    if (!options.offline) {
        dns::Options o;
        o.server = options.dnsServer;
        o.timeoutMs = std::max(50, options.timeoutMs);
        o.deadline = deadline;
        try {
            resolver = std::make_unique<dns::Resolver>(o);
            report.dnsServer = resolver->serverDescription();
        } catch (const std::exception& e) {
            dnsProblem = e.what();
        }
    }
    const bool live = resolver != nullptr;
    report.dnsError = dnsProblem;
    // Without DNS by choice the live checks are "none"; when DNS was wanted but could not start
    // they are "error": something the user asked for did not happen.
    const char* noDnsStatus = options.offline ? "none" : "error";
    const std::string noDns = options.offline ? "not checked: the test ran without DNS"
                                              : "not checked: DNS could not start (" + dnsProblem + ")";
    CheckOptions co;
    co.dnsServer = options.dnsServer;
    co.timeoutMs = options.timeoutMs;
    co.deadlineMs = options.deadlineMs;
    co.deadline = deadline;
    co.knowledge = options.knowledge;
    co.blocklistZones = options.blocklistZones;

    // ---- DKIM, one entry per signature ----
    std::vector<DkimOutcome> dkim;
    for (std::size_t i = 0; i < m.fields.size(); ++i)
        if (text::toLower(m.fields[i].name) == "dkim-signature")
            dkim.push_back(verifyDkim(m, i, resolver.get(), now, noDnsStatus));
    if (dkim.empty()) {
        TesterCheck c;
        c.id = "dkim";
        c.status = "fail";
        c.detail = "The message has no DKIM-Signature: Gmail and Yahoo require bulk mail to be signed.";
        checks.push_back(c);
    }
    for (const auto& d : dkim)
        checks.push_back(d.check);

    // ---- SPF and PTR (and the IP's and envelope domain's blocklists) ----
    std::optional<CheckReport> ipReport;
    if (live && !report.ip.empty()) {
        co.blocklists = true;
        ipReport = runChecks({mailFromDomain, report.ip, report.mailFrom, {}}, co);
    }
    bool spfPass = false;
    bool spfError = false;
    {
        TesterCheck c;
        c.id = "spf";
        if (report.ip.empty()) {
            c.status = "none";
            c.detail = "Not evaluated: no connecting IP was found in the Received chain.";
        } else if (mailFromDomain.empty()) {
            c.status = "none";
            c.detail = "Not evaluated: no Return-Path (MAIL FROM) in the input.";
        } else if (!live) {
            c.status = noDnsStatus;
            c.detail = "SPF of " + mailFromDomain + " for " + report.ip + " " + noDns + ".";
        } else if (!ipReport->error.empty() || !ipReport->spf) {
            c.status = "error";
            c.detail = "SPF could not be evaluated: " + ipReport->error;
        } else {
            const auto& s = *ipReport->spf;
            const std::string r = s.result.value_or("none");
            spfPass = r == "pass";
            spfError = r == "temperror";
            c.status = r == "pass"                ? "pass"
                : r == "fail" || r == "permerror" ? "fail"
                : r == "temperror"                ? "error"
                                                  : "warn";
            c.detail
                = s.sentence + " (" + r + ", MAIL FROM " + (report.mailFrom.empty() ? "<>" : report.mailFrom) + ").";
            c.evidence = "TXT " + mailFromDomain + " → " + (s.record.empty() ? s.status : s.record) + " "
                + sourceEvidence(s.source) + (s.matched.empty() ? "" : "\nmatched: " + s.matched)
                + (s.reason.empty() ? "" : "\n" + s.reason);
        }
        checks.push_back(c);
    }

    // ---- DMARC and alignment ----
    std::optional<DmarcCheck> dmarcRecord;
    if (live && !report.fromDomain.empty()) {
        if (ipReport && mailFromDomain == report.fromDomain && ipReport->dmarc)
            dmarcRecord = ipReport->dmarc;
        else {
            co.blocklists = false;
            auto r = runChecks({report.fromDomain, {}, {}, {}}, co);
            dmarcRecord = r.dmarc;
        }
    }
    const bool haveRecord = dmarcRecord && dmarcRecord->status == "ok" && !dmarcRecord->policy.empty();
    const bool strictDkim = haveRecord && dmarcRecord->adkim == "s";
    const bool strictSpf = haveRecord && dmarcRecord->aspf == "s";
    {
        TesterCheck c;
        c.id = "alignment";
        if (report.fromDomain.empty()) {
            c.status = "fail";
            c.detail = "No From domain to align with.";
        } else {
            std::vector<std::string> parts;
            bool any = false;
            auto describe = [&](const std::string& what, const std::string& domain, bool strict) {
                if (domain.empty())
                    return;
                const bool relaxedOk = aligned(domain, report.fromDomain, false);
                const bool strictOk = aligned(domain, report.fromDomain, true);
                const bool ok = strict ? strictOk : relaxedOk;
                any = any || ok;
                parts.push_back(what + " " + domain
                                + (strictOk        ? " is aligned strictly"
                                       : relaxedOk ? " is aligned relaxed only"
                                                   : " is not aligned")
                                + (strict ? " (the DMARC record asks strict)" : ""));
            };
            describe("Return-Path", domainOf(report.mailFrom), strictSpf);
            for (const auto& d : dkim)
                describe("DKIM d=", d.domain, strictDkim);
            c.status = parts.empty() ? "fail" : any ? "pass" : "fail";
            c.detail = parts.empty()
                ? "Neither a Return-Path nor a DKIM signature to align with From " + report.fromDomain + "."
                : "With From " + report.fromDomain + ": ";
            for (std::size_t i = 0; i < parts.size(); ++i)
                c.detail += (i ? "; " : "") + parts[i];
            if (!parts.empty())
                c.detail += ".";
            c.evidence = (fromField ? "From: " + fromField->value() : std::string())
                + (report.mailFrom.empty() ? "" : "\nReturn-Path: <" + report.mailFrom + ">");
            for (const auto& d : dkim)
                c.evidence += "\nDKIM-Signature d=" + d.domain + " s=" + d.check.selector;
        }
        checks.push_back(c);
    }
    {
        TesterCheck c;
        c.id = "dmarc";
        if (report.fromDomain.empty()) {
            c.status = "fail";
            c.detail = "No From domain: DMARC cannot apply.";
        } else if (!live) {
            c.status = noDnsStatus;
            c.detail = "DMARC of " + report.fromDomain + " " + noDns + ".";
        } else if (!dmarcRecord) {
            c.status = "error";
            c.detail = "DMARC of " + report.fromDomain + " could not be read.";
        } else if (!haveRecord) {
            const auto& d = *dmarcRecord;
            const bool dnsTrouble
                = d.status == "servfail" || d.status == "timeout" || (d.status == "error" && d.foundAt.empty());
            c.status = dnsTrouble ? "error" : (d.status == "none" || d.status == "nxdomain") ? "warn" : "fail";
            c.detail = d.sentence + (c.status == "warn" ? " (Gmail and Yahoo require one of bulk senders)." : ".");
            c.evidence = (d.record.empty() ? "TXT _dmarc." + report.fromDomain + " → " + d.status
                                           : "TXT " + d.foundAt + " → " + d.record)
                + " " + sourceEvidence(d.source);
        } else {
            const auto& d = *dmarcRecord;
            std::string via;
            bool dkimAligned = false;
            for (const auto& s : dkim)
                if (s.pass && aligned(s.domain, report.fromDomain, strictDkim) && !dkimAligned) {
                    dkimAligned = true;
                    via = "DKIM (d=" + s.domain + ")";
                }
            const bool spfAligned = spfPass && aligned(domainOf(report.mailFrom), report.fromDomain, strictSpf);
            if (spfAligned)
                via += (via.empty() ? "" : " and ") + std::string("SPF (") + domainOf(report.mailFrom) + ")";
            const std::string policy = d.organizational && d.subdomainPolicy != d.policy
                    && report.fromDomain != organizationalDomain(report.fromDomain)
                ? d.subdomainPolicy
                : d.policy;
            const bool dkimError
                = std::any_of(dkim.begin(), dkim.end(), [](const DkimOutcome& o) { return o.check.status == "error"; });
            if (dkimAligned || spfAligned) {
                c.status = "pass";
                c.detail = "DMARC passes for " + report.fromDomain + " through " + via + " (adkim=" + d.adkim
                    + ", aspf=" + d.aspf + ", p=" + policy + ").";
            } else if (dkimError || spfError) {
                c.status = "error";
                c.detail = "DMARC could not be decided: a DNS answer it needs is missing.";
            } else {
                c.status = "fail";
                c.detail = "DMARC fails for " + report.fromDomain + ": no SPF or DKIM pass aligned with it (adkim="
                    + d.adkim + ", aspf=" + d.aspf + "); its policy p=" + policy
                    + (policy == "reject"           ? " asks receivers to reject it."
                           : policy == "quarantine" ? " asks receivers to put it in spam."
                                                    : " asks nothing of receivers.");
            }
            c.evidence = "TXT " + d.foundAt + " → " + d.record + " " + sourceEvidence(d.source);
        }
        checks.push_back(c);
    }

    // ---- PTR ----
    {
        TesterCheck c;
        c.id = "ptr";
        if (report.ip.empty()) {
            c.status = "none";
            c.detail = "No connecting IP to look up.";
        } else if (!live) {
            c.status = noDnsStatus;
            c.detail = "PTR of " + report.ip + " " + noDns + ".";
        } else if (!ipReport->ptr) {
            c.status = "error";
            c.detail = "PTR of " + report.ip + " could not be read: " + ipReport->error;
        } else {
            const auto& p = *ipReport->ptr;
            c.status = p.status == "ok"                          ? (p.forwardConfirmed ? "pass" : "fail")
                : (p.status == "none" || p.status == "nxdomain") ? "fail"
                                                                 : "error";
            c.detail = p.sentence + ".";
            c.evidence = "PTR " + dns::reverseName(report.ip)
                + (report.ip.find(':') == std::string::npos ? ".in-addr.arpa" : ".ip6.arpa") + " → "
                + (p.names.empty() ? p.status : p.names.front()) + " " + sourceEvidence(p.source);
        }
        checks.push_back(c);
    }

    // ---- blocklists: the IP (and envelope domain), then the domains of the links ----
    {
        TesterCheck c;
        c.id = "blocklists";
        std::vector<BlocklistCheck> all;
        if (ipReport)
            all = ipReport->blocklists;
        const auto links = linkDomains(message);
        if (live) {
            co.blocklists = true;
            co.domainRecords = false;
            for (const auto& d : links) {
                if (d == organizationalDomain(mailFromDomain))
                    continue; // asked already with the IP, as the envelope domain
                const auto r = runChecks({d, {}, {}, {}}, co);
                all.insert(all.end(), r.blocklists.begin(), r.blocklists.end());
            }
        }
        if (!live) {
            c.status = noDnsStatus;
            c.detail = "Blocklists " + noDns + ".";
        } else if (all.empty()) {
            c.status = "none";
            c.detail = "Nothing to look up: no connecting IP and no links.";
        } else {
            int listed = 0, clean = 0, unchecked = 0;
            std::string listedWords;
            for (const auto& b : all) {
                if (b.listed) {
                    ++listed;
                    listedWords += (listedWords.empty() ? "" : "; ") + b.sentence;
                } else if (b.status == "nxdomain" || b.status == "none")
                    ++clean;
                else
                    ++unchecked;
                c.evidence += (c.evidence.empty() ? "" : "\n") + std::string("A ") + b.query + " → "
                    + (b.codes.empty() ? b.status : b.codes.front()) + " " + sourceEvidence(b.source);
            }
            const std::string subjects = (report.ip.empty() ? std::string() : report.ip)
                + (links.empty() ? std::string()
                                 : (report.ip.empty() ? "" : " and ") + std::to_string(links.size()) + " link domain"
                           + (links.size() == 1 ? "" : "s"));
            c.status = listed ? "fail" : unchecked ? "error" : "pass";
            c.detail = listed ? listedWords + "."
                : unchecked   ? std::to_string(unchecked) + " of " + std::to_string(all.size())
                    + " blocklist lookups could not be answered (or the resolver's answers cannot be trusted); not "
                      "listed on the other "
                    + std::to_string(clean) + "."
                            : subjects + (all.size() == 1 ? " is" : " are") + " on none of the "
                    + std::to_string(all.size()) + " blocklist lookups.";
        }
        checks.push_back(c);
    }

    // ---- List-Unsubscribe (RFC 2369, RFC 8058) ----
    {
        TesterCheck c;
        c.id = "list_unsubscribe";
        const auto* lu = header("List-Unsubscribe");
        const auto* post = header("List-Unsubscribe-Post");
        const bool bulk = header("List-Id") || header("Feedback-ID") || header("List-Unsubscribe")
            || (header("Precedence")
                && (text::toLower(header("Precedence")->value()) == "bulk"
                    || text::toLower(header("Precedence")->value()) == "list"));
        if (!lu) {
            c.status = bulk ? "warn" : "none";
            c.detail = bulk ? "Bulk mail (List-Id, Feedback-ID or Precedence) without List-Unsubscribe: Gmail and "
                              "Yahoo require a one-click unsubscribe of bulk senders."
                            : "No List-Unsubscribe header (only needed for bulk mail).";
        } else {
            const std::string v = lu->value();
            const bool https = text::findNoCase(v, "<https://") != std::string::npos;
            const bool http = text::findNoCase(v, "<http://") != std::string::npos;
            const bool mailto = text::findNoCase(v, "<mailto:") != std::string::npos;
            const bool oneClick = post && removeWhitespace(post->value()) == "List-Unsubscribe=One-Click";
            // RFC 8058 3.3: both headers must be covered by a valid DKIM signature.
            bool signedBoth = false;
            for (const auto& d : dkim)
                if (d.pass && std::count(d.signedHeaders.begin(), d.signedHeaders.end(), "list-unsubscribe")
                    && std::count(d.signedHeaders.begin(), d.signedHeaders.end(), "list-unsubscribe-post"))
                    signedBoth = true;
            std::string kinds = std::string(https ? "https" : "")
                + (http ? std::string(https ? ", " : "") + "http" : "")
                + (mailto ? std::string(https || http ? " and " : "") + "mailto" : "");
            if (kinds.empty())
                kinds = "no <https:> or <mailto:> URI";
            if (oneClick && https && (signedBoth || !live)) {
                c.status = "pass";
                c.detail = "List-Unsubscribe offers " + kinds
                    + " with List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058)"
                    + (signedBoth ? ", both covered by a valid DKIM signature."
                                  : "; DKIM coverage not verified (no DNS).");
            } else if (oneClick && https) {
                c.status = "warn";
                c.detail = "One-click unsubscribe is offered (RFC 8058), but no valid DKIM signature covers both "
                           "List-Unsubscribe and List-Unsubscribe-Post, as RFC 8058 requires.";
            } else {
                c.status = "warn";
                c.detail = "List-Unsubscribe offers " + kinds
                    + (post ? " but List-Unsubscribe-Post is not \"List-Unsubscribe=One-Click\""
                            : " without List-Unsubscribe-Post")
                    + (https ? "" : " and no https URI")
                    + ": Gmail and Yahoo require one-click unsubscribe (RFC 8058) of bulk senders.";
            }
            c.evidence = clipped("List-Unsubscribe: " + v, 300)
                + (post ? "\nList-Unsubscribe-Post: " + post->value() : std::string());
        }
        checks.push_back(c);
    }

    // ---- Message-ID, Date, From ----
    {
        TesterCheck c;
        c.id = "message_id";
        const auto n = count("Message-ID");
        if (n == 0) {
            c.status = "fail";
            c.detail = "The message has no Message-ID; Gmail rejects such mail as not RFC 5322 compliant.";
        } else {
            const std::string v = header("Message-ID")->value();
            const std::string problem = messageIdProblem(v);
            c.status = n > 1 ? "fail" : problem.empty() ? "pass" : "fail";
            c.detail = n > 1      ? "The message has " + std::to_string(n) + " Message-ID headers; RFC 5322 allows one."
                : problem.empty() ? "The Message-ID is well formed (RFC 5322 3.6.4)."
                                  : "The Message-ID is malformed: " + problem + " (RFC 5322 3.6.4).";
            c.evidence = "Message-ID: " + clipped(v, 200);
        }
        checks.push_back(c);
    }
    {
        TesterCheck c;
        c.id = "date";
        const auto n = count("Date");
        if (n == 0) {
            c.status = "fail";
            c.detail = "The message has no Date header, which RFC 5322 requires.";
        } else {
            const std::string v = header("Date")->value();
            const auto d = parseDate(v);
            c.evidence = "Date: " + clipped(v, 200);
            if (n > 1) {
                c.status = "fail";
                c.detail = "The message has " + std::to_string(n) + " Date headers; RFC 5322 allows one.";
            } else if (!d.ok) {
                c.status = "fail";
                c.detail = "The Date is not RFC 5322 syntax: " + d.problem + ".";
            } else if (d.time > now + 15 * 60) {
                c.status = "fail";
                c.detail = "The Date is in the future (" + text::isoUtc(d.time) + ", checked at " + text::isoUtc(now)
                    + "): the sender's clock is wrong.";
            } else if (d.obsolete) {
                c.status = "warn";
                c.detail = "The Date uses an obsolete zone name; write a numeric zone such as +0000 (RFC 5322 4.3).";
            } else {
                c.status = "pass";
                c.detail = "The Date is RFC 5322 syntax (" + text::isoUtc(d.time) + ") and not in the future.";
            }
        }
        checks.push_back(c);
    }
    {
        TesterCheck c;
        c.id = "from";
        const auto n = count("From");
        if (n != 1) {
            c.status = "fail";
            c.detail = n == 0
                ? "The message has no From header."
                : "The message has " + std::to_string(n) + " From headers; receivers reject that (RFC 5322, DMARC).";
        } else {
            const std::string v = fromField->value();
            c.evidence = "From: " + clipped(v, 200);
            const bool several = std::count(v.begin(), v.end(), '@') > 1 && v.find(',') != std::string::npos;
            c.status = report.fromDomain.empty() || several ? "fail" : "pass";
            c.detail = report.fromDomain.empty() ? "The From header holds no address with a domain."
                : several                        ? "The From header names several addresses; DMARC cannot apply to it."
                                                 : "From has one address at " + report.fromDomain + ".";
        }
        checks.push_back(c);
    }

    // ---- TLS per hop ----
    {
        TesterCheck c;
        c.id = "tls";
        int network = 0, plain = 0;
        bool connectingTls = false;
        for (const auto& h : hops) {
            if (!h.hasFrom || h.ip.empty())
                continue;
            if (isPrivateIp(h.ip)) { // inside one host or one site: not what receivers judge
                c.evidence += (c.evidence.empty() ? "" : "\n") + std::string("internal: from ") + h.ip + " by " + h.by
                    + (h.with.empty() ? "" : " with " + h.with);
                continue;
            }
            ++network;
            if (!h.tls)
                ++plain;
            if (&h == connecting)
                connectingTls = h.tls;
            c.evidence += (c.evidence.empty() ? "" : "\n") + std::string(h.tls ? "TLS:    " : "no TLS: ") + "from "
                + (h.rdns.empty() ? h.helo : h.rdns) + " [" + h.ip + "] by " + h.by
                + (h.with.empty() ? "" : " with " + h.with);
        }
        if (network == 0) {
            c.status = "none";
            c.detail = "No Received hop between servers to judge.";
        } else if (plain == 0) {
            c.status = "pass";
            c.detail = network == 1
                ? "The hop between servers says it used TLS."
                : "Every one of the " + std::to_string(network) + " hops between servers says it used TLS.";
        } else {
            c.status = "warn";
            c.detail = std::to_string(plain) + " of " + std::to_string(network) + " hops between servers say no TLS"
                + (connecting && !connectingTls ? ", including the one into the receiver" : "") + ".";
        }
        checks.push_back(c);
    }
    {
        TesterCheck arc = checkArc(m);
        checks.insert(checks.begin() + 2 + std::ptrdiff_t(std::max<std::size_t>(dkim.size(), 1)), arc);
    }
    report.checks = std::move(checks);
    return report;
}

std::string toJson(const TesterReport& r)
{
    ojson j;
    j["ip"] = r.ip.empty() ? ojson() : ojson(r.ip);
    j["from_domain"] = r.fromDomain.empty() ? ojson() : ojson(r.fromDomain);
    j["mail_from"] = r.mailFrom.empty() ? ojson() : ojson(r.mailFrom);
    j["receiver"] = r.receiver.empty() ? ojson() : ojson(r.receiver);
    j["dns_server"] = r.dnsServer.empty() ? ojson() : ojson(r.dnsServer);
    j["checked_at"] = text::isoUtc(r.checkedAt);
    ojson checks = ojson::array();
    for (const auto& c : r.checks) {
        ojson o;
        o["id"] = c.id;
        o["status"] = c.status;
        o["detail"] = c.detail;
        o["evidence"] = c.evidence;
        if (c.id == "dkim") {
            o["domain"] = c.domain;
            o["selector"] = c.selector;
        }
        checks.push_back(std::move(o));
    }
    j["checks"] = std::move(checks);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string toText(const TesterReport& r)
{
    std::string out = "Connecting IP: " + (r.ip.empty() ? std::string("(not found)") : r.ip)
        + "   From domain: " + (r.fromDomain.empty() ? std::string("(none)") : r.fromDomain) + "\n" + "DNS: "
        + (r.dnsServer.empty() ? std::string("not used") : r.dnsServer) + ", " + text::isoUtc(r.checkedAt) + "\n";
    for (const auto& c : r.checks) {
        std::string id = c.id + (c.id == "dkim" && !c.domain.empty() ? " " + c.domain + "/" + c.selector : "");
        std::string status = "[" + c.status + "]";
        status.resize(8, ' ');
        id.resize(std::max<std::size_t>(id.size() + 1, 18), ' ');
        out += status + id + c.detail + "\n";
        std::size_t pos = 0;
        while (!c.evidence.empty() && pos <= c.evidence.size()) {
            auto eol = c.evidence.find('\n', pos);
            if (eol == std::string::npos)
                eol = c.evidence.size();
            out += "          " + c.evidence.substr(pos, eol - pos) + "\n";
            pos = eol + 1;
        }
    }
    return out;
}

} // namespace bt
