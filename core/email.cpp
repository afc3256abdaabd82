// SPDX-License-Identifier: MIT
// The only file that talks to GMime: MIME structure, transfer encodings, charsets and encoded
// words are GMime's job (robust on broken mail); the rest of the core sees plain C++ values.
#include "email.h"

#include "private/mimescan.h"
#include "replyparser.h"
#include "text.h"

#include <gmime/gmime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace bt
{
namespace
{

template<typename T> struct GUnref {
    void operator()(T* p) const
    {
        if (p)
            g_object_unref(p);
    }
};
template<typename T> using GPtr = std::unique_ptr<T, GUnref<T>>;

struct GFreeDeleter {
    void operator()(char* p) const { g_free(p); }
};
using GString_ = std::unique_ptr<char, GFreeDeleter>;

GMimeParserOptions* options()
{
    static GMimeParserOptions* opts = [] {
        g_mime_init();
        auto* o = g_mime_parser_options_new();
        // Undeclared 8-bit text: try UTF-8 first, then what the corpus of Japanese carriers
        // and Western mailers sends, ending with a charset that accepts every byte.
        static const char* fallback[] = {"utf-8", "iso-2022-jp", "euc-jp", "shift_jis", "windows-1252", nullptr};
        g_mime_parser_options_set_fallback_charsets(o, fallback);
        g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
        g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
        // Each iconv_open() of a charset whose gconv module is not loaded dlopen()s it, and the
        // last iconv_close() unloads it again: per message, that was most of the parse time.
        // One descriptor per common charset, never closed, keeps the modules loaded.
        static const char* keep[]
            = {"ISO-2022-JP", "EUC-JP", "SHIFT_JIS",    "CP932",   "WINDOWS-1252", "ISO-8859-1", "ISO-8859-15",
               "UTF-7",       "KOI8-R", "WINDOWS-1251", "GB18030", "BIG5",         "EUC-KR",     "ISO-2022-KR"};
        static std::vector<GIConv> kept;
        for (const char* cs : keep)
            if (GIConv cd = g_iconv_open("UTF-8", cs); cd != reinterpret_cast<GIConv>(-1))
                kept.push_back(cd);
        return o;
    }();
    return opts;
}

bool validUtf8(std::string_view s)
{
    return text::plainAscii(s) || g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr);
}

std::string decode8bit(std::string_view bytes)
{
    if (validUtf8(bytes))
        return std::string(bytes);
    GString_ out(g_mime_utils_decode_8bit(options(), bytes.data(), bytes.size()));
    return out ? std::string(out.get()) : std::string();
}

Headers headersOf(GMimeObject* object)
{
    Headers h;
    GMimeHeaderList* list = g_mime_object_get_header_list(object);
    const int n = list ? g_mime_header_list_get_count(list) : 0;
    for (int i = 0; i < n; ++i) {
        GMimeHeader* header = g_mime_header_list_get_header_at(list, i);
        const char* name = g_mime_header_get_name(header);
        const char* value = g_mime_header_get_value(header);
        if (!name)
            continue;
        // GMime's value is unfolded and RFC 2047-decoded; collapse leftover runs of space.
        h.fields.push_back({name, text::collapseSpace(decode8bit(value ? value : ""))});
    }
    return h;
}

/// A message's header fields as GMime's header list holds them: no Content-* field, each value
/// read as g_mime_header_get_value reads it (unfolded, then encoded words and undeclared 8-bit
/// bytes decoded), GMime asked only for the values that need it.
Headers headersOf(const std::vector<mimescan::Field>& fields)
{
    Headers h;
    h.fields.reserve(fields.size());
    for (const auto& f : fields) {
        // GMime files every Content-* field under the message's MIME part, not its headers.
        if (text::startsWithNoCase(f.name, "content-"))
            continue;
        std::string value;
        if (mimescan::needsWordDecoding(f.raw)) {
            std::string unfolded;
            unfolded.reserve(f.raw.size());
            for (char c : text::trim(f.raw))
                if (c != '\n')
                    unfolded.push_back(c);
            GString_ decoded(g_mime_utils_header_decode_text(options(), unfolded.c_str()));
            value = text::collapseSpace(decode8bit(decoded ? decoded.get() : ""));
        } else {
            // Plain ASCII: unfolding and collapsing the spaces is all GMime's reading comes to.
            value = text::collapseSpace(f.raw);
        }
        h.fields.push_back({std::string(f.name), std::move(value)});
    }
    return h;
}

std::string mimeType(GMimeObject* object)
{
    GMimeContentType* ct = g_mime_object_get_content_type(object);
    if (!ct)
        return "text/plain";
    GString_ type(g_mime_content_type_get_mime_type(ct));
    return type ? text::toLower(type.get()) : std::string("text/plain");
}

/// Transfer-decoded bytes of a leaf part.
std::string partBytes(GMimePart* part)
{
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (!wrapper)
        return {};
    GPtr<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(wrapper, mem.get());
    GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
    return array ? std::string(reinterpret_cast<const char*>(array->data), array->len) : std::string();
}

/// A decoded text part's bare CRs (a CR not before an LF) as LFs. The file's own line ends were
/// normalised before parsing, but a base64 body carries the sender's: an old Mac client's CR-only
/// text would otherwise read as one line, a reply running on into the returned message. A CRLF
/// stays as it is (lines are split on LF and lose a trailing CR), and CR CR LF (a CRLF converted
/// twice) ends one line, as in the file's own normalisation.
std::string bareCrAsLf(std::string text)
{
    if (text.find('\r') == std::string::npos)
        return text;
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] != '\r') {
            out.push_back(text[i++]);
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && text[j] == '\r')
            ++j;
        if (j < text.size() && text[j] == '\n') {
            out.append("\r\n");
            i = j + 1;
        } else {
            out.append(j - i, '\n');
            i = j;
        }
    }
    return out;
}

