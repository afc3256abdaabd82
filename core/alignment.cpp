// SPDX-License-Identifier: MIT
#include "alignment.h"

#include "memo.h"
#include "text.h"

#include <algorithm>
#include <cctype>
#include <libpsl.h>

namespace bt
{

namespace
{

// Drops RFC 5322 comments (nested parentheses) outside quoted strings.
std::string withoutComments(std::string_view s)
{
    std::string out;
    int depth = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quoted) {
            out += c;
            if (c == '\\' && i + 1 < s.size())
                out += s[++i];
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '(') {
            ++depth;
            continue;
        }
        if (c == ')' && depth > 0) {
            --depth;
            continue;
        }
        if (depth > 0)
            continue;
        if (c == '"')
            quoted = true;
        out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
    }
    return out;
}

std::vector<std::string> split(std::string_view s, char sep)
{
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : s) {
        if (c == '"')
            quoted = !quoted;
        if (c == sep && !quoted) {
            out.push_back(std::string(text::trim(cur)));
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(std::string(text::trim(cur)));
    return out;
}

std::string unquote(std::string s)
{
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
        return s.substr(1, s.size() - 2);
    return s;
}

std::string domainPart(std::string_view addressOrDomain)
{
    std::string s = std::string(text::trim(addressOrDomain));
    const auto at = s.rfind('@');
    if (at != std::string::npos)
        s = s.substr(at + 1);
    while (!s.empty() && (s.back() == '>' || s.back() == '.'))
        s.pop_back();
    return text::toLower(s);
}

const psl_ctx_t* psl()
{
    // The newest of libpsl's built-in list and the system's publicsuffix file.
    static const psl_ctx_t* ctx = [] {
        const psl_ctx_t* c = psl_latest(nullptr);
        return c ? c : psl_builtin();
    }();
    return ctx;
}

AlignmentVerdict compare(const std::string& what, const std::string& domain, const std::string& org,
                         const std::string& fromDomain, const std::string& fromOrg)
{
    AlignmentVerdict v;
    if (fromDomain.empty()) {
        v.reason = "the returned headers carry no From domain";
        return v;
    }
    if (domain.empty()) {
        v.reason = "the returned headers carry no " + what;
        return v;
    }
    if (domain == fromDomain) {
        v.state = "aligned";
        v.reason = what + " " + domain + " is the From domain (strict and relaxed alignment)";
    } else if (!org.empty() && org == fromOrg) {
        v.state = "aligned";
        v.reason = what + " " + domain + " and From " + fromDomain + " share the organisational domain " + org
            + " (relaxed alignment; strict would fail)";
    } else {
        v.state = "not_aligned";
        v.reason = what + " " + domain + " (organisational domain " + (org.empty() ? domain : org)
            + ") is not in From's organisational domain " + (fromOrg.empty() ? fromDomain : fromOrg);
    }
    return v;
}

} // namespace

std::string AuthMethodResult::property(std::string_view key) const
{
    for (const auto& [k, v] : properties)
        if (k == key)
            return v;
    return {};
}

const AuthMethodResult* AuthResults::find(std::string_view method) const
{
    for (const auto& m : methods)
        if (m.method == method)
            return &m;
    return nullptr;
}

AuthResults parseAuthenticationResults(std::string_view header)
{
    AuthResults out;
    auto parts = split(withoutComments(header), ';');
    std::size_t first = 0;
    // ARC-Authentication-Results starts with the instance tag "i=1".
    if (!parts.empty() && text::toLower(parts[0]).starts_with("i=") && parts[0].find(' ') == std::string::npos)
        first = 1;
    if (first >= parts.size())
        return out;
    // authserv-id, optionally followed by a version number.
    out.authServId = text::toLower(split(parts[first], ' ').front());
    for (std::size_t i = first + 1; i < parts.size(); ++i) {
        const auto& part = parts[i];
        if (part.empty() || text::toLower(part) == "none")
            continue;
        AuthMethodResult m;
        bool firstToken = true;
        for (const auto& token : split(part, ' ')) {
            if (token.empty())
                continue;
            const auto eq = token.find('=');
            if (eq == std::string::npos)
                continue;
            std::string key = text::toLower(text::trim(token.substr(0, eq)));
            std::string value = unquote(std::string(text::trim(token.substr(eq + 1))));
            if (firstToken) {
                const auto slash = key.find('/'); // method/version
                m.method = slash == std::string::npos ? key : key.substr(0, slash);
                m.result = text::toLower(value);
                firstToken = false;
            } else if (key == "reason") {
                m.reason = value;
            } else {
                m.properties.emplace_back(std::move(key), std::move(value));
            }
        }
        if (!m.method.empty())
            out.methods.push_back(std::move(m));
    }
    return out;
}

