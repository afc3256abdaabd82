// SPDX-License-Identifier: MIT
#include "spf.h"

#include "text.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace bt::spf
{

const char* resultName(Result r)
{
    switch (r) {
    case Result::None:
        return "none";
    case Result::Neutral:
        return "neutral";
    case Result::Pass:
        return "pass";
    case Result::Fail:
        return "fail";
    case Result::SoftFail:
        return "softfail";
    case Result::TempError:
        return "temperror";
    case Result::PermError:
        return "permerror";
    }
    return "permerror";
}

namespace
{

constexpr int kLookupLimit = 10; // RFC 7208 4.6.4
constexpr int kVoidLimit = 2;
constexpr int kMxLimit = 10;

bool isTemporary(dns::Status s)
{
    return s == dns::Status::Timeout || s == dns::Status::ServFail || s == dns::Status::Error;
}

/// An address as 4 or 16 bytes.
struct Address {
    unsigned char bytes[16] = {};
    int family = 0; // AF_INET or AF_INET6, 0 when invalid
};

Address parseAddress(const std::string& text)
{
    Address a;
    if (inet_pton(AF_INET, text.c_str(), a.bytes) == 1)
        a.family = AF_INET;
    else if (inet_pton(AF_INET6, text.c_str(), a.bytes) == 1)
        a.family = AF_INET6;
    return a;
}

bool inNetwork(const Address& ip, const Address& net, int prefix)
{
    if (ip.family != net.family || ip.family == 0)
        return false;
    const int full = prefix / 8, rest = prefix % 8;
    if (std::memcmp(ip.bytes, net.bytes, std::size_t(full)) != 0)
        return false;
    if (rest == 0)
        return true;
    const unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (ip.bytes[full] & mask) == (net.bytes[full] & mask);
}

struct Term {
    char qualifier = '+';
    std::string name; ///< mechanism or modifier name, lower case
    std::string value; ///< domain-spec, address or modifier value (macros unexpanded)
    int cidr4 = 32, cidr6 = 128;
    bool modifier = false;
    std::string text; ///< as written
};

std::optional<int> parseNumber(std::string_view s, int max)
{
    if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    const int n = std::stoi(std::string(s));
    if (n > max || (s.size() > 1 && s[0] == '0'))
        return std::nullopt;
    return n;
}

// Splits "domain/24//64" into the domain-spec and the dual CIDR lengths (RFC 7208 5.6).
bool splitCidr(std::string& value, int& cidr4, int& cidr6)
{
    const auto dbl = value.find("//");
    if (dbl != std::string::npos) {
        auto n = parseNumber(std::string_view(value).substr(dbl + 2), 128);
        if (!n)
            return false;
        cidr6 = *n;
        value.erase(dbl);
    }
    const auto slash = value.rfind('/');
    if (slash != std::string::npos) {
        auto n = parseNumber(std::string_view(value).substr(slash + 1), 32);
        if (!n)
            return false;
        cidr4 = *n;
        value.erase(slash);
    }
    return true;
}

bool isNameChar(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

// Parses the whole record first: a syntax error anywhere is a permerror (RFC 7208 4.6).
std::optional<std::vector<Term>> parseRecord(const std::string& record, std::string& error)
{
    std::vector<Term> terms;
    std::size_t pos = 6; // past "v=spf1"
    while (pos < record.size()) {
        while (pos < record.size() && record[pos] == ' ')
            ++pos;
        if (pos >= record.size())
            break;
        auto end = record.find(' ', pos);
        if (end == std::string::npos)
            end = record.size();
        Term t;
        t.text = record.substr(pos, end - pos);
        pos = end;
        std::string s = t.text;
        const auto eq = s.find('=');
        const auto stop = s.find_first_of(":/");
        if (eq != std::string::npos && (stop == std::string::npos || eq < stop) && eq > 0
            && std::isalpha(static_cast<unsigned char>(s[0]))
            && std::all_of(s.begin(), s.begin() + long(eq), isNameChar)) {
            t.modifier = true;
            t.name = text::toLower(s.substr(0, eq));
            t.value = s.substr(eq + 1);
            terms.push_back(std::move(t));
            continue;
        }
        if (s[0] == '+' || s[0] == '-' || s[0] == '~' || s[0] == '?') {
            t.qualifier = s[0];
            s.erase(0, 1);
        }
        const auto sep = s.find_first_of(":/");
        t.name = text::toLower(s.substr(0, sep));
        std::string arg = sep == std::string::npos ? std::string() : s.substr(sep);
        const bool colon = !arg.empty() && arg[0] == ':';
        if (colon)
            arg.erase(0, 1);
        if (t.name == "all") {
            if (!arg.empty()) {
                error = "\"" + t.text + "\": all takes no argument";
                return std::nullopt;
            }
        } else if (t.name == "include" || t.name == "exists") {
            if (!colon || arg.empty()) {
                error = "\"" + t.text + "\": " + t.name + " needs a domain";
                return std::nullopt;
            }
            t.value = arg;
        } else if (t.name == "a" || t.name == "mx") {
            if (colon && arg.empty()) {
                error = "\"" + t.text + "\": empty domain";
                return std::nullopt;
            }
            if (!colon && !arg.empty() && arg[0] != '/') {
                error = "\"" + t.text + "\": unknown mechanism";
                return std::nullopt;
            }
            if (!splitCidr(arg, t.cidr4, t.cidr6)) {
                error = "\"" + t.text + "\": bad CIDR length";
                return std::nullopt;
            }
            t.value = arg;
        } else if (t.name == "ptr") {
            t.value = arg;
        } else if (t.name == "ip4" || t.name == "ip6") {
            if (!colon) {
                error = "\"" + t.text + "\": " + t.name + " needs an address";
                return std::nullopt;
            }
            const bool v4 = t.name == "ip4";
            const auto slash = arg.find('/');
            int& cidr = v4 ? t.cidr4 : t.cidr6;
            if (slash != std::string::npos) {
                auto n = parseNumber(std::string_view(arg).substr(slash + 1), v4 ? 32 : 128);
                if (!n) {
                    error = "\"" + t.text + "\": bad CIDR length";
                    return std::nullopt;
                }
                cidr = *n;
                arg.erase(slash);
            }
            const auto addr = parseAddress(arg);
            if (addr.family != (v4 ? AF_INET : AF_INET6)) {
                error = "\"" + t.text + "\": not an IPv" + std::string(v4 ? "4" : "6") + " address";
                return std::nullopt;
            }
            t.value = arg;
        } else {
            error = "\"" + t.text + "\": unknown mechanism";
            return std::nullopt;
        }
        terms.push_back(std::move(t));
    }
    return terms;
}

std::string urlEscape(const std::string& s)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out += char(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

struct Context {
    dns::Resolver& resolver;
    Address ip;
    std::string ipText;
    std::string sender, localPart, senderDomain;
    bool noMatch = false; // inspect(): only `all` matches
    int lookups = 0;
    int voids = 0;
    int includeDepth = 0; // inside an include the deciding term is the include itself
    std::vector<std::string> stack; // domains being evaluated, for loop detection
    Evaluation* out = nullptr;
};

// RFC 7208 section 7. False on a malformed macro (a permerror).
bool expand(const Context& cx, const std::string& spec, const std::string& domain, std::string& result)
{
    result.clear();
    for (std::size_t i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        if (c != '%') {
            result += c;
            continue;
        }
        if (++i >= spec.size())
            return false;
        const char n = spec[i];
        if (n == '%') {
            result += '%';
            continue;
        }
        if (n == '_') {
            result += ' ';
            continue;
        }
        if (n == '-') {
            result += "%20";
            continue;
        }
        if (n != '{')
            return false;
        const auto close = spec.find('}', i);
        if (close == std::string::npos || close == i + 1)
            return false;
        const std::string body = spec.substr(i + 1, close - i - 1);
        i = close;
        const char letter = body[0];
        const bool escape = std::isupper(static_cast<unsigned char>(letter));
        std::string value;
        switch (std::tolower(static_cast<unsigned char>(letter))) {
        case 's':
            value = cx.sender;
            break;
        case 'l':
            value = cx.localPart;
            break;
        case 'o':
            value = cx.senderDomain;
            break;
        case 'd':
            value = domain;
            break;
        case 'i':
            if (cx.ip.family == AF_INET6) {
                static const char hex[] = "0123456789abcdef";
                for (int b = 0; b < 16; ++b) {
                    if (b)
                        value += '.';
                    value += hex[cx.ip.bytes[b] >> 4];
                    value += '.';
                    value += hex[cx.ip.bytes[b] & 15];
                }
            } else {
                value = cx.ipText;
            }
            break;
        case 'p':
            value = "unknown";
            break; // RFC 7208 5.5: discouraged; no validation done
        case 'v':
            value = cx.ip.family == AF_INET6 ? "ip6" : "in-addr";
            break;
        case 'h':
            value = cx.senderDomain;
            break; // HELO is not known offline of the session
        default:
            return false; // c, r, t only in exp=, which is not evaluated
        }
        // Transformers: digits, then "r", then delimiters.
        std::size_t k = 1;
        int keep = 0;
        while (k < body.size() && std::isdigit(static_cast<unsigned char>(body[k])))
            keep = keep * 10 + (body[k++] - '0');
        if (k > 1 && keep == 0)
            return false;
        bool reverse = false;
        if (k < body.size() && (body[k] == 'r' || body[k] == 'R')) {
            reverse = true;
            ++k;
        }
        // Default delimiter ".": built in one go (GCC 12 gives a false -Wrestrict on assigning
        // a literal to the substr result).
        const std::string delims = k < body.size() ? body.substr(k) : std::string(1, '.');
        if (delims.find_first_not_of(".-+,/_=") != std::string::npos)
            return false;
        if (keep > 0 || reverse || delims != ".") {
            std::vector<std::string> parts;
            std::size_t from = 0;
            while (true) {
                const auto at = value.find_first_of(delims, from);
                parts.push_back(value.substr(from, at == std::string::npos ? std::string::npos : at - from));
                if (at == std::string::npos)
                    break;
                from = at + 1;
            }
            if (reverse)
                std::reverse(parts.begin(), parts.end());
            if (keep > 0 && std::size_t(keep) < parts.size())
                parts.erase(parts.begin(), parts.end() - keep);
            value.clear();
            for (std::size_t p = 0; p < parts.size(); ++p) {
                if (p)
                    value += '.';
                value += parts[p];
            }
        }
        result += escape ? urlEscape(value) : value;
    }
    // RFC 7208 7.3: a name over 253 characters loses labels on the left.
    while (result.size() > 253) {
        const auto dot = result.find('.');
        if (dot == std::string::npos)
            break;
        result.erase(0, dot + 1);
    }
    return true;
}

struct Outcome {
    Result result;
    std::string reason;
};

Outcome evaluate(Context& cx, const std::string& domain, bool top);

// One DNS lookup that counts against the void limit when it finds nothing.
// Returns nullopt and sets `fail` on an error that ends the evaluation.
std::optional<std::vector<dns::Record>> lookup(Context& cx, const std::string& name, dns::Type type, Outcome& fail,
                                               bool countVoid = true)
{
    const auto a = cx.resolver.query(name, type);
    if (a.status == dns::Status::Ok)
        return a.records;
    if (a.status == dns::Status::None || a.status == dns::Status::NxDomain) {
        if (countVoid && ++cx.voids > kVoidLimit) {
            fail = {Result::PermError,
                    "more than " + std::to_string(kVoidLimit) + " lookups found nothing (the last: " + name + " "
                        + dns::typeName(type) + ")"};
            return std::nullopt;
        }
        return std::vector<dns::Record> {};
    }
    fail = {Result::TempError,
            std::string("DNS ") + dns::statusName(a.status) + " for " + name + " " + dns::typeName(type)
                + (a.detail.empty() ? "" : " (" + a.detail + ")")};
    return std::nullopt;
}

bool countLookup(Context& cx, const std::string& term, Outcome& fail)
{
    if (++cx.lookups > kLookupLimit) {
        fail = {Result::PermError,
                "more than " + std::to_string(kLookupLimit) + " DNS-querying terms (\"" + term + "\" is number "
                    + std::to_string(cx.lookups) + ")"};
        return false;
    }
    return true;
}

bool matchesAddresses(Context& cx, const std::string& host, const Term& t, Outcome& fail, bool& matched, bool countVoid)
{
    const bool v6 = cx.ip.family == AF_INET6;
    auto records = lookup(cx, host, v6 ? dns::Type::AAAA : dns::Type::A, fail, countVoid);
    if (!records)
        return false;
    if (cx.noMatch)
        return true;
    for (const auto& r : *records)
        if (inNetwork(cx.ip, parseAddress(r.value), v6 ? t.cidr6 : t.cidr4)) {
            matched = true;
            break;
        }
    return true;
}

// RFC 7208 5.5: a name of the IP's PTR records that resolves back to the IP and is `target`
// or under it. DNS errors only make a name not count (never an error of the whole check).
bool ptrMatches(Context& cx, const std::string& target)
{
    const bool v6 = cx.ip.family == AF_INET6;
    const auto ptr
        = cx.resolver.query(dns::reverseName(cx.ipText) + (v6 ? ".ip6.arpa" : ".in-addr.arpa"), dns::Type::PTR);
    const std::string want = text::toLower(target);
    for (std::size_t i = 0; i < ptr.records.size() && i < 10; ++i) {
        const std::string name = text::toLower(ptr.records[i].value);
        if (name != want && !name.ends_with("." + want))
            continue;
        const auto forward = cx.resolver.query(name, v6 ? dns::Type::AAAA : dns::Type::A);
        for (const auto& r : forward.records) {
            const auto a = parseAddress(r.value);
            if (a.family == cx.ip.family && std::memcmp(a.bytes, cx.ip.bytes, v6 ? 16 : 4) == 0)
                return true;
        }
    }
    return false;
}

Result qualifierResult(char q)
{
    switch (q) {
    case '-':
        return Result::Fail;
    case '~':
        return Result::SoftFail;
    case '?':
        return Result::Neutral;
    default:
        return Result::Pass;
    }
}

Outcome evaluate(Context& cx, const std::string& domainIn, bool top)
{
    std::string domain = text::toLower(domainIn);
    while (!domain.empty() && domain.back() == '.')
        domain.pop_back();
    Evaluation& out = *cx.out;
    if (domain.find('.') == std::string::npos || domain.size() > 253 || domain.front() == '.')
        return {Result::None, "\"" + domain + "\" is not a fully qualified domain name"};
    if (std::find(cx.stack.begin(), cx.stack.end(), domain) != cx.stack.end()) {
        std::string path;
        for (const auto& d : cx.stack)
            path += d + " → ";
        return {Result::PermError, "include loop: " + path + domain};
    }
    out.domains.push_back(domain);
    const auto txt = cx.resolver.query(domain, dns::Type::TXT);
    if (top)
        out.status = txt.status;
    if (isTemporary(txt.status))
        return {Result::TempError,
                std::string("DNS ") + dns::statusName(txt.status) + " reading the TXT records of " + domain
                    + (txt.detail.empty() ? "" : " (" + txt.detail + ")")};
    std::vector<std::string> spf;
    for (const auto& r : txt.records) {
        const std::string l = text::toLower(r.value.substr(0, 7));
        if (l.starts_with("v=spf1") && (l.size() == 6 || l[6] == ' '))
            spf.push_back(r.value);
    }
    if (spf.empty())
        return {Result::None,
                domain + (txt.status == dns::Status::NxDomain ? " does not exist" : " has no SPF record")};
    if (spf.size() > 1)
        return {Result::PermError, domain + " has " + std::to_string(spf.size()) + " SPF records (one allowed)"};
    const std::string& record = spf.front();
    if (top)
        out.record = record;
    std::string syntax;
    const auto terms = parseRecord(record, syntax);
    if (!terms)
        return {Result::PermError, "syntax error in " + domain + "'s record: " + syntax};

    const Term* redirect = nullptr;
    int exps = 0;
    for (const auto& t : *terms) {
        if (!t.modifier)
            continue;
        if (t.name == "redirect") {
            if (redirect)
                return {Result::PermError, domain + "'s record has more than one redirect="};
            redirect = &t;
        } else if (t.name == "exp") {
            if (++exps > 1)
                return {Result::PermError, domain + "'s record has more than one exp="};
        } else {
            out.notes.push_back("unknown modifier \"" + t.text + "\" in " + domain + " ignored");
        }
    }

    cx.stack.push_back(domain);
    struct Pop {
        std::vector<std::string>& s;
        ~Pop() { s.pop_back(); }
    } pop {cx.stack};

    Outcome fail {Result::PermError, ""};
    for (const auto& t : *terms) {
        if (t.modifier)
            continue;
        bool matched = false;
        std::string target = domain;
        if (!t.value.empty() && t.name != "ip4" && t.name != "ip6" && !expand(cx, t.value, domain, target))
            return {Result::PermError, "bad macro in \"" + t.text + "\" (" + domain + ")"};
        if (t.name == "all") {
            matched = true;
        } else if (t.name == "ip4" || t.name == "ip6") {
            matched = !cx.noMatch && inNetwork(cx.ip, parseAddress(t.value), t.name == "ip4" ? t.cidr4 : t.cidr6);
        } else if (t.name == "a") {
            if (!countLookup(cx, t.text, fail) || !matchesAddresses(cx, target, t, fail, matched, true))
                return fail;
        } else if (t.name == "mx") {
            if (!countLookup(cx, t.text, fail))
                return fail;
            auto mx = lookup(cx, target, dns::Type::MX, fail);
            if (!mx)
                return fail;
            if (mx->size() > std::size_t(kMxLimit))
                return {Result::PermError, target + " has more than " + std::to_string(kMxLimit) + " MX hosts"};
            for (const auto& host : *mx) {
                if (host.value.empty() || host.value == ".")
                    continue; // null MX (RFC 7505)
                // Lookups of the MX hosts' addresses are not counted as void lookups
                // by most evaluators (the MX lookup itself is); follow them.
                if (!matchesAddresses(cx, host.value, t, fail, matched, false))
                    return fail;
                if (matched)
                    break;
            }
        } else if (t.name == "ptr") {
            if (!countLookup(cx, t.text, fail))
                return fail;
            matched = !cx.noMatch && ptrMatches(cx, target);
            out.notes.push_back("\"" + t.text + "\" in " + domain
                                + ": ptr is slow and unreliable; RFC 7208 5.5 says not to use it");
        } else if (t.name == "exists") {
            if (!countLookup(cx, t.text, fail))
                return fail;
            auto a = lookup(cx, target, dns::Type::A, fail);
            if (!a)
                return fail;
            matched = !cx.noMatch && !a->empty();
        } else if (t.name == "include") {
            if (!countLookup(cx, t.text, fail))
                return fail;
            ++cx.includeDepth;
            const auto inner = evaluate(cx, target, false);
            --cx.includeDepth;
            switch (inner.result) {
            case Result::Pass:
                matched = true;
                break;
            case Result::Fail:
            case Result::SoftFail:
            case Result::Neutral:
                break;
            case Result::TempError:
                return inner;
            case Result::PermError:
                return inner;
            case Result::None:
                return {Result::PermError,
                        "include:" + target + " in " + domain + " has no SPF record (" + inner.reason + ")"};
            }
        }
        if (matched) {
            if (cx.includeDepth == 0) {
                out.matched = t.text;
                out.matchedIn = domain;
            }
            const Result r = qualifierResult(t.qualifier);
            return {r, "\"" + t.text + "\" in " + domain + "'s record matched"};
        }
    }
    if (redirect) {
        if (!countLookup(cx, redirect->text, fail))
            return fail;
        std::string target;
        if (!expand(cx, redirect->value, domain, target))
            return {Result::PermError, "bad macro in \"" + redirect->text + "\" (" + domain + ")"};
        auto inner = evaluate(cx, target, false);
        if (inner.result == Result::None)
            return {Result::PermError,
                    redirect->text + " in " + domain + " leads to no SPF record (" + inner.reason + ")"};
        return inner;
    }
    return {Result::Neutral, "nothing in " + domain + "'s record matched and it has no all"};
}

Evaluation run(dns::Resolver& resolver, const std::string& ip, const std::string& domain, const std::string& sender,
               bool noMatch)
{
    Evaluation out;
    out.domain = text::toLower(domain);
    Context cx {resolver, parseAddress(ip), ip, {}, {}, {}, noMatch, 0, 0, 0, {}, &out};
    const std::string from = sender.empty() ? "postmaster@" + out.domain : sender;
    const auto at = from.rfind('@');
    cx.sender = from;
    cx.localPart = at == std::string::npos || at == 0 ? "postmaster" : from.substr(0, at);
    cx.senderDomain = at == std::string::npos ? out.domain : from.substr(at + 1);
    if (!noMatch && cx.ip.family == 0) {
        out.result = Result::PermError;
        out.reason = "\"" + ip + "\" is not an IP address";
        return out;
    }
    // An IPv4-mapped IPv6 address (::ffff:192.0.2.1) is checked as the IPv4 address (RFC 7208 5).
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (cx.ip.family == AF_INET6 && std::memcmp(cx.ip.bytes, kMapped, 12) == 0) {
        char text[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, cx.ip.bytes + 12, text, sizeof text);
        cx.ipText = text;
        cx.ip = parseAddress(cx.ipText);
    }
    if (noMatch)
        cx.ip.family = AF_INET; // a/mx look up A records
    const auto o = evaluate(cx, out.domain, true);
    out.result = o.result;
    out.reason = o.reason;
    out.lookups = std::min(cx.lookups, kLookupLimit + 1);
    out.voidLookups = cx.voids;
    return out;
}

} // namespace

Evaluation checkHost(dns::Resolver& resolver, const std::string& ip, const std::string& domain,
                     const std::string& sender)
{
    return run(resolver, ip, domain, sender, false);
}

Evaluation inspect(dns::Resolver& resolver, const std::string& domain)
{
    return run(resolver, "0.0.0.0", domain, {}, true);
}

} // namespace bt::spf
