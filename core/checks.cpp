// SPDX-License-Identifier: MIT
#include "checks.h"

#include "alignment.h"
#include "dns.h"
#include "knowledge.h"
#include "spf.h"
#include "sqlite.h"
#include "text.h"
#include "workspace.h"

#include <arpa/inet.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>

namespace bt
{

namespace
{

using ojson = nlohmann::ordered_json;

dns::Status statusFromName(const std::string& s)
{
    for (auto st :
         {dns::Status::Ok, dns::Status::None, dns::Status::NxDomain, dns::Status::ServFail, dns::Status::Timeout})
        if (s == dns::statusName(st))
            return st;
    return dns::Status::Error;
}

/// The workspace's dns_cache table (schema step 2) behind the resolver's cache interface.
class WorkspaceCache : public dns::Cache
{
public:
    explicit WorkspaceCache(Workspace& ws)
        : m_ws(ws)
    {
    }

    std::optional<dns::Answer> get(const std::string& server, const std::string& name, dns::Type type,
                                   std::int64_t now) override
    {
        auto st = m_ws.db().prepare("SELECT status, detail, records, ttl, checked_at FROM dns_cache "
                                    "WHERE server = ? AND name = ? AND type = ? AND expires_at > ?");
        st.bind(1, server).bind(2, name).bind(3, std::string(dns::typeName(type))).bind(4, now);
        if (!st.step())
            return std::nullopt;
        dns::Answer a;
        a.name = name;
        a.type = type;
        a.server = server;
        a.status = statusFromName(st.text(0));
        a.detail = st.text(1);
        const auto records = nlohmann::json::parse(st.text(2), nullptr, false);
        if (records.is_array())
            for (const auto& r : records)
                if (r.is_array() && r.size() == 3)
                    a.records.push_back({r[0].get<std::string>(), r[1].get<int>(), r[2].get<std::uint32_t>()});
        a.ttl = std::uint32_t(st.int64(3));
        a.checkedAt = st.int64(4);
        return a;
    }

    void put(const dns::Answer& a) override
    {
        nlohmann::json records = nlohmann::json::array();
        for (const auto& r : a.records)
            records.push_back({r.value, r.preference, r.ttl});
        auto st = m_ws.db().prepare("INSERT OR REPLACE INTO dns_cache(server, name, type, status, detail, records, "
                                    "ttl, checked_at, expires_at) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, a.server)
            .bind(2, a.name)
            .bind(3, std::string(dns::typeName(a.type)))
            .bind(4, std::string(dns::statusName(a.status)))
            .bind(5, a.detail)
            .bind(6, records.dump())
            .bind(7, std::int64_t(a.ttl))
            .bind(8, a.checkedAt)
            .bind(9, a.checkedAt + std::int64_t(a.ttl));
        st.run();
    }

private:
    Workspace& m_ws;
};

CheckSource sourceOf(const std::vector<dns::Answer>& answers, const std::string& server)
{
    CheckSource s;
    s.server = server;
    s.cached = !answers.empty();
    for (const auto& a : answers) {
        s.cached = s.cached && a.cached;
        if (a.checkedAt && (s.checkedAt == 0 || a.checkedAt < s.checkedAt))
            s.checkedAt = a.checkedAt;
    }
    if (s.checkedAt == 0)
        s.checkedAt = std::time(nullptr);
    return s;
}

std::string statusText(const dns::Answer& a)
{
    return std::string(dns::statusName(a.status)) + (a.detail.empty() ? "" : ": " + a.detail);
}

// ---- DMARC (RFC 7489 6.3) ----

std::vector<std::pair<std::string, std::string>> tags(const std::string& record)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t pos = 0;
    while (pos <= record.size()) {
        auto end = record.find(';', pos);
        if (end == std::string::npos)
            end = record.size();
        const std::string item = record.substr(pos, end - pos);
        const auto eq = item.find('=');
        if (eq != std::string::npos)
            out.emplace_back(text::toLower(text::trim(item.substr(0, eq))),
                             std::string(text::trim(item.substr(eq + 1))));
        pos = end + 1;
    }
    return out;
}

std::vector<std::string> dmarcRecords(const dns::Answer& a)
{
    std::vector<std::string> out;
    for (const auto& r : a.records) {
        const auto t = tags(r.value);
        if (!t.empty() && t.front().first == "v" && t.front().second == "DMARC1")
            out.push_back(r.value);
    }
    return out;
}

bool isDmarcPolicy(const std::string& p)
{
    return p == "none" || p == "quarantine" || p == "reject";
}

/// A reporting URI as RFC 7489 6.2 wants it: a scheme ("mailto:") and something after it.
bool isReportUri(const std::string& uri)
{
    const auto colon = uri.find(':');
    if (colon == 0 || colon == std::string::npos || colon + 1 >= uri.size())
        return false;
    return std::all_of(uri.begin(), uri.begin() + std::ptrdiff_t(colon), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '-'
            || c == '.';
    });
}

void fillDmarc(DmarcCheck& d, const std::string& record)
{
    d.record = record;
    bool hasSp = false;
    for (const auto& [k, v] : tags(record)) {
        if (k == "p") {
            d.policy = text::toLower(v);
        } else if (k == "sp") {
            d.subdomainPolicy = text::toLower(v);
            hasSp = true;
        } else if (k == "adkim")
            d.adkim = text::toLower(v);
        else if (k == "aspf")
            d.aspf = text::toLower(v);
        else if (k == "pct") {
            // RFC 7489 6.3: an integer from 0 to 100. Anything else ("50%", "-5", "1e9", "250")
            // is a syntax error that receivers replace with the default, 100, so the check
            // reports what they apply and says why.
            int n = -1;
            const auto* end = v.data() + v.size();
            const auto [ptr, ec] = std::from_chars(v.data(), end, n);
            if (ec == std::errc() && ptr == end && n >= 0 && n <= 100)
                d.pct = n;
            else {
                d.pct = 100;
                d.ignoredPct = v;
            }
        } else if (k == "rua") {
            std::size_t pos = 0;
            while (pos <= v.size()) {
                auto end = v.find(',', pos);
                if (end == std::string::npos)
                    end = v.size();
                if (auto u = std::string(text::trim(v.substr(pos, end - pos))); !u.empty())
                    d.rua.push_back(u);
                pos = end + 1;
            }
        }
    }
    // RFC 7489 6.6.3: a record without a valid p= (or with an invalid sp=) is read as p=none
    // when it names a valid rua= address, else it is not applied at all. The published words
    // are never reported as the policy.
    if (!isDmarcPolicy(d.policy) || (hasSp && !isDmarcPolicy(d.subdomainPolicy))) {
        d.valid = false;
        if (d.policy.empty())
            d.problem = "it has no p= tag";
        else if (!isDmarcPolicy(d.policy))
            d.problem = "p=" + d.policy + " is not none, quarantine or reject";
        else
            d.problem = "sp=" + d.subdomainPolicy + " is not none, quarantine or reject";
        const bool reports = std::any_of(d.rua.begin(), d.rua.end(), isReportUri);
        d.policy = reports ? "none" : "";
        d.subdomainPolicy = d.policy;
        return;
    }
    if (d.subdomainPolicy.empty())
        d.subdomainPolicy = d.policy;
}

// ---- DKIM key size ----

std::string base64Decode(const std::string& in)
{
    std::string out;
    int value = 0, bits = 0;
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
        else
            continue; // whitespace inside p= is allowed; '=' padding ends nothing we need
        value = (value << 6) | d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((value >> bits) & 0xff);
        }
    }
    return out;
}