std::string partText(GMimePart* part)
{
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    return bareCrAsLf(toUtf8(partBytes(part), charset ? charset : ""));
}

/// HTML-only bounces (some Exchange and webmail NDRs) as the text a browser shows: tags out,
/// block tags as line breaks, the source's own line breaks and runs of spaces as one space (but
/// inside <pre>), &nbsp; as a space that stays (an indented reply keeps its indent), entities
/// decoded, <style> and <script> left out.
std::string htmlToText(std::string_view html)
{
    std::string out;
    out.reserve(html.size());
    int pre = 0;
    auto appendUtf8 = [&](unsigned long cp) {
        if (cp == 0xA0)
            out.push_back(' ');
        else if (cp < 0x110000)
            text::appendUtf8(out, static_cast<char32_t>(cp));
    };
    for (std::size_t i = 0; i < html.size(); ++i) {
        const char c = html[i];
        if (c == '<') {
            const auto close = html.find('>', i);
            if (close == std::string_view::npos)
                break;
            const auto tag = html.substr(i + 1, close - i - 1);
            auto named = [&](std::string_view name) {
                return text::startsWithNoCase(tag, name)
                    && (tag.size() == name.size() || !text::isAlpha(tag[name.size()]));
            };
            if (named("style") || named("script")) {
                // Their content is no text: skip to the closing tag.
                const auto end = text::findNoCase(html, named("style") ? "</style" : "</script", close);
                i = end == std::string_view::npos ? html.size() : html.find('>', end);
                if (i == std::string_view::npos)
                    break;
                continue;
            }
            if (named("pre"))
                ++pre;
            else if (named("/pre") && pre > 0)
                --pre;
            if (named("br") || named("p") || named("/p") || named("div") || named("/div") || named("tr") || named("/tr")
                || named("li") || named("pre") || named("/pre") || named("h1") || named("h2") || named("h3")
                || named("/h1") || named("/h2") || named("/h3") || named("table") || named("/table")
                || named("blockquote") || named("/blockquote"))
                out.push_back('\n');
            else if (named("td") || named("th"))
                out.push_back(' ');
            i = close;
            continue;
        }
        if (c == '&') {
            const auto semi = html.find(';', i);
            if (semi != std::string_view::npos && semi - i <= 10) {
                const auto entity = html.substr(i + 1, semi - i - 1);
                static constexpr std::pair<std::string_view, unsigned long> named[]
                    = {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0}};
                unsigned long cp = 0;
                for (const auto& [n, v] : named)
                    if (entity.size() == n.size() && text::startsWithNoCase(entity, n))
                        cp = v;
                if (!cp && entity.size() > 1 && entity[0] == '#') {
                    const bool hex = entity[1] == 'x' || entity[1] == 'X';
                    const auto digits = std::string(entity.substr(hex ? 2 : 1));
                    char* end = nullptr;
                    const unsigned long v = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
                    if (!digits.empty() && end && *end == '\0')
                        cp = v;
                }
                if (cp) {
                    appendUtf8(cp);
                    i = semi;
                    continue;
                }
            }
        }
        if (!pre && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            // The source's line breaks and indentation are no text; one space stands for a run.
            if (!out.empty() && out.back() != ' ' && out.back() != '\n')
                out.push_back(' ');
            continue;
        }
        if (c == '\xC2' && i + 1 < html.size() && html[i + 1] == '\xA0') {
            out.push_back(' '); // a raw no-break space
            ++i;
            continue;
        }
        out.push_back(c);
    }
    return out;
}

/// A part labelled text/plain (or untyped) that holds a delivery status report: its first
/// field is one of RFC 3464's per-message or per-recipient fields, and a recipient and its
/// action or status follow. Some gateways relabel the report part; read as text, its fields
/// would be taken for the bounce's prose.
bool isDeliveryStatusText(std::string_view content)
{
    const auto first = content.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return false;
    const auto head = content.substr(first, 40);
    bool starts = false;
    for (std::string_view f : {"reporting-mta:", "final-recipient:", "original-recipient:", "original-envelope-id:",
                               "arrival-date:", "received-from-mta:", "x-postfix-queue-id:", "action:"})
        starts = starts || text::startsWithNoCase(head, f);
    if (!starts)
        return false;
    const bool recipient = text::findNoCase(content, "\nfinal-recipient:") != std::string_view::npos
        || text::findNoCase(content, "\noriginal-recipient:") != std::string_view::npos
        || text::startsWithNoCase(head, "final-recipient:") || text::startsWithNoCase(head, "original-recipient:");
    const bool outcome = text::findNoCase(content, "\naction:") != std::string_view::npos
        || text::findNoCase(content, "\nstatus:") != std::string_view::npos || text::startsWithNoCase(head, "action:");
    return recipient && outcome;
}

