// SPDX-License-Identifier: MIT
#include "replytemplate.h"

#include "knowledge.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>

namespace bt
{
namespace
{

using text::isAlpha;
using text::isDigit;

bool isTokenEdge(char c)
{
    return c == '<' || c == '>' || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' || c == '\'' || c == ','
        || c == ';' || c == ':' || c == '.' || c == '!' || c == '?' || c == '{' || c == '}';
}

bool isIpv4(std::string_view t)
{
    int parts = 0, digits = 0;
    for (char c : t) {
        if (isDigit(c)) {
            if (++digits > 3)
                return false;
        } else if (c == '.') {
            if (digits == 0)
                return false;
            ++parts;
            digits = 0;
        } else {
            return false;
        }
    }
    return parts == 3 && digits > 0;
}

bool isIpv6(std::string_view t)
{
    int colons = 0;
    for (char c : t) {
        if (c == ':')
            ++colons;
        else if (!(isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.'))
            return false;
    }
    return colons >= 2;
}

bool isHost(std::string_view t)
{
    // Two or more labels, letters in the last one, no leading/trailing dot: mx1.example.com.
    const auto lastDot = t.rfind('.');
    if (lastDot == std::string_view::npos || lastDot == 0 || lastDot + 2 > t.size())
        return false;
    for (char c : t)
        if (!(isAlpha(c) || isDigit(c) || c == '.' || c == '-' || c == '_'))
            return false;
    for (char c : t.substr(lastDot + 1))
        if (!isAlpha(c))
            return false;
    return true;
}

bool hasDigit(std::string_view t)
{
    for (char c : t)
        if (isDigit(c))
            return true;
    return false;
}

bool isNumber(std::string_view t)
{
    if (t.empty())
        return false;
    for (char c : t)
        if (!isDigit(c) && c != '.' && c != ',' && c != '+' && c != '-')
            return false;
    return hasDigit(t);
}

bool isTime(std::string_view t)
{
    // 12:34 or 12:34:56, optionally with fractions.
    return t.size() >= 5 && isDigit(t[0]) && isDigit(t[1]) && t[2] == ':' && isDigit(t[3]);
}

/// Letters and digits mixed over 6+ characters (queue ids, message ids, hashes).
bool isId(std::string_view t)
{
    std::size_t letters = 0, digits = 0;
    for (char c : t) {
        if (isDigit(c))
            ++digits;
        else if (isAlpha(c))
            ++letters;
        else if (c != '-' && c != '_' && c != '.' && c != '=' && c != '/' && c != '+')
            return false;
    }
    return digits >= 2 && letters + digits >= 6;
}

std::string maskToken(std::string_view core, bool first, const KnowledgeBase* kb);

std::string maskUrl(std::string_view url, const KnowledgeBase* kb)
{
    // Path segments that are addresses, IPs or ids vary ("…/query/ip/192.0.2.1").
    const auto q = url.find('?');
    const auto scheme = url.find("://");
    const auto pathStart = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    std::string out;
    if (pathStart == std::string_view::npos || (q != std::string_view::npos && pathStart > q)) {
        out = std::string(url.substr(0, q == std::string_view::npos ? url.size() : q));
    } else {
        out = std::string(url.substr(0, pathStart));
        const auto path = url.substr(pathStart, (q == std::string_view::npos ? url.size() : q) - pathStart);
        std::size_t pos = 0;
        while (pos < path.size()) {
            auto slash = path.find('/', pos + 1);
            if (slash == std::string_view::npos)
                slash = path.size();
            const auto seg = path.substr(pos + 1, slash - pos - 1);
            out.push_back('/');
            out += seg.empty() ? std::string() : maskToken(seg, false, kb);
            pos = slash;
        }
    }
    if (q == std::string_view::npos)
        return out;
    out.push_back('?');
    auto query = url.substr(q + 1);
    std::size_t pos = 0;
    while (pos <= query.size()) {
        auto amp = query.find('&', pos);
        if (amp == std::string_view::npos)
            amp = query.size();
        const auto item = query.substr(pos, amp - pos);
        const auto eq = item.find('=');
        if (pos > 0)
            out.push_back('&');
        if (eq != std::string_view::npos && hasDigit(item.substr(eq + 1)))
            out.append(item.substr(0, eq + 1)).append("<query>");
        else if (eq == std::string_view::npos && hasDigit(item))
            out.append("<query>");
        else
            out.append(item);
        pos = amp + 1;
    }
    return out;
}

bool isKnownZone(std::string_view host, const KnowledgeBase* kb)
{
    if (!kb)
        return false;
    const auto h = text::toLower(host);
    for (const auto& b : kb->blocklists())
        for (const auto& z : b.zones)
            if (h == z || (h.size() > z.size() && h.ends_with(z) && h[h.size() - z.size() - 1] == '.'))
                return true;
    return false;
}

std::string maskToken(std::string_view core, bool first, const KnowledgeBase* kb)
{
    if (core.empty())
        return {};
    if (text::startsWithNoCase(core, "http://") || text::startsWithNoCase(core, "https://"))
        return maskUrl(core, kb);
    if (core.find('@') != std::string_view::npos && core.find('.') != std::string_view::npos)
        return "<email>";
    if (isEnhancedStatus(core))
        return std::string(core);
    // A basic reply code where replies start ("550", "550-") stays.
    if (core.size() == 3 && isDigit(core[0]) && isDigit(core[1]) && isDigit(core[2]) && first)
        return std::string(core);
    if (isTime(core))
        return "<time>";
    if (isIpv4(core) || isIpv6(core))
        return "<ip>";
    if (isHost(core))
        return isKnownZone(core, kb) ? std::string(core) : std::string("<host>");
    if (isNumber(core))
        return "<n>";
    if (isId(core))
        return "<id>";
    return std::string(core);
}

} // namespace

std::string replyTemplate(std::string_view reply, const KnowledgeBase* kb)
{
    std::string out;
    out.reserve(reply.size());
    std::size_t i = 0;
    bool first = true;
    while (i < reply.size()) {
        if (text::isSpace(reply[i])) {
            while (i < reply.size() && text::isSpace(reply[i]))
                ++i;
            if (!out.empty())
                out.push_back(' ');
            continue;
        }
        std::size_t j = i;
        while (j < reply.size() && !text::isSpace(reply[j]))
            ++j;
        auto token = reply.substr(i, j - i);
        // Multi-line continuations ("550-5.1.1") split into code and rest.
        if (token.size() > 4 && isDigit(token[0]) && isDigit(token[1]) && isDigit(token[2]) && token[3] == '-') {
            out.append(token.substr(0, 4));
            token.remove_prefix(4);
        }
        // Strip punctuation at both ends, mask the core, put the punctuation back.
        std::size_t a = 0, b = token.size();
        while (a < b && isTokenEdge(token[a]))
            ++a;
        while (b > a && isTokenEdge(token[b - 1]))
            --b;
        // Brackets inside a token: "mx.example.com[192.0.2.1]".
        const auto core = token.substr(a, b - a);
        const auto br = core.find('[');
        out.append(token.substr(0, a));
        if (br != std::string_view::npos && br > 0 && core.back() == ']') {
            out.append(maskToken(core.substr(0, br), false, kb));
            out.push_back('[');
            out.append(maskToken(core.substr(br + 1, core.size() - br - 2), false, kb));
            out.push_back(']');
        } else {
            out.append(maskToken(core, first, kb));
        }
        out.append(token.substr(b));
        first = false;
        i = j;
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

namespace
{

/// The provider table entry of a recipient domain (consumer domains) or, failing that, of the
/// remote MTA host (MX suffixes); nullptr when none.
const ProviderInfo* providerEntry(const KnowledgeBase& kb, std::string_view recipientDomain,
                                  std::string_view remoteHost)
{
    // Called once per imported row: compares without lowering copies of every table entry.
    const auto domain = text::toLower(recipientDomain);
    const auto host = text::toLower(remoteHost);
    auto sameNoCase = [](std::string_view lowered, std::string_view other) {
        return lowered.size() == other.size()
            && std::equal(lowered.begin(), lowered.end(), other.begin(),
                          [](char a, char b) { return a == text::lower(b); });
    };
    auto suffixOf = [&](std::string_view name, std::string_view suffix) {
        return sameNoCase(name, suffix)
            || (name.size() > suffix.size() && name[name.size() - suffix.size() - 1] == '.'
                && sameNoCase(name.substr(name.size() - suffix.size()), suffix));
    };
    if (!domain.empty())
        for (const auto& p : kb.providers())
            for (const auto& d : p.domains)
                if (sameNoCase(domain, d))
                    return &p;
    if (!host.empty())
        for (const auto& p : kb.providers())
            for (const auto& s : p.hostSuffixes)
                if (suffixOf(host, s))
                    return &p;
    return nullptr;
}

} // namespace

std::string providerFor(const KnowledgeBase& kb, std::string_view recipientDomain, std::string_view remoteHost)
{
    // Grouped by operator: AOL's mail is answered by Yahoo's servers, and counts there.
    const ProviderInfo* p = providerEntry(kb, recipientDomain, remoteHost);
    return !p ? std::string() : p->operatorName.empty() ? p->name : p->operatorName;
}

std::string brandFor(const KnowledgeBase& kb, std::string_view recipientDomain, std::string_view remoteHost)
{
    const ProviderInfo* p = providerEntry(kb, recipientDomain, remoteHost);
    return p && !p->operatorName.empty() ? p->name : std::string();
}

} // namespace bt