/// Strict base64 (RFC 4648) with the folding whitespace DKIM allows inside p= (RFC 6376 3.6.1):
/// false for any other character, padding anywhere but at the end, or a length that is not a
/// whole number of 4-character groups.
bool base64Valid(const std::string& in)
{
    std::size_t count = 0, padding = 0;
    for (const unsigned char c : in) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        const bool alphabet
            = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
        if (c == '=')
            ++padding;
        else if (!alphabet || padding > 0)
            return false;
        ++count;
    }
    return count > 0 && padding <= 2 && count % 4 == 0;
}

// One DER element: tag, content start and length; false when it runs past the end.
bool derElement(const unsigned char*& p, const unsigned char* end, int& tag, const unsigned char*& content,
                std::size_t& len)
{
    if (end - p < 2)
        return false;
    tag = *p++;
    std::size_t l = *p++;
    if (l & 0x80) {
        const int n = int(l & 0x7f);
        if (n == 0 || n > 4 || end - p < n)
            return false;
        l = 0;
        for (int i = 0; i < n; ++i)
            l = (l << 8) | *p++;
    }
    if (std::size_t(end - p) < l)
        return false;
    content = p;
    len = l;
    p += l;
    return true;
}

// Modulus size of an RSA key given as SubjectPublicKeyInfo (what DKIM publishes) or PKCS#1.
int rsaBits(const std::string& der)
{
    auto* p = reinterpret_cast<const unsigned char*>(der.data());
    const auto* end = p + der.size();
    int tag;
    const unsigned char* c;
    std::size_t len;
    if (!derElement(p, end, tag, c, len) || tag != 0x30)
        return 0;
    const unsigned char* q = c;
    const unsigned char* qend = c + len;
    if (!derElement(q, qend, tag, c, len))
        return 0;
    if (tag == 0x30) { // AlgorithmIdentifier, then the key in a BIT STRING
        if (!derElement(q, qend, tag, c, len) || tag != 0x03 || len < 1)
            return 0;
        q = c + 1;
        qend = c + len;
        if (!derElement(q, qend, tag, c, len) || tag != 0x30)
            return 0;
        q = c;
        qend = c + len;
        if (!derElement(q, qend, tag, c, len))
            return 0;
    }
    if (tag != 0x02)
        return 0;
    while (len > 0 && *c == 0) {
        ++c;
        --len;
    }
    if (len == 0)
        return 0;
    int top = 0;
    for (unsigned v = *c; v; v >>= 1)
        ++top;
    return int((len - 1) * 8) + top;
}

// ---- blocklist codes ----

std::uint32_t ipv4Value(const std::string& s)
{
    in_addr a {};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1)
        return 0;
    return ntohl(a.s_addr);
}