/// Where the body of a returned message starts when a part typed text/plain holds that whole
/// message (some MTAs send the original so instead of as message/rfc822): the part opens with a
/// header block of at least three fields, two of them ones every message carries, and nothing
/// but fields before its blank line. npos when the part is prose. Read as prose, the original's
/// headers ("Content-Type", "TLS", its Subject) were taken for the bounce's words.
std::size_t returnedMessageBody(std::string_view content)
{
    static constexpr std::string_view kMessageFields[]
        = {"received:", "return-path:", "from:", "to:", "subject:", "date:", "message-id:", "mime-version:"};
    std::size_t fields = 0, known = 0, at = content.find_first_not_of("\r\n");
    if (at == std::string_view::npos)
        return std::string_view::npos;
    while (at < content.size()) {
        auto end = content.find('\n', at);
        if (end == std::string_view::npos)
            end = content.size();
        auto line = content.substr(at, end - at);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        if (line.empty())
            return fields >= 3 && known >= 2 ? std::min(end + 1, content.size()) : std::string_view::npos;
        if (text::isSpace(line.front())) {
            if (fields == 0)
                return std::string_view::npos;
        } else {
            const auto colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0 || colon > 60)
                return std::string_view::npos;
            for (char c : line.substr(0, colon))
                if (!(text::isAlpha(c) || text::isDigit(c) || c == '-' || c == '_'))
                    return std::string_view::npos;
            ++fields;
            for (const auto f : kMessageFields)
                if (text::startsWithNoCase(line, f)) {
                    ++known;
                    break;
                }
        }
        at = end + 1;
    }
    return std::string_view::npos;
}

/// What the walker below asks of a MIME tree, for GMime's objects.
struct GMimeTree {
    using Node = GMimeObject*;
    using Message = GMimeMessage*;
    static bool isMultipart(Node n) { return GMIME_IS_MULTIPART(n); }
    template<typename F> static void forEachPart(Node n, F&& f)
    {
        auto* mp = GMIME_MULTIPART(n);
        for (int i = 0; i < g_mime_multipart_get_count(mp); ++i)
            f(g_mime_multipart_get_part(mp, i));
    }
    static std::string type(Node n) { return mimeType(n); }
    static std::string reportType(Node n)
    {
        const char* rt = g_mime_object_get_content_type_parameter(n, "report-type");
        return rt ? text::toLower(rt) : std::string();
    }
    static bool isMessagePart(Node n) { return GMIME_IS_MESSAGE_PART(n); }
    static Message attached(Node n) { return g_mime_message_part_get_message(GMIME_MESSAGE_PART(n)); }
    static bool isLeaf(Node n) { return GMIME_IS_PART(n); }
    static std::string text(Node n) { return partText(GMIME_PART(n)); }
    static Headers headers(Message m) { return headersOf(GMIME_OBJECT(m)); }
    static Node body(Message m) { return g_mime_message_get_body(m); }
    // Content-Type belongs to the message's MIME part in GMime, not to its headers.
    static Node mimePart(Message m) { return g_mime_message_get_mime_part(m); }
};

/// The same for the byte scan's views (private/mimescan.h).
struct ScanTree {
    using Node = const mimescan::Part*;
    using Message = const mimescan::Message*;
    static bool isMultipart(Node n) { return n->kind == mimescan::Part::Kind::Multipart; }
    template<typename F> static void forEachPart(Node n, F&& f)
    {
        for (const auto& p : n->parts)
            f(&p);
    }
    static std::string type(Node n) { return n->type; }
    static std::string reportType(Node n) { return text::toLower(n->reportType); }
    static bool isMessagePart(Node n) { return n->kind == mimescan::Part::Kind::Message; }
    static Message attached(Node n) { return n->message.get(); }
    static bool isLeaf(Node n) { return n->kind == mimescan::Part::Kind::Leaf; }
    static std::string text(Node n)
    {
        std::string bytes;
        mimescan::decodeContent(*n, bytes); // the scan accepted only what decodes
        return bareCrAsLf(toUtf8(bytes, n->charset));
    }
    static Headers headers(Message m) { return headersOf(m->fields); }
    // GMime's guess of a message's body part, then the first text part below it (originalBody),
    // comes to the first text part of the whole tree for the shapes the scan accepts.
    static Node body(Message m) { return &m->top; }
    static Node mimePart(Message m) { return &m->top; }
};

