// SPDX-License-Identifier: MIT
#include "formats.h"
#include "text.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

namespace bt::formats
{

const std::vector<Format>& registry()
{
    // Order matters: reports that say what they are (ARF, auto-replies, RFC 3464) first, then
    // the MTAs' own wording, then the fallback that finds an address and a reply anywhere.
    static const std::vector<Format> formats = {
        // Reports that say what they are.
        {"arf", parseArf},
        // A list manager's refusal of a post, before auto-replies: Sympa marks it auto-replied.
        {"listmanager", parseListManager},
        {"auto_reply", parseAutoReply},
        // Providers and gateways whose text is more precise than their DSN part, if any.
        {"amazonses", parseAmazonSes},
        {"googlegroups", parseGoogleGroups},
        {"gmail", parseGmail},
        {"yahoo", parseYahoo},
        {"mailru", parseMailRu},
        {"mcafee", parseMcAfee},
        {"mfilter", parseMFilter},
        {"zoho", parseZoho},
        {"verizon", parseVerizon},
        {"japan", parseJapan},
        {"exchange", parseExchange},
        // RFC 3464, then the MTAs' own wording.
        {"rfc3464", parseRfc3464},
        {"qmail", parseQmail},
        {"exim", parseExim},
        {"sendmail", parseSendmail},
        {"postfix", parsePostfix},
        {"courier", parseCourier},
        {"opensmtpd", parseOpenSmtpd},
        {"dragonfly", parseDragonfly},
        {"messagingserver", parseMessagingServer},
        {"notes", parseNotes},
        {"apachejames", parseApacheJames},
        // A delivery report MIME did not see (wrong boundary, pasted as text), then anything else
        // that still looks like a bounce.
        {"rfc3464", parseRfc3464Text},
        {"generic", parseGeneric},
    };
    return formats;
}

namespace
{

// Where a bounce's own text ends and the returned message begins, as MTAs write it.
constexpr std::array<std::string_view, 17> kOriginalMarkers = {
    "--- Below this line is a copy of the message.",
    "------ This is a copy of the message, including all the headers.",
    "------ This is a copy of the message's headers.",
    "----- Original message -----",
    "-----Original Message-----",
    "----- Transcript of session follows -----" /* not a copy, but Sendmail puts headers after */,
    "------ The body of the message is",
    "   ----- Unsent message follows -----",
    "   ----- Original message follows -----",
    "----- Message header follows -----",
    "--- Original message follows.",
    "Original message follows.",
    "Content-Type: message/rfc822",
    "Content-Type: text/rfc822-headers",
    "------ Headers of the original message",
    "----- The header of the original message is following. -----",
    "Possibly truncated original message follows:", // GroupWise
};

} // namespace

namespace
{

/// Where each marker first occurs in `body` (npos when it does not), ignoring ASCII case: in one
/// lower-case copy of the body, with one memmem per anchor word rather than one per marker. Every
/// marker holds one of three words (its anchor); where an anchor occurs, the markers holding it
/// are compared at the anchor's offset inside them. Anchor occurrences come in order, so the
/// first match is each marker's first occurrence, as a search per marker would find it. A memmem
/// per marker (16 passes over the body, run by several modules per message) was a twentieth of
/// reading a bounce.
std::array<std::size_t, kOriginalMarkers.size()> markerPositions(std::string_view body)
{
    struct Anchor {
        std::string_view word;
        std::array<std::size_t, kOriginalMarkers.size()> markers {}; // indexes, `count` of them
        std::array<std::size_t, kOriginalMarkers.size()> offsets {}; // of the word in each marker
        std::size_t count = 0;
    };
    static const std::array<std::string, kOriginalMarkers.size()> lowered = [] {
        std::array<std::string, kOriginalMarkers.size()> out;
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = text::toLower(kOriginalMarkers[i]);
        return out;
    }();
    static const auto anchors = [] {
        std::array<Anchor, 3> out {Anchor {"message"}, Anchor {"transcript"}, Anchor {"rfc822-headers"}};
        for (std::size_t m = 0; m < lowered.size(); ++m) {
            auto a = std::find_if(out.begin(), out.end(),
                                  [&](const Anchor& x) { return lowered[m].find(x.word) != std::string::npos; });
            if (a == out.end())
                throw std::logic_error("markerPositions: a marker without an anchor word");
            a->markers[a->count] = m;
            a->offsets[a->count] = lowered[m].find(a->word);
            ++a->count;
        }
        return out;
    }();
    // Several modules ask about the same body in turn: the last body and its answer are kept per
    // thread, and a body equal to it (one memcmp, far cheaper than the search) gets that answer.
    thread_local std::string last;
    thread_local std::array<std::size_t, kOriginalMarkers.size()> lastAt = [] {
        std::array<std::size_t, kOriginalMarkers.size()> none;
        none.fill(std::string_view::npos); // the answer for the empty body `last` starts as
        return none;
    }();
    if (body.size() == last.size() && (body.empty() || std::memcmp(body.data(), last.data(), body.size()) == 0))
        return lastAt;
    last.assign(body);
    // The lower-case copy reuses one buffer per thread: no allocation per call.
    thread_local std::string hay;
    hay.assign(body);
    for (char& c : hay)
        c = text::lower(c);
    const char* h = hay.data();
    std::array<std::size_t, kOriginalMarkers.size()> at;
    at.fill(std::string_view::npos);
    for (const auto& a : anchors) {
        std::size_t left = a.count;
        for (std::size_t from = 0; left > 0 && from < hay.size();) {
            const void* found = ::memmem(h + from, hay.size() - from, a.word.data(), a.word.size());
            if (!found)
                break;
            const auto p = static_cast<std::size_t>(static_cast<const char*>(found) - h);
            for (std::size_t j = 0; j < a.count; ++j) {
                const std::size_t m = a.markers[j];
                if (at[m] != std::string_view::npos || p < a.offsets[j])
                    continue;
                const std::size_t start = p - a.offsets[j];
                if (hay.size() - start >= lowered[m].size()
                    && std::memcmp(h + start, lowered[m].data(), lowered[m].size()) == 0) {
                    at[m] = start;
                    --left;
                }
            }
            from = p + 1;
        }
    }
    lastAt = at;
    return at;
}

bool isTranscriptMarker(std::size_t i)
{
    // The transcript belongs to the bounce. (Settled at compile time: searching the marker for
    // the word on every call was a million memchr calls on the vs_sisimai mbox.)
    static constexpr auto transcript = [] {
        std::array<bool, kOriginalMarkers.size()> t {};
        for (std::size_t m = 0; m < t.size(); ++m)
            t[m] = kOriginalMarkers[m].find("Transcript") != std::string_view::npos;
        return t;
    }();
    return transcript[i];
}

} // namespace

std::string_view bodyBeforeOriginal(std::string_view body)
{
    std::size_t cut = body.size();
    const auto at = markerPositions(body);
    for (std::size_t i = 0; i < at.size(); ++i)
        if (!isTranscriptMarker(i) && at[i] < cut)
            cut = at[i];
    return body.substr(0, cut);
}

std::optional<Headers> inlineOriginal(std::string_view body)
{
    const auto at = markerPositions(body);
    for (std::size_t m = 0; m < at.size(); ++m) {
        if (isTranscriptMarker(m) || at[m] == std::string_view::npos)
            continue;
        auto rest = body.substr(at[m] + kOriginalMarkers[m].size());
        // Skip to the first line that looks like a header.
        const auto lines = text::splitLines(rest);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto t = lines[i].text;
            const auto colon = t.find(':');
            if (colon != std::string_view::npos && colon > 0 && colon < 40 && t.find(' ') > colon
                && !text::isSpace(t.front())) {
                auto block = rest.substr(lines[i].offset);
                const auto end = block.find("\n\n");
                Headers h = parseHeaderBlock(block.substr(0, end));
                if (!h.fields.empty())
                    return h;
                break;
            }
        }
    }
    return std::nullopt;
}