const BlocklistCode* codeFor(const BlocklistInfo* info, const std::string& answer)
{
    if (!info)
        return nullptr;
    const auto v = ipv4Value(answer);
    for (const auto& c : info->codes) {
        const auto dash = c.code.find('-');
        if (dash == std::string::npos) {
            if (ipv4Value(c.code) == v)
                return &c;
        } else if (v >= ipv4Value(c.code.substr(0, dash)) && v <= ipv4Value(c.code.substr(dash + 1))) {
            return &c;
        }
    }
    return nullptr;
}

/// True when `answer` is a listing on the list (not a "query refused" code, in 127.0.0.0/8 when
/// the table does not know it: RFC 5782).
bool isListing(const BlocklistInfo* info, const std::string& answer)
{
    if (const auto* code = codeFor(info, answer))
        return code->listing;
    return (ipv4Value(answer) >> 24) == 127;
}

// A short label for the list ("Spamhaus ZEN (SBL)") from the first listing code's meaning.
std::string shortMeaning(const std::string& meaning)
{
    const auto colon = meaning.find(':');
    if (colon != std::string::npos && colon <= 12)
        return meaning.substr(0, colon);
    return {};
}

std::string joinHosts(const std::vector<MxHost>& hosts)
{
    std::string out;
    for (const auto& h : hosts)
        out += (out.empty() ? "" : ", ") + std::to_string(h.preference) + " " + h.host;
    return out;
}

std::string spfSentence(const SpfCheck& s, const std::string& domain, const std::string& ip)
{
    if (!s.result) {
        if (s.recordResult == "valid")
            return "SPF: " + domain + " has a valid record using " + std::to_string(s.lookups) + " of 10 DNS lookups";
        if (s.status == "nxdomain")
            return "SPF: " + domain + " does not exist";
        if (s.record.empty() && s.recordResult == "none")
            return "SPF: " + domain + " has no SPF record";
        return "SPF: " + domain + "'s record cannot be used (" + s.recordResult + "): " + s.reason;
    }
    const std::string& r = *s.result;
    const std::string term = s.matched.empty() ? std::string() : " (" + s.matched + ")";
    if (r == "pass")
        return "SPF: " + ip + " is permitted by " + domain + "'s record" + term;
    if (r == "fail")
        return "SPF: " + ip + " is not permitted by " + domain + "'s record" + term;
    if (r == "softfail")
        return "SPF: " + ip + " is not permitted by " + domain + "'s record, softly" + term + ": softfail";
    if (r == "neutral")
        return "SPF: " + domain + "'s record makes no assertion about " + ip + term + ": neutral";
    if (r == "none")
        return "SPF: " + domain + (s.status == "nxdomain" ? " does not exist" : " has no SPF record") + " (none)";
    if (r == "permerror")
        return "SPF: " + domain + "'s record is broken (permerror): " + s.reason;
    return "SPF: " + domain + " could not be evaluated (temperror): " + s.reason;
}

} // namespace

std::int64_t cachedAnswerCount(Workspace& workspace)
{
    auto st = workspace.db().prepare("SELECT COUNT(*) FROM dns_cache");
    return st.step() ? st.int64(0) : 0;
}

std::unique_ptr<dns::Cache> workspaceDnsCache(Workspace& workspace)
{
    return std::make_unique<WorkspaceCache>(workspace);
}

