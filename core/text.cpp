// SPDX-License-Identifier: MIT
#include "text.h"

#include <algorithm>
#include <cstring>
#include <ctime>

namespace bt::text
{

std::string_view trim(std::string_view s)
{
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

std::string toLower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        c = lower(c);
    return out;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix)
{
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[i]) != lower(prefix[i]))
            return false;
    return true;
}

std::size_t findNoCase(std::string_view hay, std::string_view needle, std::size_t from)
{
    if (needle.empty())
        return from <= hay.size() ? from : std::string_view::npos;
    if (from >= hay.size() || needle.size() > hay.size() - from)
        return std::string_view::npos;
    // memchr for the first character in both cases (vectorised in glibc), then compare: bodies
    // of bounces are scanned for a dozen markers each, so this is a hot path.
    const char lo = lower(needle.front());
    const char up = (lo >= 'a' && lo <= 'z') ? static_cast<char>(lo - 'a' + 'A') : lo;
    const std::size_t last = hay.size() - needle.size();
    const char* base = hay.data();
    // Next occurrence of each case at or after i; each is searched again only once passed, so
    // the whole scan stays linear.
    auto next = [&](char c, std::size_t at) -> std::size_t {
        if (at > last)
            return std::string_view::npos;
        const auto* p = static_cast<const char*>(std::memchr(base + at, c, last - at + 1));
        return p ? static_cast<std::size_t>(p - base) : std::string_view::npos;
    };
    std::size_t a = next(lo, from);
    std::size_t b = up == lo ? std::string_view::npos : next(up, from);
    while (a != std::string_view::npos || b != std::string_view::npos) {
        const std::size_t at = std::min(a, b);
        if (startsWithNoCase(hay.substr(at), needle))
            return at;
        if (at == a)
            a = next(lo, at + 1);
        else
            b = next(up, at + 1);
    }
    return std::string_view::npos;
}

std::string isoUtc(std::int64_t epochSeconds)
{
    const auto t = static_cast<std::time_t>(epochSeconds);
    std::tm tm {};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string collapseSpace(std::string_view s)
{
    s = trim(s);
    // Every header field of every message comes through here, and most values already hold
    // single spaces only: a read-only pass finds the first byte that needs rewriting, the part
    // before it is one copy, and only the rest is written byte by byte (into a buffer sized once,
    // not push_back per byte, which was most of the cost).
    std::size_t first = 0;
    while (first < s.size()) {
        const char c = s[first];
        // After trim() the last byte is no space, so s[first + 1] exists when c is one.
        if (isSpace(c) && (c != ' ' || isSpace(s[first + 1])))
            break;
        ++first;
    }
    if (first == s.size())
        return std::string(s);
    std::string out(s.size(), '\0');
    std::memcpy(out.data(), s.data(), first);
    char* o = out.data() + first;
    bool pending = false;
    for (std::size_t i = first; i < s.size(); ++i) {
        const char c = s[i];
        if (isSpace(c)) {
            pending = true;
            continue;
        }
        if (pending)
            *o++ = ' ';
        pending = false;
        *o++ = c;
    }
    out.resize(static_cast<std::size_t>(o - out.data()));
    return out;
}

std::vector<Line> splitLines(std::string_view s)
{
    std::vector<Line> lines;
    // A single line (a reply pasted or read from a log) is the common case: two memchr
    // passes instead of a byte loop.
    if (s.empty())
        return lines;
    if (!std::memchr(s.data(), '\n', s.size()) && !std::memchr(s.data(), '\r', s.size())) {
        lines.push_back({s, 0});
        return lines;
    }
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\n' && s[i] != '\r')
            continue;
        lines.push_back({s.substr(start, i - start), start});
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')
            ++i;
        start = i + 1;
    }
    if (start < s.size())
        lines.push_back({s.substr(start), start});
    return lines;
}

std::size_t codePointOffset(std::string_view s, std::size_t byteOffset)
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < byteOffset && i < s.size(); ++i) {
        // Continuation bytes (10xxxxxx) belong to the code point already counted.
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
            ++n;
    }
    return n;
}

} // namespace bt::text
