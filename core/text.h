// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Small string helpers the core shares. ASCII-only case folding is deliberate: SMTP
/// keywords, codes and header names are ASCII, and folding UTF-8 bytes would corrupt them.
namespace bt::text
{

constexpr bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}
constexpr bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}
constexpr bool isAlpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

/// One code point in lower case for the scripts bounces arrive in (Latin with its European
/// letters, Cyrillic), else as it is: A-Z, À-Þ, the Latin Extended-A pairs, Ѐ-Я. Each pair is
/// two bytes in UTF-8 on both sides but for A-Z (one), so a text keeps its length.
constexpr char32_t foldLetter(char32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    // Latin Extended-A pairs capitals with the next code point, on even or odd positions.
    if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) && c % 2 == 0)
        return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) && c % 2 == 1)
        return c + 1;
    return c;
}

std::string_view trim(std::string_view s);
std::string toLower(std::string_view s);
/// Every character in lower case, as SQLite's search index compares them (FTS5's trigram
/// tokenizer folds each code point, non-ASCII letters too); bytes that are not UTF-8 stay as they are.
std::string foldCase(std::string_view s);
bool startsWithNoCase(std::string_view s, std::string_view prefix);
/// Position of needle in hay ignoring ASCII case, or npos.
std::size_t findNoCase(std::string_view hay, std::string_view needle, std::size_t from = 0);
/// s.find_first_of(set, from) for the small sets the readers use, without the memchr call per
/// byte of s that libstdc++'s find_first_of makes (it searches the set for every byte of s).
constexpr std::size_t findFirstOf(std::string_view s, std::string_view set, std::size_t from = 0)
{
    for (std::size_t i = from; i < s.size(); ++i)
        for (const char c : set)
            if (s[i] == c)
                return i;
    return std::string_view::npos;
}
/// True when every byte is 0x01..0x7F: text that is the same in UTF-8 and in every charset that
/// extends ASCII, and holds no encoded byte nor NUL. Eight bytes at a time: most parts and header
/// values of a bounce are ASCII, and the byte loops over them were a twentieth of reading one.
bool plainAscii(std::string_view s);
/// Appends code point cp (below 0x110000) as UTF-8.
void appendUtf8(std::string& out, char32_t cp);
/// Collapses every run of whitespace (including line breaks) into one space, and trims.
std::string collapseSpace(std::string_view s);
/// Seconds since the epoch as ISO 8601 UTC, "2025-03-11T00:00:00Z": how the workspace, the
/// checks and the reports write every time.
std::string isoUtc(std::int64_t epochSeconds);

/// A text written on one line with its line breaks escaped, as a TSV cell or a log holds a
/// multi-line SMTP reply ("421-4.7.0 … rate of\\n421-4.7.0 unsolicited mail …"): true when it
/// has no line break of its own and at least one backslash-n not itself escaped.
bool hasEscapedBreaks(std::string_view s);
/// Those escapes as the line breaks they stand for, in place and length for length (a space
/// before the LF or CRLF), so that offsets into the text still point at the same words.
void expandEscapedBreaks(std::string& s);

/// A line of a text with its byte offset; line ends may be LF, CRLF or CR alone.
struct Line {
    std::string_view text;
    std::size_t offset = 0;
};
std::vector<Line> splitLines(std::string_view s);

/// Number of Unicode code points in the UTF-8 bytes s[0, byteOffset); invalid bytes count as one.
std::size_t codePointOffset(std::string_view s, std::size_t byteOffset);

} // namespace bt::text