namespace
{

/// DMARC: the record at the exact name (its answer `exact`), then at the organisational domain
/// (RFC 7489 6.6.3).
DmarcCheck checkDmarc(dns::Resolver& resolver, const dns::Answer& exact, const std::string& domain,
                      const std::string& server)
{
    DmarcCheck d;
    std::vector<dns::Answer> used {exact};
    auto recs = dmarcRecords(exact);
    dns::Status st = exact.status;
    const std::string dmarcName = "_dmarc." + domain;
    std::string where = dmarcName;
    const std::string org = organizationalDomain(domain);
    if (recs.empty() && (st == dns::Status::Ok || st == dns::Status::None || st == dns::Status::NxDomain)
        && !org.empty() && org != domain) {
        const auto orgAnswer = resolver.query("_dmarc." + org, dns::Type::TXT);
        used.push_back(orgAnswer);
        recs = dmarcRecords(orgAnswer);
        st = orgAnswer.status;
        where = "_dmarc." + org;
        d.organizational = true;
    }
    if (recs.size() == 1)
        fillDmarc(d, recs.front());
    if (recs.size() == 1 && !d.valid) {
        d.status = "ok";
        d.foundAt = where;
        d.sentence = "DMARC: the record at " + where + " is invalid (" + d.problem + "); "
            + (d.policy.empty() ? "with no valid rua= address receivers apply no DMARC policy at all"
                                : "receivers read it as p=none because it names a rua= address")
            + " (RFC 7489 6.6.3)";
    } else if (recs.size() == 1) {
        d.status = "ok";
        d.foundAt = where;
        d.sentence = "DMARC: "
            + (d.organizational ? "no record at " + dmarcName + "; the organisational domain " + org + " publishes"
                                : domain + " publishes")
            + " p=" + (d.policy.empty() ? "?" : d.policy)
            + (d.subdomainPolicy != d.policy ? " sp=" + d.subdomainPolicy : "")
            + (d.pct != 100 ? " pct=" + std::to_string(d.pct) : "") + " at " + where
            + (d.ignoredPct.empty() ? ""
                                    : "; its pct=" + d.ignoredPct
                       + " is not a whole number from 0 to 100, so receivers apply it to every "
                         "message (pct=100, RFC 7489 6.3)");
    } else if (recs.size() > 1) {
        d.status = "error";
        d.foundAt = where;
        d.sentence = "DMARC: " + where + " has " + std::to_string(recs.size())
            + " DMARC records; receivers then apply none of them";
    } else {
        d.status = (st == dns::Status::Ok) ? "none" : dns::statusName(st);
        d.organizational = false;
        if (st == dns::Status::Ok || st == dns::Status::None || st == dns::Status::NxDomain)
            d.sentence = "DMARC: " + domain + " has no DMARC record"
                + (org.empty() || org == domain ? "" : " (nor has its organisational domain " + org + ")");
        else
            d.sentence = "DMARC: could not be read (" + statusText(used.back()) + ")";
    }
    d.source = sourceOf(used, server);
    return d;
}

/// The MX check from the answer for the domain's MX.
MxCheck readMx(const dns::Answer& mx, const std::string& domain, const std::string& server)
{
    MxCheck m;
    m.status = dns::statusName(mx.status);
    for (const auto& r : mx.records)
        m.hosts.push_back({r.preference, r.value});
    std::sort(m.hosts.begin(), m.hosts.end(), [](const MxHost& a, const MxHost& b) {
        return a.preference != b.preference ? a.preference < b.preference : a.host < b.host;
    });
    if (m.hosts.size() == 1 && (m.hosts[0].host.empty() || m.hosts[0].host == ".")) {
        m.nullMx = true;
        m.hosts.clear();
        m.sentence = "MX: " + domain + " publishes a null MX: it accepts no mail (RFC 7505)";
    } else if (mx.status == dns::Status::Ok) {
        m.sentence = "MX: " + domain + " → " + joinHosts(m.hosts);
    } else if (mx.status == dns::Status::None) {
        m.sentence = "MX: " + domain + " has no MX record (senders fall back to its address record)";
    } else if (mx.status == dns::Status::NxDomain) {
        m.sentence = "MX: " + domain + " does not exist (nxdomain)";
    } else {
        m.sentence = "MX: " + domain + " could not be looked up (" + statusText(mx) + ")";
    }
    m.source = sourceOf({mx}, server);
    return m;
}

/// One selector's DKIM check from the answer for its key record.
DkimCheck readDkimKey(const dns::Answer& a, const std::string& selector, const std::string& domain,
                      const std::string& server)
{
    DkimCheck k;
    k.selector = selector;
    k.name = a.name;
    k.status = dns::statusName(a.status);
    for (const auto& r : a.records) {
        const auto t = tags(r.value);
        const bool isKey = std::any_of(t.begin(), t.end(), [](const auto& kv) {
            return kv.first == "p" || (kv.first == "v" && kv.second == "DKIM1");
        });
        if (!isKey)
            continue;
        k.found = true;
        k.record = r.value;
        k.keyType = "rsa";
        std::string p;
        for (const auto& [key, value] : t) {
            if (key == "k")
                k.keyType = text::toLower(value);
            else if (key == "p")
                p = value;
        }
        k.revoked = text::trim(p).empty();
        if (!k.revoked) {
            // The key is what the record says only when p= decodes to one of its type.
            if (!base64Valid(p)) {
                k.problem = "p= is not valid base64";
            } else if (k.keyType == "rsa") {
                k.keyBits = rsaBits(base64Decode(p));
                k.keyValid = k.keyBits > 0;
                if (!k.keyValid)
                    k.problem = "p= is base64 but not an RSA public key";
                else if (k.keyBits < 1024)
                    k.problem = "too short: receivers ignore RSA keys under 1024 bits (RFC 8301)";
            } else if (k.keyType == "ed25519") {
                const auto bytes = base64Decode(p).size();
                k.keyValid = bytes == 32;
                k.keyBits = k.keyValid ? 256 : 0;
                if (!k.keyValid)
                    k.problem = "p= holds " + std::to_string(bytes) + " bytes, not a 32-byte Ed25519 key";
            } else {
                k.problem = "k=" + k.keyType + " is not a DKIM key type (rsa or ed25519)";
            }
        }
        break;
    }
    if (k.found && k.revoked)
        k.sentence = "DKIM: the key of selector " + k.selector + " at " + k.name + " is revoked (empty p=)";
    else if (k.found && k.keyValid)
        k.sentence = "DKIM: selector " + k.selector + " of " + domain + " has a " + std::to_string(k.keyBits) + "-bit "
            + k.keyType + " key" + (k.problem.empty() ? std::string() : " (" + k.problem + ")");
    else if (k.found)
        k.sentence
            = "DKIM: selector " + k.selector + " of " + domain + " publishes a key that cannot be used: " + k.problem;
    else if (a.status == dns::Status::Ok || a.status == dns::Status::None || a.status == dns::Status::NxDomain)
        k.sentence = "DKIM: no key at " + k.name + " ("
            + (a.status == dns::Status::Ok ? "a TXT record that is not a DKIM key" : dns::statusName(a.status)) + ")";
    else
        k.sentence = "DKIM: the key at " + k.name + " could not be read (" + statusText(a) + ")";
    if (k.status == "ok" && !k.found)
        k.status = "none";
    k.source = sourceOf({a}, server);
    return k;
}

/// The PTR check of `ip` from the answer for its reverse name, each name confirmed forward (at
/// most 10 asked).
PtrCheck checkPtr(dns::Resolver& resolver, const dns::Answer& answer, const std::string& ip, const std::string& server)
{
    const bool v6 = ip.find(':') != std::string::npos;
    PtrCheck p;
    const auto& a = answer;
    std::vector<dns::Answer> used {a};
    p.status = dns::statusName(a.status);
    for (const auto& r : a.records)
        p.names.push_back(r.value);
    std::vector<dns::Question> forward;
    for (std::size_t i = 0; i < p.names.size() && i < 10; ++i)
        forward.push_back({p.names[i], v6 ? dns::Type::AAAA : dns::Type::A});
    std::string confirmedBy;
    if (!forward.empty()) {
        unsigned char want[16] {}, got[16] {};
        inet_pton(v6 ? AF_INET6 : AF_INET, ip.c_str(), want);
        for (const auto& f : resolver.queryAll(forward)) {
            used.push_back(f);
            for (const auto& r : f.records)
                if (inet_pton(v6 ? AF_INET6 : AF_INET, r.value.c_str(), got) == 1
                    && std::equal(want, want + (v6 ? 16 : 4), got)) {
                    p.forwardConfirmed = true;
                    if (confirmedBy.empty())
                        confirmedBy = f.name;
                }
        }
    }
    if (a.status == dns::Status::Ok)
        p.sentence = "PTR: " + ip + " → " + p.names.front()
            + (p.forwardConfirmed ? ", forward-confirmed"
                                  : ", not forward-confirmed: the name does not resolve back to " + ip);
    else if (a.status == dns::Status::None || a.status == dns::Status::NxDomain)
        p.sentence
            = "PTR: " + ip + " has no reverse DNS name (" + p.status + "); many receivers refuse mail from such IPs";
    else
        p.sentence = "PTR: the reverse DNS of " + ip + " could not be read (" + statusText(a) + ")";
    p.source = sourceOf(used, server);
    return p;
}

/// SPF: the domain's record on its own, then (with an IP) the verdict for that IP and sender.
SpfCheck checkSpf(dns::Resolver& resolver, const std::string& domain, const std::string& ip, const std::string& sender,
                  const std::string& server)
{
    SpfCheck s;
    std::vector<dns::Answer> used;
    resolver.setTrace(&used);
    const auto inspected = spf::inspect(resolver, domain);
    // TXT records without a v=spf1 one: the SPF record is absent ("none"), not "ok".
    s.status = inspected.status == dns::Status::Ok && inspected.result == spf::Result::None
        ? "none"
        : dns::statusName(inspected.status);
    s.record = inspected.record;
    const bool broken = inspected.result == spf::Result::PermError || inspected.result == spf::Result::TempError
        || inspected.result == spf::Result::None;
    s.recordResult = broken ? spf::resultName(inspected.result) : "valid";
    spf::Evaluation chosen = inspected;
    if (!ip.empty()) {
        chosen = spf::checkHost(resolver, ip, domain, sender);
        s.result = spf::resultName(chosen.result);
    }
    resolver.setTrace(nullptr);
    s.lookups = chosen.lookups;
    s.voidLookups = chosen.voidLookups;
    s.matched = chosen.matched;
    s.reason = chosen.reason;
    s.notes = chosen.notes;
    s.domains = chosen.domains;
    if (s.result && broken && *s.result != spf::resultName(inspected.result))
        s.notes.push_back("the record as a whole gives " + s.recordResult + ": " + inspected.reason);
    if (!s.result)
        s.reason = inspected.reason;
    s.source = sourceOf(used, server);
    s.sentence = spfSentence(s, domain, ip);
    return s;
}

/// The report's findings: the verdicts first, then what could not be checked.
void writeFindings(CheckReport& report)
{
    if (report.spf)
        report.findings.push_back(report.spf->sentence);
    if (report.dmarc)
        report.findings.push_back(report.dmarc->sentence);
    for (const auto& k : report.dkim)
        report.findings.push_back(k.sentence);
    if (report.ptr)
        report.findings.push_back(report.ptr->sentence);
    if (report.mx)
        report.findings.push_back(report.mx->sentence);
    int clean = 0;
    std::vector<std::string> unchecked, untrusted;
    for (const auto& b : report.blocklists) {
        if (b.listed)
            report.findings.push_back(b.sentence);
        else if (b.status == "nxdomain" || b.status == "none")
            ++clean;
        else if (b.status == "untrusted")
            untrusted.push_back(b.list);
        else
            unchecked.push_back(b.list + " (" + b.status + ")");
    }
    if (!untrusted.empty()) {
        std::string s = std::to_string(untrusted.size()) + " blocklist" + (untrusted.size() == 1 ? "" : "s")
            + ": the resolver did not list the test entry; blocklist answers cannot be trusted (not listed there "
              "means nothing; ask a resolver of your own, not a public one): ";
        for (std::size_t i = 0; i < untrusted.size(); ++i)
            s += (i ? ", " : "") + untrusted[i];
        report.findings.push_back(s);
    }
    const bool anyListed = std::any_of(report.blocklists.begin(), report.blocklists.end(),
                                       [](const BlocklistCheck& b) { return b.listed; });
    if (clean)
        report.findings.push_back("Not listed on " + std::to_string(clean) + (anyListed ? " other" : "") + " blocklist"
                                  + (clean == 1 ? "" : "s"));
    if (!unchecked.empty()) {
        std::string s = std::to_string(unchecked.size()) + " blocklist" + (unchecked.size() == 1 ? "" : "s")
            + " could not be checked: ";
        for (std::size_t i = 0; i < unchecked.size(); ++i)
            s += (i ? ", " : "") + unchecked[i];
        report.findings.push_back(s);
    }
}

} // namespace