std::string cleanAddress(std::string_view value)
{
    auto v = text::trim(value);
    const auto semi = v.find(';');
    if (semi != std::string_view::npos && semi < 12)
        v = text::trim(v.substr(semi + 1));
    while (!v.empty() && (v.front() == '<' || v.front() == '"' || v.front() == '\''))
        v.remove_prefix(1);
    while (!v.empty()
           && (v.back() == '>' || v.back() == '"' || v.back() == '\'' || v.back() == '.' || v.back() == ','
               || v.back() == ':'))
        v.remove_suffix(1);
    const auto sp = text::findFirstOf(v, " \t");
    if (sp != std::string_view::npos)
        v = v.substr(0, sp);
    return std::string(v);
}

std::vector<std::string> findAddresses(std::string_view s)
{
    std::vector<std::string> out;
    for (std::size_t at = s.find('@'); at != std::string_view::npos; at = s.find('@', at + 1)) {
        auto isLocal = [](char c) {
            return text::isAlpha(c) || text::isDigit(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '='
                || c == '/' || c == '!' || c == '%' || c == '#' || c == '$' || c == '&' || c == '*' || c == '?'
                || c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '~' || c == '\'';
        };
        auto isDomain = [](char c) { return text::isAlpha(c) || text::isDigit(c) || c == '.' || c == '-'; };
        std::size_t b = at;
        while (b > 0 && isLocal(s[b - 1]))
            --b;
        std::size_t e = at + 1;
        while (e < s.size() && isDomain(s[e]))
            ++e;
        while (e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
            --e;
        while (b < at && (s[b] == '.' || s[b] == '\''))
            ++b;
        if (b == at || e <= at + 1)
            continue;
        const auto domain = s.substr(at + 1, e - at - 1);
        if (domain.find('.') == std::string_view::npos)
            continue;
        // An address inside a web address is a parameter of a page, not a mailbox the text names
        // ("http://www.openspf.net/Why?s=mfrom;id=a@example.com;ip=…;r=b@example.net").
        std::size_t token = b;
        while (token > 0 && b - token < 400 && !text::isSpace(s[token - 1]) && s[token - 1] != '<'
               && s[token - 1] != '(' && s[token - 1] != '"' && s[token - 1] != '[')
            --token;
        if (s.substr(token, b - token).find("://") != std::string_view::npos)
            continue;
        std::string addr(s.substr(b, e - b));
        if (std::find(out.begin(), out.end(), addr) == out.end())
            out.push_back(std::move(addr));
    }
    return out;
}

namespace
{

bool isOneOf(std::string_view name, std::initializer_list<std::string_view> names)
{
    return std::find(names.begin(), names.end(), name) != names.end();
}

/// Fields of RFC 3464 (and the X- fields MTAs add to it): never part of a returned message.
bool isDeliveryStatusField(std::string_view name)
{
    return isOneOf(name,
                   {"reporting-mta",
                    "final-recipient",
                    "original-recipient",
                    "action",
                    "status",
                    "diagnostic-code",
                    "remote-mta",
                    "arrival-date",
                    "last-attempt-date",
                    "received-from-mta",
                    "original-envelope-id",
                    "will-retry-until",
                    "dsn-gateway",
                    "x-postfix-queue-id",
                    "x-postfix-sender",
                    "x-actual-recipient",
                    "x-original-message-id",
                    "x-display-name",
                    "x-supplementary-info",
                    "x-mailer-daemon-error",
                    "x-sender",
                    "x-original-sender"});
}

/// The field name at the start of `s` ("Received" in "Received: from …"), lower case; empty
/// when `s` is not a header field line. Names hold no space, so "MAIL FROM: a@b" or "Sent date:
/// …" in a bounce's own listing are not fields. The value may follow the colon without a space
/// ("Status:5.1.1", as some MTAs write their reports); "https://…" is a URL, not a field.
std::string fieldNameAt(std::string_view s)
{
    if (s.empty() || !text::isAlpha(s.front()))
        return {};
    std::size_t i = 1;
    while (i < s.size() && i < 48 && (text::isAlpha(s[i]) || text::isDigit(s[i]) || s[i] == '-' || s[i] == '_'))
        ++i;
    if (i >= s.size() || s[i] != ':')
        return {};
    if (i + 1 < s.size() && !text::isSpace(s[i + 1])
        && (s[i + 1] == '/' || !isDeliveryStatusField(text::toLower(s.substr(0, i)))))
        return {};
    return text::toLower(s.substr(0, i));
}

std::size_t indentOf(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return i;
}

} // namespace

std::size_t returnedHeadersStart(std::string_view body)
{
    const auto lines = text::splitLines(body);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto indent = indentOf(lines[i].text);
        if (fieldNameAt(lines[i].text.substr(indent)).empty())
            continue;
        int fields = 0;
        bool common = false, dsn = false;
        std::size_t j = i;
        for (; j < lines.size(); ++j) {
            const auto t = lines[j].text;
            if (text::trim(t).empty())
                break;
            const auto ind = indentOf(t);
            if (ind > indent && fields > 0)
                continue; // a folded line of the field before
            const auto name = ind == indent ? fieldNameAt(t.substr(ind)) : std::string();
            if (name.empty())
                break;
            ++fields;
            // Fields every message has; Content-* and MIME-Version also head a MIME part of the
            // bounce itself, so they do not count.
            common = common
                || isOneOf(name,
                           {"received", "return-path", "message-id", "from", "to", "subject", "date", "delivered-to",
                            "x-original-to", "dkim-signature", "reply-to", "sender"});
            dsn = dsn || isDeliveryStatusField(name);
        }
        if (fields >= 3 && common && !dsn)
            return lines[i].offset;
        if (j > i)
            i = j - 1;
    }
    return std::string_view::npos;
}

std::string rawDeliveryStatus(std::string_view body)
{
    const auto lines = text::splitLines(body);
    std::size_t start = lines.size(), indent = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto ind = indentOf(lines[i].text);
        const auto name = fieldNameAt(lines[i].text.substr(ind));
        if (isOneOf(name,
                    {"reporting-mta", "final-recipient", "original-recipient", "original-envelope-id", "arrival-date",
                     "received-from-mta", "x-postfix-queue-id"})) {
            start = i;
            indent = ind;
            break;
        }
    }
    std::string out;
    bool recipient = false;
    for (std::size_t i = start; i < lines.size(); ++i) {
        const auto t = lines[i].text;
        if (text::trim(t).empty()) {
            out += '\n';
            continue;
        }
        const auto ind = indentOf(t);
        if (ind > indent && !out.empty()) {
            out += t.substr(indent); // folded: keeps white space in front, so it stays a continuation
            out += '\n';
            continue;
        }
        const auto name = ind == indent ? fieldNameAt(t.substr(ind)) : std::string();
        // The report ends where something else starts: the returned message's headers, a MIME
        // boundary, prose.
        if (name.empty() || !(isDeliveryStatusField(name) || name.starts_with("x-")))
            break;
        if (name == "final-recipient" || name == "original-recipient")
            recipient = true;
        out += t.substr(indent);
        out += '\n';
    }
    return recipient ? out : std::string();
}