template<typename Tree> struct Walker {
    using Node = typename Tree::Node;
    using Message = typename Tree::Message;
    Email& email;
    std::string html;
    bool outerIsReport = false; ///< the message itself is a daemon's report (isReportHeaders)
    Message attachedReport = nullptr; ///< the first attached message that is a report
    Message firstAttached = nullptr; ///< the first attached message of a person's message
    /// What a person forwarded: the attached report, else the first attached message (an SES
    /// notification, an abuse report typed text/plain, an auto-reply without Auto-Submitted and
    /// KDDI's Japanese subjects do not say they are reports); it is read as a bounce first, and
    /// the message itself only when that gives no recipient.
    Message forwarded() const { return attachedReport ? attachedReport : firstAttached; }
    /// A delivery report (multipart/report) attached to a daemon's or service's own message, as
    /// a relay or a mail service passes on the bounce it got for its user's message ("A delivery
    /// status notification was returned … It is attached below unchanged."). Read in the
    /// message's place when the message reports nothing itself (bounceInPlace).
    Message relayedReport = nullptr;

    void original(Message message)
    {
        if (!message || email.original)
            return;
        email.original = Tree::headers(message);
        if (Node body = Tree::body(message))
            originalBody(body);
    }

    void originalBody(Node object)
    {
        if (!email.originalBody.empty())
            return;
        if (Tree::isMultipart(object)) {
            Tree::forEachPart(object, [&](Node part) {
                if (email.originalBody.empty())
                    originalBody(part);
            });
        } else if (Tree::isLeaf(object) && Tree::type(object).starts_with("text/")) {
            email.originalBody = Tree::text(object);
        }
    }

    void walk(Node object)
    {
        if (Tree::isMultipart(object)) {
            if (email.reportType.empty() && Tree::type(object) == "multipart/report")
                email.reportType = Tree::reportType(object);
            Tree::forEachPart(object, [&](Node part) { walk(part); });
            return;
        }
        if (Tree::isMessagePart(object)) {
            Message attached = Tree::attached(object);
            const bool first = attached && !email.original;
            original(attached);
            // Only a person's message forwards a bounce: a daemon's bounce (the common case)
            // returns the original message, which is not looked at again.
            if (attached && !outerIsReport && !firstAttached)
                firstAttached = attached;
            if (attached && outerIsReport && !relayedReport) {
                Node body = Tree::mimePart(attached);
                if (body && Tree::type(body) == "multipart/report")
                    relayedReport = attached;
            }
            if (attached && !attachedReport && !outerIsReport) {
                Node body = Tree::mimePart(attached);
                if ((body && Tree::type(body) == "multipart/report")
                    || isReportHeaders(first ? *email.original : Tree::headers(attached)))
                    attachedReport = attached;
            }
            return;
        }
        if (!Tree::isLeaf(object))
            return;
        const std::string type = Tree::type(object);
        // Decoded only when a branch below reads it: an image, a PDF or a TNEF blob of the bounce
        // is never transfer-decoded nor charset-guessed.
        std::optional<std::string> decoded;
        auto content = [&]() -> const std::string& {
            if (!decoded)
                decoded = Tree::text(object);
            return *decoded;
        };
        std::size_t bodyAt = std::string::npos; // where a returned message's body starts
        if (type == "message/delivery-status" || type == "message/global-delivery-status"
            || ((type == "text/plain" || type == "application/octet-stream") && isDeliveryStatusText(content()))) {
            // Two report parts stay two: a field of the second must not run on from the last
            // line of the first.
            if (!email.deliveryStatus.empty())
                email.deliveryStatus += "\n\n";
            email.deliveryStatus += content();
        } else if (type == "message/feedback-report")
            email.feedbackReport += content();
        else if (type == "text/rfc822-headers" || type == "text/rfc822-header") {
            if (!email.original)
                email.original = parseHeaderBlock(content());
        } else if (type == "text/plain" && !email.body.empty() && !email.original
                   && (bodyAt = returnedMessageBody(content())) != std::string::npos) {
            // The returned message typed text/plain, after the bounce's own words.
            email.original = parseHeaderBlock(std::string_view(content()).substr(0, bodyAt));
            if (email.originalBody.empty())
                email.originalBody = content().substr(bodyAt);
        } else if (type == "text/plain" || type == "text/enriched" || type == "message/disposition-notification") {
            if (!email.body.empty())
                email.body += "\n";
            email.body += content();
        } else if (type == "text/html") {
            html += htmlToText(content());
        }
    }
};

/// Skips an mbox "From " envelope line at the very top: it is not a header.
std::string_view skipEnvelopeLine(std::string_view bytes)
{
    if (bytes.starts_with("From ")) {
        // Any line end: a file with CR alone (old Mac) has no LF at all.
        const auto nl = text::findFirstOf(bytes, "\r\n");
        if (nl == std::string_view::npos)
            return {};
        const bool crlf = bytes[nl] == '\r' && nl + 1 < bytes.size() && bytes[nl + 1] == '\n';
        bytes = bytes.substr(nl + (crlf ? 2 : 1));
    }
    return bytes;
}

/// True for "boundary=…", "charset=…": a Content-Type parameter that some mailers put on the
/// next line without indenting it, which ends the header for a strict parser.
bool bareParameterLine(std::string_view line)
{
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq > 20)
        return false;
    for (char c : line.substr(0, eq))
        if (!(text::isAlpha(c) || c == '-' || c == '*'))
            return false;
    return true;
}

/// `bytes` (LF line ends only) with a tab put before each bare parameter line that follows a
/// line ending in ';' (spaces after it aside), the indentation such a continuation lacks. Only
/// the ';' are looked at, found with memchr, and the bytes are copied in runs between
/// insertions: going line by line was a memchr and a trim per line of every message.
std::string indentBareParameters(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size() + 8);
    const char* base = bytes.data();
    const std::size_t n = bytes.size();
    std::size_t copied = 0, from = 0;
    while (from < n) {
        const void* semi = std::memchr(base + from, ';', n - from);
        if (!semi)
            break;
        std::size_t i = static_cast<std::size_t>(static_cast<const char*>(semi) - base) + 1;
        while (i < n && bytes[i] != '\n' && text::isSpace(bytes[i]))
            ++i;
        if (i >= n)
            break; // the last line: nothing follows it
        if (bytes[i] != '\n') {
            from = i; // more text after the ';' on this line
            continue;
        }
        const std::size_t next = i + 1;
        const void* nl = std::memchr(base + next, '\n', n - next);
        const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - base) : n;
        if (bareParameterLine(bytes.substr(next, end - next))) {
            out.append(bytes.substr(copied, next - copied));
            out.push_back('\t');
            copied = next;
        }
        from = next;
    }
    out.append(bytes.substr(copied));
    return out;
}

