// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace bt
{

/// `text` safe to print on a terminal: C0 control characters other than tab and line feed,
/// DEL and the C1 controls (U+0080–U+009F) written as "\x1b" or "\u009b", so text from data
/// (a reply, a DNS TXT record) can neither retitle the terminal nor move its cursor.
std::string escapeControls(std::string_view text);

/// Why the start of a file (its first 8 KB or so) is not text — "it holds NUL bytes" (1 % of it
/// or more) or "… control bytes" (5 %) — or empty when it looks like text (UTF-8, a legacy 8-bit
/// charset, ISO-2022-JP's escapes, a stray NUL).
std::string binaryReason(std::string_view head);

} // namespace bt