bool mentionIsNotRecipient(std::string_view body, std::size_t pos)
{
    if (pos > body.size())
        return false;
    if (pos > 0 && body[pos - 1] == '=')
        return true; // smtp.mailfrom=a@b, header.from=…, envelope-from=…
    const auto nl = body.rfind('\n', pos == 0 ? 0 : pos - 1);
    const auto lineStart = nl == std::string_view::npos ? 0 : nl + 1;
    auto prefix = body.substr(lineStart, pos - lineStart);
    const auto lowerPrefix = text::toLower(prefix);
    // A token in angle brackets after "id": Received lines and Message-ID-like listings.
    for (std::string_view tail : {"id <", "id: <", "id=<"})
        if (lowerPrefix.ends_with(tail))
            return true;
    auto label = text::trim(prefix);
    if (label == "From" || label == ">From")
        return true; // an mbox envelope line "From a@b Thu Apr 29 …" of a copied message

    const auto colon = label.find(':');
    if (colon == std::string_view::npos || colon > 40)
        return false;
    const auto name = text::toLower(text::trim(label.substr(0, colon)));
    return isOneOf(name,
                   {"from", "sender", "reply-to", "return-path", "message-id", "references", "in-reply-to", "mail from",
                    "envelope-from", "x-sender", "content-id", "resent-from", "resent-message-id", "errors-to",
                    "x-original-sender", "x-postfix-sender", "sent by", "original sender", "x-message-id", "list-id",
                    "list-unsubscribe", "thread-index",
                    // The sender's line of an NDR's details ("Sender Address: a@b", Microsoft
                    // 365's, in its languages).
                    "sender address", "sender's address", "absenderadresse", "absender",
                    "adresse de l'exp\xc3\xa9"
                    "diteur",
                    "exp\xc3\xa9"
                    "diteur",
                    "direcci\xc3\xb3n del remitente", "remitente", "indirizzo mittente", "mittente", "adres afzender",
                    "afzender", "endere\xc3\xa7o do remetente", "remetente", "adres nadawcy", "nadawca"});
}

