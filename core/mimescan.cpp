// SPDX-License-Identifier: MIT
// See private/mimescan.h. Every "return false" below is a shape GMime reads in its own way
// (lenient or surprising: a part whose first line is no header yields no parts at all, base64
// stops at its first "="): those messages go to GMime, so the scan never has to imitate it there.
#include "private/mimescan.h"

#include "text.h"

#include <array>
#include <cstring>

namespace bt::mimescan
{
namespace
{

/// Nested messages and multiparts deeper than this go to GMime (a bounce is two or three deep).
constexpr int kMaxDepth = 8;

bool isNameChar(char c)
{
    return c > 32 && c < 127 && c != ':';
}

bool isTokenChar(char c)
{
    return text::isAlpha(c) || text::isDigit(c) || c == '-' || c == '+' || c == '.' || c == '_';
}

bool isBlank(char c)
{
    return c == ' ' || c == '\t';
}

/// The line starting at `pos` (without its LF) and where the next one starts.
std::string_view lineAt(std::string_view data, std::size_t pos, std::size_t& next)
{
    const void* nl = std::memchr(data.data() + pos, '\n', data.size() - pos);
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    next = nl ? end + 1 : end;
    return data.substr(pos, end - pos);
}

const Field* findField(const std::vector<Field>& fields, std::string_view name, int& count)
{
    const Field* first = nullptr;
    count = 0;
    for (const auto& f : fields)
        if (f.name.size() == name.size() && text::startsWithNoCase(f.name, name)) {
            if (!first)
                first = &f;
            ++count;
        }
    return first;
}

/// "type/subtype; name=value; name="quoted value"" with plain tokens only: no comments (a "("
/// outside quotes), no RFC 2231 or encoded-word parameters, no escapes, no parameter given twice.
bool parseContentType(std::string_view raw, Part& part)
{
    if (needsWordDecoding(raw))
        return false;
    std::string value = text::collapseSpace(raw);
    std::string_view v(value);
    std::size_t i = 0;
    auto token = [&]() {
        const std::size_t start = i;
        while (i < v.size() && isTokenChar(v[i]))
            ++i;
        return v.substr(start, i - start);
    };
    auto skipBlanks = [&] {
        while (i < v.size() && v[i] == ' ')
            ++i;
    };
    const auto type = token();
    if (type.empty() || i >= v.size() || v[i] != '/')
        return false;
    ++i;
    const auto subtype = token();
    if (subtype.empty())
        return false;
    part.type = text::toLower(type) + "/" + text::toLower(subtype);
    bool sawCharset = false, sawReportType = false, sawBoundary = false;
    while (true) {
        skipBlanks();
        if (i >= v.size())
            break;
        if (v[i] != ';')
            return false;
        ++i;
        skipBlanks();
        if (i >= v.size())
            break;
        if (v[i] == ';')
            continue;
        const auto name = token();
        if (name.empty() || i >= v.size() || v[i] != '=')
            return false;
        ++i;
        std::string_view val;
        if (i < v.size() && v[i] == '"') {
            const auto close = v.find('"', i + 1);
            if (close == std::string_view::npos)
                return false;
            val = v.substr(i + 1, close - i - 1);
            if (val.find('\\') != std::string_view::npos)
                return false;
            i = close + 1;
        } else {
            const std::size_t start = i;
            while (i < v.size() && v[i] != ';' && v[i] != ' ' && v[i] != '"' && v[i] != '(')
                ++i;
            val = v.substr(start, i - start);
            if (val.empty())
                return false;
        }
        if (raw.find(val) == std::string_view::npos)
            return false; // a quoted value whose blanks the collapsing changed: GMime keeps them
        const std::string n = text::toLower(name);
        bool* seen = n == "charset" ? &sawCharset
            : n == "report-type"    ? &sawReportType
            : n == "boundary"       ? &sawBoundary
                                    : nullptr;
        if (seen) {
            if (*seen)
                return false;
            *seen = true;
            (n == "charset" ? part.charset : n == "report-type" ? part.reportType : part.boundary) = std::string(val);
        }
    }
    return !part.type.starts_with("multipart/") || (!part.boundary.empty() && part.boundary.size() <= 200);
}

bool scanPart(std::string_view content, const std::vector<Field>& fields, Part& part, int depth);
bool decodable(const Part& part);

bool scanMessageAt(std::string_view data, Message& out, int depth)
{
    std::size_t bodyStart = 0;
    if (!scanFields(data, out.fields, bodyStart) || out.fields.empty())
        return false;
    return scanPart(data.substr(bodyStart), out.fields, out.top, depth);
}

/// Splits a multipart body at its delimiter lines ("--boundary", "--boundary--", trailing blanks
/// allowed); a line that only starts like one is content, as in GMime.
bool splitMultipart(std::string_view body, std::string_view boundary, Part& part, int depth)
{
    struct Delimiter {
        std::size_t start, next;
        bool close;
    };
    std::vector<Delimiter> found;
    std::size_t pos = 0;
    while (pos < body.size()) {
        std::size_t at;
        if (pos == 0 && body.starts_with("--"))
            at = 0;
        else {
            const auto hit = body.find("\n--", pos == 0 ? 0 : pos - 1);
            if (hit == std::string_view::npos)
                break;
            at = hit + 1;
        }
        std::size_t next = 0;
        const auto line = lineAt(body, at, next);
        pos = next > at ? next : at + 1;
        if (line.size() < 2 + boundary.size() || line.compare(2, boundary.size(), boundary) != 0)
            continue;
        auto rest = line.substr(2 + boundary.size());
        const bool close = rest.starts_with("--");
        if (close)
            rest.remove_prefix(2);
        bool blanksOnly = true;
        for (char c : rest)
            blanksOnly = blanksOnly && isBlank(c);
        if (!blanksOnly)
            continue;
        found.push_back({at, next, close});
        if (close)
            break;
    }
    if (found.empty() || found.front().close)
        return false; // no parts: GMime's repairs read this
    // Without a closing delimiter the last part runs to the end of the body: the message's end,
    // or the line break before the enclosing multipart's next delimiter, as in GMime.
    for (std::size_t k = 0; k < found.size(); ++k) {
        if (found[k].close)
            break;
        const std::size_t start = found[k].next;
        std::size_t end = body.size();
        if (k + 1 < found.size()) {
            // The line break before a delimiter belongs to the delimiter.
            end = found[k + 1].start == 0 ? 0 : found[k + 1].start - 1;
            if (end < start)
                end = start;
        }
        const auto region = body.substr(start, end - start);
        Part child;
        std::size_t bodyStart = 0;
        if (region.empty() || region.front() != '\n') {
            // A part with header fields: its first line must be one (otherwise GMime finds no
            // parts at all) and a blank line must end them before the next delimiter.
            std::size_t next = 0;
            const auto first = lineAt(region, 0, next);
            if (first.empty() || first.find(':') == std::string_view::npos)
                return false;
            if (!scanFields(region, child.fields, bodyStart))
                return false;
            // Fields that run into the delimiter with no blank line: the region ends mid-line.
            if (bodyStart == region.size() && !region.ends_with('\n'))
                return false;
        } else {
            bodyStart = 1; // no fields: the blank line starts the part
        }
        if (!scanPart(region.substr(bodyStart), child.fields, child, depth + 1))
            return false;
        part.parts.push_back(std::move(child));
    }
    return true;
}

bool scanPart(std::string_view content, const std::vector<Field>& fields, Part& part, int depth)
{
    if (depth > kMaxDepth)
        return false;
    int count = 0;
    const Field* type = findField(fields, "Content-Type", count);
    if (count > 1)
        return false;
    if (type) {
        if (!parseContentType(type->raw, part))
            return false;
    } else {
        part.type = "text/plain";
    }
    const Field* cte = findField(fields, "Content-Transfer-Encoding", count);
    if (count > 1)
        return false;
    if (cte) {
        if (needsWordDecoding(cte->raw))
            return false;
        const std::string e = text::toLower(text::collapseSpace(cte->raw));
        if (e == "base64")
            part.encoding = Part::Encoding::Base64;
        else if (e == "quoted-printable")
            part.encoding = Part::Encoding::QuotedPrintable;
        else if (e != "7bit" && e != "8bit" && e != "binary")
            return false;
    }
    if (part.type.starts_with("multipart/")) {
        if (part.type == "multipart/digest" || part.encoding != Part::Encoding::Plain)
            return false; // a digest's parts default to message/rfc822
        part.kind = Part::Kind::Multipart;
        return splitMultipart(content, part.boundary, part, depth);
    }
    if (part.type == "message/rfc822") {
        if (part.encoding != Part::Encoding::Plain || content.empty())
            return false;
        part.kind = Part::Kind::Message;
        part.message = std::make_unique<Message>();
        return scanMessageAt(content, *part.message, depth + 1);
    }
    // Other message/ types GMime may hold as messages or partials: not read here.
    if (part.type.starts_with("message/") && part.type != "message/delivery-status"
        && part.type != "message/global-delivery-status" && part.type != "message/feedback-report"
        && part.type != "message/disposition-notification")
        return false;
    part.kind = Part::Kind::Leaf;
    part.content = content;
    // Decoded later, only if read; whether it decodes as GMime would is settled now.
    return part.encoding == Part::Encoding::Plain || decodable(part);
}

/// The value of a base64 digit, -1 for any other byte: one table look-up, as every byte of every
/// base64 part passes here twice (whether it decodes, when the scan reads it; then decoding).
constexpr auto kBase64Values = [] {
    std::array<signed char, 256> v {};
    v.fill(-1);
    for (int c = 'A'; c <= 'Z'; ++c)
        v[static_cast<std::size_t>(c)] = static_cast<signed char>(c - 'A');
    for (int c = 'a'; c <= 'z'; ++c)
        v[static_cast<std::size_t>(c)] = static_cast<signed char>(c - 'a' + 26);
    for (int c = '0'; c <= '9'; ++c)
        v[static_cast<std::size_t>(c)] = static_cast<signed char>(c - '0' + 52);
    v['+'] = 62;
    v['/'] = 63;
    return v;
}();

int base64Value(unsigned char c)
{
    return kBase64Values[c];
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool needsWordDecoding(std::string_view raw)
{
    // A byte outside 0x01..0x7F (checked eight at a time: every header field comes here).
    return !text::plainAscii(raw) || raw.find("=?") != std::string_view::npos;
}

bool scanFields(std::string_view data, std::vector<Field>& out, std::size_t& bodyStart)
{
    std::size_t pos = 0;
    bool skipping = false; ///< inside a line GMime drops (and the folded lines that follow it)
    while (pos < data.size()) {
        std::size_t next = 0;
        const auto line = lineAt(data, pos, next);
        if (line.empty()) {
            bodyStart = next;
            return true;
        }
        if (line.find('\0') != std::string_view::npos)
            return false;
        if (isBlank(line.front())) {
            if (out.empty())
                return false;
            if (!skipping) {
                // The value runs on over the folded line (the bytes are contiguous).
                auto& last = out.back();
                last.raw = std::string_view(last.raw.data(),
                                            static_cast<std::size_t>(line.data() + line.size() - last.raw.data()));
            }
        } else {
            const auto colon = line.find(':');
            auto name = line.substr(0, colon == std::string_view::npos ? 0 : colon);
            // "Subject : x" is Subject (blanks before the colon go); a name with a blank or an
            // odd byte inside, or a line without a colon, is no field: GMime drops it with its
            // folded lines, unless it comes first (then there is no header at all).
            while (!name.empty() && isBlank(name.back()))
                name.remove_suffix(1);
            bool valid = colon != std::string_view::npos && !name.empty();
            for (char c : name)
                valid = valid && isNameChar(c);
            if (!valid) {
                // Declined: a line starting with ':' (GMime makes a field without a name), 8-bit
                // bytes before the colon (it may take them as a name), a dropped line first or
                // last without its line end (it then finds no message at all).
                if (colon == 0 || out.empty() || next == pos + line.size())
                    return false;
                for (char c : line.substr(0, colon == std::string_view::npos ? line.size() : colon))
                    if (static_cast<unsigned char>(c) >= 0x80)
                        return false;
                skipping = true;
            } else {
                skipping = false;
                out.push_back({name, line.substr(colon + 1)});
            }
        }
        pos = next;
    }
    bodyStart = data.size();
    return true;
}

bool scanMessage(std::string_view data, Message& out)
{
    // Before a message's first field GMime skips mbox envelope lines, "From …" or a quoted
    // ">From …": a message saved with its own envelope line and then put in an mbox (as
    // vs_sisimai.sh builds its input) starts with one more than the mbox reader takes off. Such a
    // line is no field unless blanks alone stand between "From" and a colon ("From : x" is a
    // field named From). Without its line end GMime finds no message at all: declined.
    while (data.starts_with("From ") || data.starts_with(">From ")) {
        std::size_t next = 0;
        const auto line = lineAt(data, 0, next);
        if (next == line.size())
            return false;
        std::size_t i = data.front() == '>' ? 6 : 5;
        while (i < line.size() && isBlank(line[i]))
            ++i;
        if (i < line.size() && line[i] == ':')
            break;
        data.remove_prefix(next);
    }
    return scanMessageAt(data, out, 0);
}

namespace
{

/// The transfer decoding of `in`, written to `out` when it is given (else only checked): false
/// where GMime's decoders might give something else (base64 that goes on after its padding or
/// stops mid-quartet, a quoted-printable "=" without two characters after it).
bool transferDecode(std::string_view in, Part::Encoding encoding, std::string* out)
{
    switch (encoding) {
    case Part::Encoding::Plain:
        if (out)
            out->assign(in);
        return true;
    case Part::Encoding::Base64: {
        // Written through a pointer into a buffer sized for the most the input can give, not
        // push_back per byte: every base64 part of every bounce is decoded here.
        char* o = nullptr;
        if (out) {
            out->resize(in.size() / 4 * 3 + 3);
            o = out->data();
        }
        // On failure `out` holds what was decoded up to there, as before.
        auto stop = [&] {
            if (out)
                out->resize(static_cast<std::size_t>(o - out->data()));
            return false;
        };
        unsigned value = 0;
        int n = 0, pad = 0;
        for (char ch : in) {
            const auto c = static_cast<unsigned char>(ch);
            int v = 0;
            if (c == '=') {
                ++pad;
            } else {
                v = base64Value(c);
                if (v < 0)
                    continue; // line breaks and anything else outside the alphabet
                if (pad)
                    return stop(); // data after the padding: GMime stops there
            }
            value = (value << 6) | static_cast<unsigned>(v);
            if (++n == 4) {
                if (o) {
                    *o++ = static_cast<char>(value >> 16);
                    *o++ = static_cast<char>(value >> 8);
                    *o++ = static_cast<char>(value);
                }
                value = 0;
                n = 0;
            }
        }
        if (n != 0 || pad > 2)
            return stop(); // a cut quartet
        if (out)
            out->resize(static_cast<std::size_t>(o - out->data()) - static_cast<std::size_t>(pad));
        return true;
    }
    case Part::Encoding::QuotedPrintable: {
        if (out)
            out->reserve(in.size());
        // The text between two '=' is copied as it is, in one piece (memchr finds the next).
        std::size_t i = 0;
        while (i < in.size()) {
            const void* eq = std::memchr(in.data() + i, '=', in.size() - i);
            const std::size_t at = eq ? static_cast<std::size_t>(static_cast<const char*>(eq) - in.data()) : in.size();
            if (out)
                out->append(in.substr(i, at - i));
            if (at >= in.size())
                break;
            if (at + 1 >= in.size())
                return false;
            if (in[at + 1] == '\n') { // a soft line break
                i = at + 2;
                continue;
            }
            if (at + 2 >= in.size())
                return false;
            const int hi = hexValue(in[at + 1]), lo = hexValue(in[at + 2]);
            if (hi < 0 || lo < 0) {
                if (in[at + 2] == '\n')
                    return false;
                if (out)
                    out->append(in.substr(at, 3)); // kept as written, as GMime does
            } else if (out) {
                out->push_back(static_cast<char>(hi * 16 + lo));
            }
            i = at + 3;
        }
        return true;
    }
    }
    return false;
}

bool decodable(const Part& part)
{
    return transferDecode(part.content, part.encoding, nullptr);
}

} // namespace

bool decodeContent(const Part& part, std::string& out)
{
    out.clear();
    return transferDecode(part.content, part.encoding, &out);
}

} // namespace bt::mimescan