CheckReport runChecks(const CheckRequest& request, const CheckOptions& options)
{
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    CheckReport report;
    report.domain = text::toLower(text::trim(request.domain));
    while (!report.domain.empty() && report.domain.back() == '.')
        report.domain.pop_back();
    report.ip = std::string(text::trim(request.ip));
    report.startedAt = std::time(nullptr);

    std::unique_ptr<WorkspaceCache> cache;
    if (options.workspace)
        cache = std::make_unique<WorkspaceCache>(*options.workspace);
    dns::Options dnsOptions;
    dnsOptions.server = options.dnsServer;
    dnsOptions.timeoutMs = std::max(50, options.timeoutMs);
    dnsOptions.deadline
        = options.deadline ? *options.deadline : started + std::chrono::milliseconds(std::max(100, options.deadlineMs));
    dnsOptions.cancel = options.cancel;
    dnsOptions.cache = options.cache ? options.cache : cache.get();
    std::unique_ptr<dns::Resolver> resolver;
    try {
        resolver = std::make_unique<dns::Resolver>(dnsOptions);
    } catch (const std::exception& e) {
        report.error = e.what();
        report.findings.push_back("The checks could not start: " + report.error);
        return report;
    }
    report.server = resolver->serverDescription();
    if (!report.ip.empty() && !dns::isIpAddress(report.ip)) {
        report.error = "\"" + report.ip + "\" is not an IP address";
        report.findings.push_back(report.error);
        return report;
    }
    const bool v6 = report.ip.find(':') != std::string::npos;
    const std::string server = report.server;
    auto kb = options.knowledge ? options.knowledge : KnowledgeBase::loadDefault();

    // Independent questions go out together; follow-ups (DMARC fallback, forward
    // confirmation, SPF's chain) come after.
    std::vector<dns::Question> batch;
    const std::string dmarcName = "_dmarc." + report.domain;
    std::size_t iDmarc = 0, iMx = 0, iPtr = 0, iDkim = 0, iBl = 0, iProbe = 0;
    const bool domainRecords = !report.domain.empty() && options.domainRecords;
    if (domainRecords) {
        iDmarc = batch.size();
        batch.push_back({dmarcName, dns::Type::TXT});
        iMx = batch.size();
        batch.push_back({report.domain, dns::Type::MX});
        iDkim = batch.size();
        for (const auto& s : request.selectors)
            batch.push_back({s + "._domainkey." + report.domain, dns::Type::TXT});
        // The SPF record, asked now with the rest: SPF reads it from the resolver's answers of
        // this run, so a silent server costs one timeout for all of them, not one more.
        batch.push_back({report.domain, dns::Type::TXT});
    }
    const std::string reversed = dns::reverseName(report.ip);
    if (!report.ip.empty()) {
        iPtr = batch.size();
        batch.push_back({reversed + (v6 ? ".ip6.arpa" : ".in-addr.arpa"), dns::Type::PTR});
    }
    struct ListQuery {
        const BlocklistInfo* info;
        std::string zone, kind;
        /// The list's test entry (RFC 5782 section 5), from the table or the RFC's default.
        std::string test() const
        {
            if (info && !info->testEntry.empty())
                return info->testEntry;
            return kind == "ip" ? "127.0.0.2" : "test";
        }
    };
    std::vector<ListQuery> lists;
    // Domain lists (DBL, SURBL, URIBL) list registrable domains: ask for the organisational
    // domain, not a mail host under it.
    const std::string orgDomain = organizationalDomain(report.domain);
    const std::string listedDomain = orgDomain.empty() ? report.domain : orgDomain;
    if (options.blocklists) {
        auto infoFor = [&](const std::string& zone) -> const BlocklistInfo* {
            for (const auto& b : kb->blocklists())
                if (std::find(b.zones.begin(), b.zones.end(), zone) != b.zones.end())
                    return &b;
            return nullptr;
        };
        if (!options.blocklistZones.empty()) {
            for (const auto& z : options.blocklistZones) {
                const std::string zone = text::toLower(text::trim(z));
                const auto* info = infoFor(zone);
                std::string kind
                    = info && !info->zoneKind.empty() ? info->zoneKind : (report.ip.empty() ? "domain" : "ip");
                lists.push_back({info, zone, kind});
            }
        } else {
            for (const auto& b : kb->blocklists())
                if (b.checked)
                    lists.push_back({&b, b.zones.front(), b.zoneKind});
        }
        lists.erase(std::remove_if(
                        lists.begin(), lists.end(),
                        [&](const ListQuery& l) { return l.kind == "ip" ? report.ip.empty() : report.domain.empty(); }),
                    lists.end());
        iBl = batch.size();
        for (const auto& l : lists)
            batch.push_back({(l.kind == "ip" ? reversed : listedDomain) + "." + l.zone, dns::Type::A});
        // Each list's test entry, asked beside: a resolver that does not list it (one that
        // answers NXDOMAIN to everything, or that the list refuses) makes "not listed" meaningless.
        iProbe = batch.size();
        for (const auto& l : lists) {
            const std::string test = l.test();
            batch.push_back({(dns::isIpAddress(test) ? dns::reverseName(test) : test) + "." + l.zone, dns::Type::A});
        }
    }
    const auto answers = resolver->queryAll(batch);

    if (domainRecords) {
        report.dmarc = checkDmarc(*resolver, answers[iDmarc], report.domain, server);

        report.mx = readMx(answers[iMx], report.domain, server);
        for (std::size_t i = 0; i < request.selectors.size(); ++i)
            report.dkim.push_back(readDkimKey(answers[iDkim + i], request.selectors[i], report.domain, server));
    }

    if (!report.ip.empty())
        report.ptr = checkPtr(*resolver, answers[iPtr], report.ip, server);

    // SPF: the record on its own, then the verdict for the IP.
    if (domainRecords)
        report.spf = checkSpf(*resolver, report.domain, report.ip, request.sender, server);

    // Blocklists
    for (std::size_t i = 0; i < lists.size(); ++i) {
        const auto& a = answers[iBl + i];
        const auto& l = lists[i];
        BlocklistCheck b;
        b.list = l.info ? l.info->name : l.zone;
        b.zone = l.zone;
        b.kind = l.kind;
        b.query = a.name;
        b.delistUrl = l.info ? l.info->delistUrl : std::string();
        b.status = dns::statusName(a.status);
        const std::string& subject = l.kind == "ip" ? report.ip : listedDomain;
        bool refused = false;
        std::string label;
        auto records = a.records;
        std::sort(records.begin(), records.end(),
                  [](const dns::Record& x, const dns::Record& y) { return ipv4Value(x.value) < ipv4Value(y.value); });
        for (const auto& r : records) {
            b.codes.push_back(r.value);
            const auto* code = codeFor(l.info, r.value);
            // RFC 5782: listings answer in 127.0.0.0/8; anything else is a broken or hijacked zone.
            const bool loopback = (ipv4Value(r.value) >> 24) == 127;
            const bool listing = code ? code->listing : loopback;
            std::string meaning = code
                ? code->meaning
                : (loopback ? "listed (code not in the table)"
                            : "not a DNSBL answer (outside 127.0.0.0/8): the zone is broken or hijacked");
            if (listing) {
                b.listed = true;
                if (const auto l = shortMeaning(meaning); !l.empty() && label.find(l) == std::string::npos)
                    label += (label.empty() ? "" : ", ") + l;
            } else {
                refused = true;
            }
            if (b.meaning.find(meaning) == std::string::npos)
                b.meaning += (b.meaning.empty() ? "" : "; ") + meaning;
        }
        if (!b.listed && refused)
            b.status = "error"; // the list answered, but with "query refused", not a verdict
        const auto& probe = answers[iProbe + i];
        b.testQuery = probe.name;
        b.testListed = std::any_of(probe.records.begin(), probe.records.end(),
                                   [&](const dns::Record& r) { return isListing(l.info, r.value); });
        std::string probeText = statusText(probe);
        if (!probe.records.empty()) {
            probeText = "answered";
            for (const auto& r : probe.records)
                probeText += " " + r.value;
        }
        const bool clean
            = !b.listed && !refused && (a.status == dns::Status::NxDomain || a.status == dns::Status::None);
        if (clean && !b.testListed)
            b.status = "untrusted";
        if (b.listed)
            b.sentence = subject + " is listed on " + b.list + (label.empty() ? "" : " (" + label + ")")
                + (b.delistUrl.empty() ? "" : "; delisting: " + b.delistUrl);
        else if (refused)
            b.sentence = b.list + " refused the query for " + subject + ": " + b.meaning;
        else if (b.status == "untrusted")
            b.sentence = b.list + ": the resolver did not list the test entry (" + b.testQuery + ": " + probeText
                + "); blocklist answers cannot be trusted, so " + subject + " not being listed means nothing";
        else if (a.status == dns::Status::NxDomain || a.status == dns::Status::None)
            b.sentence = subject + " is not listed on " + b.list;
        else
            b.sentence = b.list + " could not be checked for " + subject + " (" + statusText(a) + ")";
        b.source = sourceOf({a, probe}, server);
        report.blocklists.push_back(std::move(b));
    }

    writeFindings(report);

    report.cancelled = resolver->cancelled();
    report.deadlineReached = !report.cancelled && resolver->pastDeadline();
    if (report.cancelled)
        report.findings.push_back("The checks were cancelled: unanswered questions are reported as errors");
    else if (report.deadlineReached)
        report.findings.push_back("The overall deadline of " + std::to_string(options.deadlineMs)
                                  + " ms was reached: unanswered questions are reported as timeouts");
    report.liveQueries = resolver->liveQueries();
    report.durationMs = int(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count());
    return report;
}