/// GMime wants LF or CRLF; a file with bare CR line ends (old Mac) is normalised first, and a
/// header parameter continued without indentation gets the indentation it lacks.
std::string normaliseLineEnds(std::string_view bytes)
{
    const char* base = bytes.data();
    const std::size_t n = bytes.size();
    if (!std::memchr(base, '\r', n))
        return indentBareParameters(bytes); // LF only: an mbox or a maildir file on Unix
    // Every line end becomes one LF: CRLF, CR alone (old Mac files: each ends a line), and CR CR
    // LF (a CRLF text converted twice by a gateway), which ends one line, not two: a blank line
    // there would cut a multi-line reply in half. The text between CRs is copied in runs (found
    // with memchr); a byte loop over every CRLF message was a tenth of reading one.
    std::string lf;
    lf.reserve(n);
    std::size_t i = 0;
    while (i < n) {
        const void* cr = std::memchr(base + i, '\r', n - i);
        if (!cr) {
            lf.append(bytes.substr(i));
            break;
        }
        const auto at = static_cast<std::size_t>(static_cast<const char*>(cr) - base);
        lf.append(bytes.substr(i, at - i));
        lf.push_back('\n');
        std::size_t j = at;
        while (j < n && bytes[j] == '\r')
            ++j;
        i = j < n && bytes[j] == '\n' ? j + 1 : at + 1;
    }
    return indentBareParameters(lf);
}

/// Where the header block of `data` ends (the offset of the body), npos without a blank line.
std::size_t bodyOffset(std::string_view data)
{
    if (data.starts_with("\n"))
        return 1;
    const auto p = data.find("\n\n");
    return p == std::string_view::npos ? p : p + 2;
}

/// The boundary a multipart body really uses when the declared one never occurs: the first
/// "--token" line whose token comes back as another delimiter line. Empty when there is none.
std::string actualBoundary(std::string_view body)
{
    for (const auto& line : text::splitLines(body)) {
        auto t = line.text;
        while (!t.empty() && text::isSpace(t.back()))
            t.remove_suffix(1);
        if (t.size() < 3 || t.size() > 200 || !t.starts_with("--") || t.find(' ') != std::string_view::npos)
            continue;
        const auto token = t.substr(2);
        if (token.find_first_not_of('-') == std::string_view::npos)
            continue; // a separator line of dashes
        const std::string again = "\n--" + std::string(token);
        if (body.find(again, line.offset + t.size()) != std::string_view::npos)
            return std::string(token);
    }
    return {};
}

/// The header block without its Content-Type field (folded lines included).
std::string withoutContentType(std::string_view headers)
{
    std::string out;
    bool skipping = false;
    for (const auto& line : text::splitLines(headers)) {
        const auto t = line.text;
        if (text::trim(t).empty())
            continue; // the blank line that ends the header: the new Content-Type comes first
        if (text::isSpace(t.front())) {
            if (!skipping) {
                out.append(t);
                out.push_back('\n');
            }
            continue;
        }
        skipping = text::startsWithNoCase(t, "content-type:");
        if (!skipping) {
            out.append(t);
            out.push_back('\n');
        }
    }
    return out;
}

GMimeMessage* construct(const std::string& data)
{
    // g_mime_init() and the class set-up in options() must come before the first GMime object.
    GMimeParserOptions* opts = options();
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(data.data(), data.size()));
    GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    return g_mime_parser_construct_message(parser.get(), opts);
}

} // namespace

const std::string& Headers::get(std::string_view name) const
{
    static const std::string none;
    for (const auto& f : fields)
        if (f.name.size() == name.size() && text::startsWithNoCase(f.name, name))
            return f.value;
    return none;
}

bool Headers::has(std::string_view name) const
{
    for (const auto& f : fields)
        if (f.name.size() == name.size() && text::startsWithNoCase(f.name, name))
            return true;
    return false;
}

namespace
{

/// Charsets whose bytes 0x01..0x7F are ASCII, so that ASCII text converts to itself: UTF-8, ASCII,
/// ISO 8859-x and the Windows code pages 125x. Not ISO-2022-*, UTF-7, UTF-16, HZ …, whose ASCII
/// bytes are escapes or halves of characters.
bool extendsAscii(std::string_view charset)
{
    const auto is
        = [&](std::string_view name) { return charset.size() == name.size() && text::startsWithNoCase(charset, name); };
    return is("utf-8") || is("us-ascii") || is("utf8") || is("ascii")
        || (text::startsWithNoCase(charset, "iso-8859-") && charset.size() <= 11)
        || (text::startsWithNoCase(charset, "windows-125") && charset.size() == 12);
}

} // namespace

