// SPDX-License-Identifier: MIT
#include "text.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <ctime>
#include <glib.h>

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

std::string foldCase(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += lower(s[i]);
            ++i;
            continue;
        }
        const gchar* at = s.data() + i;
        const auto left = static_cast<gssize>(s.size() - i);
        const gunichar u = g_utf8_get_char_validated(at, left);
        if (u == static_cast<gunichar>(-1) || u == static_cast<gunichar>(-2)) {
            out += s[i]; // not UTF-8: compared as the byte it is
            ++i;
            continue;
        }
        const auto len = static_cast<std::size_t>(g_utf8_next_char(at) - at);
        char buf[6];
        out.append(buf, static_cast<std::size_t>(g_unichar_to_utf8(g_unichar_tolower(u), buf)));
        i += len;
    }
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

namespace
{

/// How rare a byte is in the text of mail, higher for rarer: bytes in this list from the most
/// common on, any other byte rarest of all.
constexpr std::string_view kByFrequency = " etaoinsrhldcumfpgwybv.k-,:/0123456789=>x<@_jq;z()[]\"'";

constexpr auto kRarity = [] {
    std::array<unsigned char, 256> r {};
    for (int c = 0; c < 256; ++c) {
        const auto at = kByFrequency.find(lower(static_cast<char>(c)));
        r[static_cast<std::size_t>(c)]
            = static_cast<unsigned char>(at == std::string_view::npos ? kByFrequency.size() : at);
    }
    return r;
}();

int rarity(char c)
{
    return kRarity[static_cast<unsigned char>(c)];
}

} // namespace

std::size_t findNoCase(std::string_view hay, std::string_view needle, std::size_t from)
{
    if (needle.empty())
        return from <= hay.size() ? from : std::string_view::npos;
    if (from >= hay.size() || needle.size() > hay.size() - from)
        return std::string_view::npos;
    // memchr for one byte of the needle in both cases (vectorised in glibc), then compare. The
    // byte is the needle's rarest in mail text, not its first: the readers search every bounce
    // for dozens of phrases, and most start with a common letter or a blank, which sent memchr
    // back every few bytes (a call each: a tenth of reading a bounce went into memchr).
    std::size_t k = 0;
    for (std::size_t i = 1; i < needle.size() && i < 32; ++i)
        if (rarity(needle[i]) > rarity(needle[k]))
            k = i;
    const char lo = lower(needle[k]);
    const char up = (lo >= 'a' && lo <= 'z') ? static_cast<char>(lo - 'a' + 'A') : lo;
    // The anchor byte of a match starting at `start` is at start + k, start in [from, last].
    const std::size_t last = hay.size() - needle.size();
    const char* base = hay.data();
    // Next occurrence of each case at or after i; each is searched again only once passed, so
    // the whole scan stays linear.
    auto next = [&](char c, std::size_t at) -> std::size_t {
        if (at > last + k)
            return std::string_view::npos;
        const auto* p = static_cast<const char*>(std::memchr(base + at, c, last + k - at + 1));
        return p ? static_cast<std::size_t>(p - base) : std::string_view::npos;
    };
    std::size_t a = next(lo, from + k);
    std::size_t b = up == lo ? std::string_view::npos : next(up, from + k);
    while (a != std::string_view::npos || b != std::string_view::npos) {
        const std::size_t at = std::min(a, b);
        if (startsWithNoCase(hay.substr(at - k), needle))
            return at - k;
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

bool plainAscii(std::string_view s)
{
    constexpr std::uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, s.data() + i, 8);
        // A high bit, or a NUL byte (g_utf8_validate rejects NUL: such text is not passed through).
        if ((w & high) || ((w - ones) & ~w & high))
            return false;
    }
    for (; i < s.size(); ++i)
        if (static_cast<unsigned char>(s[i]) - 1u >= 0x7Fu)
            return false;
    return true;
}

void appendUtf8(std::string& out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool hasEscapedBreaks(std::string_view s)
{
    // The backslash first: most replies have none, and are done with one scan.
    for (auto at = s.find('\\'); at != std::string_view::npos && at + 1 < s.size(); at = s.find('\\', at + 2)) {
        if (s[at + 1] == 'n')
            return s.find('\n') == std::string_view::npos;
    }
    return false;
}

void expandEscapedBreaks(std::string& s)
{
    // "\\" is an escaped backslash and stays; "\r\n" and "\n" end a line.
    for (std::size_t at = s.find('\\'); at != std::string::npos && at + 1 < s.size(); at = s.find('\\', at)) {
        if (s[at + 1] == 'n') {
            s[at] = ' ';
            s[at + 1] = '\n';
        } else if (s.compare(at + 1, 3, "r\\n") == 0) {
            s.replace(at, 4, "  \r\n");
            at += 4;
            continue;
        }
        at += 2;
    }
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
    // The format modules split every bounce's text into lines several times: the vector is
    // sized once (one count of the LFs), and text without CR (what parseEmail gives) is cut at
    // the LFs memchr finds rather than tested byte by byte.
    const char* base = s.data();
    lines.reserve(static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')) + 1);
    if (!std::memchr(base, '\r', s.size())) {
        std::size_t start = 0;
        while (start < s.size()) {
            const void* nl = std::memchr(base + start, '\n', s.size() - start);
            if (!nl)
                break;
            const auto end = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
            lines.push_back({s.substr(start, end - start), start});
            start = end + 1;
        }
        if (start < s.size())
            lines.push_back({s.substr(start), start});
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