std::string organizationalDomain(std::string_view domain)
{
    const std::string d = domainPart(domain);
    if (d.empty())
        return {};
    // Every record asks for its From, Return-Path and DKIM domains, and a stream of bounces
    // names the same few domains again and again: the public suffix list's answer (a pure
    // function of the name) is kept per thread rather than looked up each time.
    thread_local BoundedMemo<std::string> memo(4096);
    return memo.get(d, [&] {
        const char* reg = psl_registrable_domain(psl(), d.c_str());
        return reg ? std::string(reg) : std::string();
    });
}

Alignment checkAlignment(const OriginalMessage& o)
{
    Alignment a;
    a.fromDomain = domainPart(o.fromDomain);
    a.returnPathDomain = domainPart(o.returnPath);
    a.dkimDomain = domainPart(o.dkimDomain);
    a.dkimSelector = std::string(text::trim(o.dkimSelector));

    AuthResults results;
    if (!o.authenticationResults.empty()) {
        results = parseAuthenticationResults(o.authenticationResults);
        a.resultsSource = "Authentication-Results";
    }
    if (results.methods.empty() && !o.arcAuthenticationResults.empty()) {
        results = parseAuthenticationResults(o.arcAuthenticationResults);
        a.resultsSource = "ARC-Authentication-Results";
    }
    if (results.methods.empty())
        a.resultsSource.clear();
    a.authServId = a.resultsSource.empty() ? std::string() : results.authServId;
    const auto* spf = results.find("spf");
    const auto* dkim = results.find("dkim");
    const auto* dmarc = results.find("dmarc");
    if (spf)
        a.spfResult = spf->result;
    if (dkim)
        a.dkimResult = dkim->result;
    if (dmarc)
        a.dmarcResult = dmarc->result;
    // The receiver's view fills gaps in the returned headers (a bounce often keeps only a few).
    if (a.returnPathDomain.empty() && spf)
        a.returnPathDomain = domainPart(spf->property("smtp.mailfrom"));
    if (a.dkimDomain.empty() && dkim)
        a.dkimDomain
            = domainPart(dkim->property("header.d").empty() ? dkim->property("header.i") : dkim->property("header.d"));
    if (a.fromDomain.empty() && dmarc)
        a.fromDomain = domainPart(dmarc->property("header.from"));

    a.fromOrg = organizationalDomain(a.fromDomain);
    a.returnPathOrg = organizationalDomain(a.returnPathDomain);
    a.dkimOrg = organizationalDomain(a.dkimDomain);
    a.spf = compare("Return-Path domain", a.returnPathDomain, a.returnPathOrg, a.fromDomain, a.fromOrg);
    a.dkim = compare("DKIM d=", a.dkimDomain, a.dkimOrg, a.fromDomain, a.fromOrg);

    // DMARC passes when an aligned identifier also passed its own check.
    auto passedAligned = [](const AlignmentVerdict& v, const std::string& result) {
        return v.state == "aligned" && (result.empty() || result == "pass");
    };
    const bool spfOk = passedAligned(a.spf, a.spfResult), dkimOk = passedAligned(a.dkim, a.dkimResult);
    if (spfOk || dkimOk) {
        a.dmarc.state = "aligned";
        a.dmarc.reason = std::string(spfOk ? "SPF (Return-Path)" : "DKIM d=") + " is aligned with From"
            + ((spfOk ? a.spfResult : a.dkimResult).empty() ? " (pass not recorded in the headers)" : " and passed");
    } else if (a.spf.state == "unknown" && a.dkim.state == "unknown") {
        a.dmarc.reason = a.fromDomain.empty()
            ? a.spf.reason
            : "neither the Return-Path nor a DKIM signature is in the returned headers";
    } else if (a.spf.state != "aligned" && a.dkim.state != "aligned") {
        if (a.spf.state == "unknown" || a.dkim.state == "unknown") {
            a.dmarc.reason = "the identifier present is not aligned; the other is missing from the returned headers";
        } else {
            a.dmarc.state = "not_aligned";
            a.dmarc.reason = "neither the Return-Path domain nor DKIM d= is in From's organisational domain";
        }
    } else {
        a.dmarc.state = "not_aligned";
        a.dmarc.reason = "the aligned identifier failed its own check (spf=" + (a.spfResult.empty() ? "?" : a.spfResult)
            + ", dkim=" + (a.dkimResult.empty() ? "?" : a.dkimResult) + ")";
    }
    if (a.dmarcResult == "fail" && a.dmarc.state != "not_aligned")
        a.dmarc.reason += "; the receiver recorded dmarc=fail";
    return a;
}

} // namespace bt