std::string toUtf8(std::string_view bytes, std::string_view charset)
{
    // ASCII text in (or undeclared as) a charset that extends ASCII: g_convert and decode8bit
    // would both return it unchanged (a failed conversion falls back to decode8bit too).
    if ((charset.empty() || extendsAscii(charset)) && text::plainAscii(bytes))
        return std::string(bytes);
    options(); // g_mime_init
    if (!charset.empty()) {
        const std::string cs(charset);
        const char* iconvName = g_mime_charset_iconv_name(cs.c_str());
        const bool isUtf8 = text::toLower(cs) == "utf-8" || text::toLower(cs) == "us-ascii";
        if (!isUtf8 || !validUtf8(bytes)) {
            gsize written = 0;
            GError* error = nullptr;
            GString_ out(g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", iconvName, nullptr,
                                   &written, &error));
            if (error)
                g_error_free(error);
            if (out)
                return std::string(out.get(), written);
        }
    }
    return decode8bit(bytes);
}

namespace
{

void collectParts(GMimeObject* object, std::vector<Attachment>& out)
{
    if (GMIME_IS_MULTIPART(object)) {
        auto* multipart = GMIME_MULTIPART(object);
        const int n = g_mime_multipart_get_count(multipart);
        for (int i = 0; i < n; ++i)
            collectParts(g_mime_multipart_get_part(multipart, i), out);
        return;
    }
    if (!GMIME_IS_PART(object))
        return; // message/rfc822: a forwarded message's parts are not this message's attachments
    auto* part = GMIME_PART(object);
    Attachment a;
    if (GMimeContentType* type = g_mime_object_get_content_type(object)) {
        GString_ mime(g_mime_content_type_get_mime_type(type));
        if (mime)
            a.contentType = text::toLower(mime.get());
    }
    if (const char* name = g_mime_part_get_filename(part))
        a.filename = name;
    if (GMimeDataWrapper* content = g_mime_part_get_content(part)) {
        GPtr<GMimeStream> mem(g_mime_stream_mem_new());
        // write_to_stream decodes the transfer encoding; the bytes stay as they were sent.
        g_mime_data_wrapper_write_to_stream(content, mem.get());
        if (GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get())))
            a.bytes.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    }
    out.push_back(std::move(a));
}

} // namespace

std::vector<Attachment> attachmentsOf(std::string_view raw)
{
    std::vector<Attachment> out;
    const std::string data = normaliseLineEnds(skipEnvelopeLine(raw));
    if (text::trim(data).empty())
        return out;
    GPtr<GMimeMessage> message(construct(data));
    if (!message)
        return out;
    if (GMimeObject* top = g_mime_message_get_mime_part(message.get()))
        collectParts(top, out);
    return out;
}

