// SPDX-License-Identifier: MIT
#include "jsonwriter.h"

#include <charconv>
#include <cstdint>
#include <cstring>

namespace bt::json
{

namespace
{

/// The well-formed UTF-8 sequence starting at p[0] (a byte ≥ 0x80): its length (2 to 4), or 0
/// with `subpart` set to the length of the ill-formed prefix to replace by one U+FFFD — the
/// "maximal subpart" of Unicode 15 §3.9 (Table 3-7 ranges), which is also what nlohmann's
/// decoder drops at a time: the lead byte and every continuation byte that could still have
/// led to a valid sequence.
std::size_t sequenceLength(const unsigned char* p, std::size_t n, std::size_t& subpart)
{
    const unsigned char c = p[0];
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF; // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        subpart = 1;
        return 0;
    }
    for (std::size_t k = 1; k <= need; ++k) {
        const bool ok = k < n && p[k] >= (k == 1 ? lo : 0x80) && p[k] <= (k == 1 ? hi : 0xBF);
        if (!ok) {
            subpart = k;
            return 0;
        }
    }
    return need + 1;
}

/// True when none of the 8 bytes at p needs escaping or checking: each is printable ASCII other
/// than '"' and '\\'. With every byte below 0x80 (the first term), subtracting 0x20 (or 1 from a
/// byte XORed with the quote or the backslash) sets a byte's top bit exactly where it was below
/// 0x20 (or was the quote or the backslash): a borrow only leaves a byte that was already such.
bool plainAscii8(const unsigned char* p)
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t high = 0x8080808080808080ULL;
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return ((w | (w - ones * 0x20) | ((w ^ (ones * '"')) - ones) | ((w ^ (ones * '\\')) - ones)) & high) == 0;
}

} // namespace

void appendString(std::string& out, std::string_view s)
{
    static constexpr char kHex[] = "0123456789abcdef";
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    out.reserve(out.size() + n + 2);
    out.push_back('"');
    std::size_t i = 0;
    while (i < n) {
        // A run that needs nothing: printable ASCII other than the quote and the backslash,
        // eight bytes at a time while they are all such (most of a line is), then byte by byte.
        std::size_t j = i;
        while (j + 8 <= n && plainAscii8(p + j))
            j += 8;
        while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
            ++j;
        out.append(s.data() + i, j - i);
        i = j;
        if (i >= n)
            break;
        const unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\f':
                out.append("\\f");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\r':
                out.append("\\r");
                break;
            case '\t':
                out.append("\\t");
                break;
            default: // the other control characters
                out.append("\\u00");
                out.push_back(kHex[c >> 4]);
                out.push_back(kHex[c & 0xF]);
            }
            ++i;
            continue;
        }
        std::size_t subpart = 0;
        if (const auto len = sequenceLength(p + i, n - i, subpart)) {
            out.append(s.data() + i, len);
            i += len;
        } else {
            out.append("\xEF\xBF\xBD"); // U+FFFD: pasted bounces carry raw 8-bit bytes
            i += subpart;
        }
    }
    out.push_back('"');
}

Writer& Writer::value(std::int64_t n)
{
    comma();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, n);
    m_out.append(buf, r.ptr);
    return *this;
}

} // namespace bt::json
