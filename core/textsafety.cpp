// SPDX-License-Identifier: MIT
// Text from data (bounce replies, DNS records, file names) is attacker-controlled: these helpers
// keep it from driving a terminal and tell a binary file from text before it is read as one.
#include "textsafety.h"

#include <algorithm>
#include <cstdio>

namespace bt
{

std::string escapeControls(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    char buf[8];
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80
                   && static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            // A C1 control in UTF-8 (U+009B is a CSI on some terminals).
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(text[i + 1]));
            out += buf;
            ++i;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::string binaryReason(std::string_view head)
{
    // By share, not presence: real bounces carry a stray NUL now and then (Sisimai's
    // lhost-x2-04), binary files hold them by the hundred, UTF-16 text in every other byte.
    const auto nuls = static_cast<std::size_t>(std::count(head.begin(), head.end(), '\0'));
    if (nuls > 0 && nuls * 100 >= head.size())
        return "it holds NUL bytes (a binary file, or UTF-16 text)";
    // Control bytes no text holds (tab, line breaks, form feed and ESC, which ISO-2022-JP mail
    // uses, are text); bytes that are not UTF-8 only count beside them, since Latin-1 or
    // Shift_JIS text is full of those.
    std::size_t controls = 0, invalid = 0;
    for (std::size_t i = 0; i < head.size();) {
        const auto c = static_cast<unsigned char>(head[i]);
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b) || c == 0x7f)
                ++controls;
            ++i;
            continue;
        }
        const std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        bool ok = n != 0 && i + n <= head.size();
        for (std::size_t k = 1; ok && k < n; ++k)
            ok = (static_cast<unsigned char>(head[i + k]) & 0xC0) == 0x80;
        if (!ok && n != 0 && i + n > head.size())
            break; // a character cut by the end of the head
        if (ok) {
            i += n;
        } else {
            ++invalid;
            ++i;
        }
    }
    const double size = static_cast<double>(head.size());
    if (size > 0 && (controls >= 0.05 * size || (controls >= 0.005 * size && invalid >= 0.3 * size)))
        return "it holds control bytes no text has (a binary file)";
    return {};
}

} // namespace bt