namespace
{

/// The boundary of a multipart whose declaring field was lost: a body that is plainly MIME parts
/// ("--b" then "Content-Type: …") under a header without Content-Type (stripped by a gateway).
/// Only without any Content-Type: a text/plain part that says so may quote a whole message.
/// Empty when the body is no such thing.
std::string lostMultipartBoundary(const Headers& headers, bool multipart, std::string_view rawBody)
{
    if (multipart || rawBody.empty() || headers.has("Content-Type"))
        return {};
    std::string boundary = actualBoundary(rawBody);
    if (boundary.empty())
        return {};
    const std::string delimiter = "--" + boundary;
    const auto first = rawBody.find(delimiter);
    // The parts start the body (after at most a "This is a multi-part message" preamble): a
    // bounce whose own prose comes first and quotes a MIME message below is not one.
    const auto preamble = text::trim(rawBody.substr(0, first));
    bool partHeaders = false;
    for (auto d = first; d != std::string_view::npos && !partHeaders; d = rawBody.find(delimiter, d + 1)) {
        const auto next = rawBody.find('\n', d);
        partHeaders = next != std::string_view::npos
            && text::startsWithNoCase(text::trim(rawBody.substr(next + 1, 64)), "content-");
    }
    if (partHeaders && preamble.size() <= 300 && preamble.find('@') == std::string_view::npos)
        return boundary;
    return {};
}

std::string_view rawBodyOf(const std::string& data)
{
    const auto offset = bodyOffset(data);
    return offset == std::string_view::npos ? std::string_view() : std::string_view(data).substr(offset);
}

/// Walks a message's MIME tree into `email`, whose headers are set: its text, reports and
/// returned message, the text of its HTML only where it has no plain text. The walker comes back
/// for what it saw beside them (an attached report).
template<typename Tree> Walker<Tree> walkInto(Email& email, typename Tree::Node top)
{
    Walker<Tree> w {email, {}};
    w.outerIsReport = isReportHeaders(email.headers);
    if (top)
        w.walk(top);
    if (text::trim(email.body).empty() && !w.html.empty())
        email.body = std::move(w.html);
    return w;
}

/// The attached message to read as the bounce in this message's place, else null; only when the
/// message reports nothing itself (no report part of its own). A person's forward: the attached
/// report, else the first attached message. A daemon's or service's notice that passes on a
/// delivery report it attached: that report, unless the notice's words carry a reply (a bounce of
/// a bounce states the reply its own recipient got).
template<typename W> typename W::Message bounceInPlace(const W& w, const Email& email)
{
    if (!email.deliveryStatus.empty() || !email.feedbackReport.empty())
        return nullptr;
    if (w.forwarded())
        return w.forwarded();
    if (!w.relayedReport)
        return nullptr;
    const Reply own = primaryReply(email.body);
    return !own.basicCode && own.enhancedCode.empty() ? w.relayedReport : nullptr;
}

/// The fast path: the byte scan's parts, read by the same walker. Nullopt where the scan declines
/// the shape, or where the message needs one of the GMime path's repairs or its serialising of a
/// forwarded bounce: those are read by readWithGMime.
std::optional<Email> readWithScan(const std::string& data)
{
    mimescan::Message message;
    if (!mimescan::scanMessage(data, message))
        return std::nullopt;
    Email email;
    email.headers = headersOf(message.fields);
    if (email.headers.fields.empty())
        return std::nullopt;
    const auto w = walkInto<ScanTree>(email, &message.top);
    if (bounceInPlace(w, email))
        return std::nullopt;
    const bool multipart = message.top.kind == mimescan::Part::Kind::Multipart;
    if (!lostMultipartBoundary(email.headers, multipart, rawBodyOf(data)).empty())
        return std::nullopt;
    if (text::trim(email.body).empty() && email.deliveryStatus.empty())
        return std::nullopt;
    return email;
}

std::optional<Email> readWithGMime(const std::string& data)
{
    GPtr<GMimeMessage> message(construct(data));
    if (!message)
        return std::nullopt;
    Email email;
    email.headers = headersOf(GMIME_OBJECT(message.get()));
    if (email.headers.fields.empty())
        return std::nullopt;
    GMimeObject* top = g_mime_message_get_mime_part(message.get());
    const auto w = walkInto<GMimeTree>(email, top);
    // A bounce forwarded or passed on as an attachment is read as the bounce first (a bounce of a
    // bounce sent by a daemon is about its own recipient: forwarded() stays null then).
    if (const auto inPlace = bounceInPlace(w, email)) {
        GString_ bytes(g_mime_object_to_string(GMIME_OBJECT(inPlace), nullptr));
        if (bytes)
            email.forwardedBounce = bytes.get();
    }
    const bool multipart = top && GMIME_IS_MULTIPART(top);
    const bool noParts = multipart && g_mime_multipart_get_count(GMIME_MULTIPART(top)) == 0;
    const auto offset = bodyOffset(data);
    const std::string_view rawBody = rawBodyOf(data);
    const std::string bodyBoundary = lostMultipartBoundary(email.headers, multipart, rawBody);
    const bool lostMultipart = !bodyBoundary.empty();
    if (!noParts && !lostMultipart && (!text::trim(email.body).empty() || !email.deliveryStatus.empty()))
        return email;
    // Read the parts again with the boundary the body really uses, so the report, the text and
    // the returned message are told apart.
    auto reread = [&](const std::string& fixed) -> std::optional<Email> {
        GPtr<GMimeMessage> again {construct(fixed)};
        if (!again)
            return std::nullopt;
        Email repaired;
        repaired.headers = email.headers;
        // (Whether an attached message is a report, which the walk also notes, is not asked here.)
        walkInto<GMimeTree>(repaired, g_mime_message_get_mime_part(again.get()));
        if (!text::trim(repaired.body).empty() || !repaired.deliveryStatus.empty() || !repaired.feedbackReport.empty()
            || repaired.original)
            return repaired;
        return std::nullopt;
    };
    const std::string head(std::string_view(data).substr(0, offset == std::string_view::npos ? 0 : offset));
    if (lostMultipart)
        if (auto repaired = reread(withoutContentType(head) + "Content-Type: multipart/mixed; boundary=\""
                                   + bodyBoundary + "\"\n\n" + std::string(rawBody)))
            return std::move(*repaired);
    // A multipart whose declared boundary never occurs in the body (rewritten by a gateway, cut
    // from a longer header line): GMime sees no part at all.
    if (noParts && !rawBody.empty()) {
        const std::string boundary = actualBoundary(rawBody);
        const char* declared = g_mime_multipart_get_boundary(GMIME_MULTIPART(top));
        if (!boundary.empty() && (!declared || boundary != declared)) {
            // The declared value is replaced where it stands, so the type and its other
            // parameters (multipart/report; report-type=…) stay as the sender wrote them.
            std::string fixedHead = head;
            const auto at = declared && *declared ? fixedHead.find(declared) : std::string::npos;
            const std::string fixed = at != std::string::npos
                ? fixedHead.replace(at, std::strlen(declared), boundary) + std::string(rawBody)
                : withoutContentType(head) + "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\n\n"
                    + std::string(rawBody);
            if (auto repaired = reread(fixed))
                return std::move(*repaired);
        }
    }
    if (!text::trim(email.body).empty() || !email.deliveryStatus.empty())
        return email;
    // Nothing readable came out of the MIME tree. Some MTAs write the bounce's own words before
    // the first boundary (the prologue) and attach only the original.
    if (top && GMIME_IS_MULTIPART(top))
        if (const char* prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(top)))
            email.body = decode8bit(text::trim(prologue));
    if (!text::trim(email.body).empty() || rawBody.empty())
        return email;
    // Last resort: the body as text, so the readers can still find a report or an MTA's words.
    email.body = decode8bit(rawBody);
    return email;
}

} // namespace

std::optional<Email> parseEmail(std::string_view raw)
{
    return mimescan::parseEmailWith(raw, mimescan::Reader::Either);
}