void parseDeliveryStatus(std::string_view status, BounceReport& report)
{
    // Blocks separated by blank lines: the first is per-message, the others per-recipient.
    // Continuation lines (leading white space) unfold onto the previous field.
    std::vector<std::vector<std::pair<std::string, std::string>>> blocks(1);
    for (const auto& line : text::splitLines(status)) {
        const auto t = line.text;
        if (text::trim(t).empty()) {
            if (!blocks.back().empty())
                blocks.emplace_back();
            continue;
        }
        if (text::isSpace(t.front()) && !blocks.back().empty()) {
            auto& v = blocks.back().back().second;
            v += ' ';
            v += text::trim(t);
            continue;
        }
        const auto colon = t.find(':');
        // A line that is no field ("550-5.1.1 not exist. Please try", a URL with a colon) after a
        // field continues it: some MTAs wrap the Diagnostic-Code without indenting.
        auto isField = [&] {
            if (colon == std::string_view::npos || colon == 0 || colon > 40 || !text::isAlpha(t.front()))
                return false;
            // "Action : failed" (Mimecast) has white space before the colon.
            for (char c : text::trim(t.substr(0, colon)))
                if (!(text::isAlpha(c) || text::isDigit(c) || c == '-' || c == '_'))
                    return false;
            return t.substr(colon + 1, 2) != "//"; // "https://…" is a wrapped URL
        };
        if (!isField()) {
            if (!blocks.back().empty()) {
                auto& v = blocks.back().back().second;
                v += ' ';
                v += text::trim(t);
            }
            continue;
        }
        auto name = text::toLower(text::trim(t.substr(0, colon)));
        // Some MTAs leave out the blank lines: a recipient field starts a new block when the
        // current one already holds a recipient, or holds only per-message fields.
        if ((name == "final-recipient" || name == "original-recipient") && !blocks.back().empty()) {
            const auto& b = blocks.back();
            auto has = [&](std::string_view n) {
                return std::any_of(b.begin(), b.end(), [&](const auto& f) { return f.first == n; });
            };
            // Per-message fields and no per-recipient one yet (Mimecast writes Action and Status
            // before the recipient fields, all in one block with Reporting-MTA).
            const bool perMessageOnly = (has("reporting-mta") || has("arrival-date") || has("received-from-mta"))
                && !has("action") && !has("status") && !has("diagnostic-code") && !has("remote-mta");
            const bool startsNext = name == "final-recipient" ? has("final-recipient")
                                                              : has("final-recipient") && has("original-recipient");
            const bool noRecipientYet = !has("final-recipient") && !has("original-recipient");
            if (startsNext || (perMessageOnly && noRecipientYet))
                blocks.emplace_back();
        }
        blocks.back().emplace_back(std::move(name), std::string(text::trim(t.substr(colon + 1))));
    }
    if (blocks.back().empty())
        blocks.pop_back();
    bool perMessageSeen = false;
    for (const auto& block : blocks) {
        auto get = [&](std::string_view name) -> std::string {
            for (const auto& [k, v] : block)
                if (k == name)
                    return v;
            return {};
        };
        const bool isRecipient = !get("final-recipient").empty() || !get("original-recipient").empty();
        if (!isRecipient) {
            if (!perMessageSeen) {
                report.reportingMta = cleanAddress(get("reporting-mta"));
                report.arrivalDate = get("arrival-date");
                for (const char* k : {"x-postfix-sender", "x-original-sender", "x-sender"})
                    if (const auto v = get(k); !v.empty() && report.envelopeSender.empty())
                        report.envelopeSender = cleanAddress(v);
                perMessageSeen = true;
            }
            continue;
        }
        BounceRecipient r;
        r.address = cleanAddress(get("final-recipient"));
        r.originalAddress = cleanAddress(get("original-recipient"));
        if (r.address.empty() || r.address.find('@') == std::string::npos)
            if (!r.originalAddress.empty())
                r.address = r.originalAddress;
        r.action = text::toLower(text::trim(get("action")));
        const auto sp = text::findFirstOf(r.action, " (");
        if (sp != std::string::npos)
            r.action.resize(sp);
        r.status = std::string(text::trim(get("status")));
        const auto ssp = text::findFirstOf(r.status, " (");
        if (ssp != std::string::npos)
            r.status.resize(ssp);
        r.reply = get("diagnostic-code");
        r.remoteMta = cleanAddress(get("remote-mta"));
        r.lastAttempt = get("last-attempt-date");
        report.recipients.push_back(std::move(r));
    }
}

} // namespace bt::formats