namespace
{

ojson sourceJson(const CheckSource& s)
{
    ojson j;
    j["server"] = s.server;
    j["via"] = s.cached ? "cached" : "live";
    j["checked_at"] = text::isoUtc(s.checkedAt);
    return j;
}

ojson nullable(const std::string& s)
{
    return s.empty() ? ojson() : ojson(s);
}

} // namespace

std::string toJson(const CheckReport& r)
{
    ojson j;
    j["domain"] = nullable(r.domain);
    j["ip"] = nullable(r.ip);
    j["server"] = nullable(r.server);
    j["started_at"] = text::isoUtc(r.startedAt);
    j["duration_ms"] = r.durationMs;
    j["live_queries"] = r.liveQueries;
    j["cancelled"] = r.cancelled;
    j["deadline_reached"] = r.deadlineReached;
    if (!r.error.empty())
        j["error"] = r.error;
    if (r.spf) {
        const auto& s = *r.spf;
        ojson o;
        o["status"] = s.status;
        o["record"] = nullable(s.record);
        o["result"] = s.result ? ojson(*s.result) : ojson();
        o["record_result"] = s.recordResult;
        o["lookups"] = s.lookups;
        o["void_lookups"] = s.voidLookups;
        o["matched"] = nullable(s.matched);
        o["reason"] = s.reason;
        o["notes"] = s.notes;
        o["domains"] = s.domains;
        o["source"] = sourceJson(s.source);
        o["sentence"] = s.sentence;
        j["spf"] = o;
    } else {
        j["spf"] = nullptr;
    }
    if (r.dmarc) {
        const auto& d = *r.dmarc;
        ojson o;
        o["status"] = d.status;
        o["record"] = nullable(d.record);
        o["policy"] = nullable(d.policy);
        o["subdomain_policy"] = nullable(d.subdomainPolicy);
        o["pct"] = d.record.empty() ? ojson() : ojson(d.pct);
        o["adkim"] = d.record.empty() ? ojson() : ojson(d.adkim);
        o["aspf"] = d.record.empty() ? ojson() : ojson(d.aspf);
        o["rua"] = d.rua;
        o["valid"] = d.valid;
        o["problem"] = nullable(d.problem);
        o["found_at"] = nullable(d.foundAt);
        o["organizational"] = d.organizational;
        o["source"] = sourceJson(d.source);
        o["sentence"] = d.sentence;
        j["dmarc"] = o;
    } else {
        j["dmarc"] = nullptr;
    }
    if (r.mx) {
        ojson o;
        o["status"] = r.mx->status;
        ojson hosts = ojson::array();
        for (const auto& h : r.mx->hosts)
            hosts.push_back({{"preference", h.preference}, {"host", h.host}});
        o["hosts"] = hosts;
        o["null_mx"] = r.mx->nullMx;
        o["source"] = sourceJson(r.mx->source);
        o["sentence"] = r.mx->sentence;
        j["mx"] = o;
    } else {
        j["mx"] = nullptr;
    }
    if (r.ptr) {
        ojson o;
        o["status"] = r.ptr->status;
        o["names"] = r.ptr->names;
        o["forward_confirmed"] = r.ptr->forwardConfirmed;
        o["source"] = sourceJson(r.ptr->source);
        o["sentence"] = r.ptr->sentence;
        j["ptr"] = o;
    } else {
        j["ptr"] = nullptr;
    }
    ojson dkim = ojson::array();
    for (const auto& k : r.dkim) {
        ojson o;
        o["selector"] = k.selector;
        o["name"] = k.name;
        o["status"] = k.status;
        o["found"] = k.found;
        o["revoked"] = k.revoked;
        o["key_type"] = nullable(k.keyType);
        o["key_bits"] = k.keyBits ? ojson(k.keyBits) : ojson();
        o["key_valid"] = k.keyValid;
        o["problem"] = nullable(k.problem);
        o["source"] = sourceJson(k.source);
        o["sentence"] = k.sentence;
        dkim.push_back(o);
    }
    j["dkim"] = dkim;
    ojson lists = ojson::array();
    for (const auto& b : r.blocklists) {
        ojson o;
        o["list"] = b.list;
        o["zone"] = b.zone;
        o["kind"] = b.kind;
        o["query"] = b.query;
        o["status"] = b.status;
        o["listed"] = b.listed;
        o["codes"] = b.codes;
        o["meaning"] = nullable(b.meaning);
        o["delist_url"] = nullable(b.delistUrl);
        o["test_query"] = nullable(b.testQuery);
        o["test_listed"] = b.testListed;
        o["source"] = sourceJson(b.source);
        o["sentence"] = b.sentence;
        lists.push_back(o);
    }
    j["blocklists"] = lists;
    j["findings"] = r.findings;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> checksOffered(const Diagnosis& d)
{
    if (d.family == "auth")
        return d.reason == "requireptr" ? std::vector<std::string> {"ptr", "spf", "blocklists"}
                                        : std::vector<std::string> {"spf", "dkim", "dmarc", "ptr"};
    if (d.family == "reputation")
        return {"blocklists", "ptr", "spf", "dmarc"};
    if (d.reason == "hostunknown" || d.reason == "notaccept" || d.reason == "networkerror")
        return {"mx"};
    // A policy or content refusal that names a blocklist is a reputation question too.
    if (!d.blocklists.empty())
        return {"blocklists", "ptr"};
    return {};
}

} // namespace bt