std::optional<Email> mimescan::parseEmailWith(std::string_view raw, Reader reader)
{
    const std::string data = normaliseLineEnds(skipEnvelopeLine(raw));
    if (text::trim(data).empty())
        return std::nullopt;
    if (reader != Reader::GMimeOnly)
        if (auto email = readWithScan(data); email || reader == Reader::ScanOnly)
            return email;
    return readWithGMime(data);
}

std::string isoTimestamp(std::string_view date)
{
    options();
    const std::string d(text::trim(date));
    if (d.empty())
        return {};
    GDateTime* parsed = g_mime_utils_header_decode_date(d.c_str());
    if (!parsed)
        return {};
    GDateTime* utc = g_date_time_to_utc(parsed);
    g_date_time_unref(parsed);
    if (!utc)
        return {};
    GString_ out(g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ"));
    g_date_time_unref(utc);
    // GMime answers unreadable dates with the epoch: that is "unknown", not 1970.
    if (!out || std::string_view(out.get()).starts_with("1970-01-01T00:00:00"))
        return {};
    return out.get();
}

std::string_view withoutSubjectTags(std::string_view subject)
{
    // Words a gateway writes before a colon ("EXTERNAL: Undelivered Mail …"); a bracketed or
    // starred tag may say anything ("[Suspected Spam]", "***SPAM***", "[EXT]").
    static constexpr std::string_view kWordTags[] = {"external:", "ext:", "spam:", "caution:", "suspected spam:"};
    subject = text::trim(subject);
    for (;;) {
        std::size_t cut = 0;
        if (subject.starts_with('[')) {
            const auto close = subject.find(']');
            if (close != std::string_view::npos && close <= 40)
                cut = close + 1;
        } else if (subject.starts_with('*')) {
            // "*****SPAM*****", "*EXTERNAL*": stars, a word, stars.
            const auto word = subject.find_first_not_of('*');
            const auto stars = word == std::string_view::npos ? std::string_view::npos : subject.find('*', word);
            if (stars != std::string_view::npos && stars <= 40
                && subject.substr(word, stars - word).find(' ') == std::string_view::npos) {
                const auto end = subject.find_first_not_of('*', stars);
                cut = end == std::string_view::npos ? subject.size() : end;
            }
        } else {
            for (const auto tag : kWordTags)
                if (text::startsWithNoCase(subject, tag))
                    cut = tag.size();
        }
        if (cut == 0)
            return subject;
        subject = text::trim(subject.substr(cut));
    }
}

bool isPersonsSubject(std::string_view subject)
{
    // English, German, French, Spanish, Italian, Dutch, Portuguese, Polish and Nordic mail
    // clients' reply and forward prefixes; a daemon writes its own words first ("Undeliverable:
    // RE: …"), never these.
    static constexpr std::string_view kPrefixes[]
        = {"re:", "fwd:", "fw:", "aw:",  "wg:",  "tr:",  "rv:",   "sv:",     "vs:", "vb:",
           "vl:", "i:",   "r:",  "rif:", "enc:", "res:", "antw:", "doorst:", "pd:", "odp:"};
    subject = withoutSubjectTags(subject);
    return std::any_of(std::begin(kPrefixes), std::end(kPrefixes),
                       [&](std::string_view p) { return text::startsWithNoCase(subject, p); });
}

bool isReportHeaders(const Headers& headers)
{
    if (text::findNoCase(headers.get("Content-Type"), "multipart/report") != std::string_view::npos)
        return true;
    // RFC 3834: automatic replies and reports say so ("auto-replied", "auto-generated").
    const auto autoSubmitted = text::toLower(std::string(text::trim(headers.get("Auto-Submitted"))));
    if (!autoSubmitted.empty() && autoSubmitted != "no")
        return true;
    const std::string from = headers.get("From");
    if (text::trim(from) == "<>")
        return true;
    for (std::string_view who :
         {"mailer-daemon", "mailer daemon", "postmaster", "post_master", "mail delivery", "maildelivery"})
        if (text::findNoCase(from, who) != std::string_view::npos)
            return true;
    // The subjects MTAs give their bounces (Postfix, Exim, Sendmail, qmail, Exchange, Gmail),
    // unless a person's reply or forward prefix shows a person kept it.
    const std::string subject = headers.get("Subject");
    if (isPersonsSubject(subject))
        return false;
    for (std::string_view words :
         {"undeliver", "delivery status", "delivery fail", "delivery failure", "failure notice", "returned mail",
          "non-delivery", "nondeliver", "not be delivered", "not delivered", "delivery has failed"})
        if (text::findNoCase(subject, words) != std::string_view::npos)
            return true;
    return false;
}

Headers parseHeaderBlock(std::string_view text)
{
    return *mimescan::parseHeaderBlockWith(text, mimescan::Reader::Either);
}

std::optional<Headers> mimescan::parseHeaderBlockWith(std::string_view text, Reader reader)
{
    std::string data = normaliseLineEnds(text::trim(text));
    data += "\n\n";
    if (reader != Reader::GMimeOnly) {
        std::vector<Field> fields;
        std::size_t bodyStart = 0;
        if (scanFields(data, fields, bodyStart) && !fields.empty())
            return headersOf(fields);
        if (reader == Reader::ScanOnly)
            return std::nullopt;
    }
    GPtr<GMimeMessage> message(construct(data));
    return message ? headersOf(GMIME_OBJECT(message.get())) : Headers {};
}

} // namespace bt
