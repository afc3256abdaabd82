// SPDX-License-Identifier: MIT
#include "formats.h"
#include "text.h"

#include <algorithm>
#include <array>

namespace bt::formats
{

const std::vector<Format>& registry()
{
    // Order matters: reports that say what they are (ARF, auto-replies, RFC 3464) first, then
    // the MTAs' own wording, then the fallback that finds an address and a reply anywhere.
    static const std::vector<Format> formats = {
        // Reports that say what they are.
        {"arf", parseArf},
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
        // Anything else that still looks like a bounce.
        {"generic", parseGeneric},
    };
    return formats;
}

namespace
{

// Where a bounce's own text ends and the returned message begins, as MTAs write it.
constexpr std::array<std::string_view, 16> kOriginalMarkers = {
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
};

} // namespace

std::string_view bodyBeforeOriginal(std::string_view body)
{
    std::size_t cut = body.size();
    for (const auto marker : kOriginalMarkers) {
        if (marker.find("Transcript") != std::string_view::npos)
            continue; // the transcript belongs to the bounce
        const auto p = text::findNoCase(body, marker);
        if (p != std::string_view::npos && p < cut)
            cut = p;
    }
    return body.substr(0, cut);
}

std::optional<Headers> inlineOriginal(std::string_view body)
{
    for (const auto marker : kOriginalMarkers) {
        if (marker.find("Transcript") != std::string_view::npos)
            continue;
        auto p = text::findNoCase(body, marker);
        if (p == std::string_view::npos)
            continue;
        auto rest = body.substr(p + marker.size());
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
    const auto sp = v.find_first_of(" \t");
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
        std::string addr(s.substr(b, e - b));
        if (std::find(out.begin(), out.end(), addr) == out.end())
            out.push_back(std::move(addr));
    }
    return out;
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
        if (colon == std::string_view::npos)
            continue;
        blocks.back().emplace_back(text::toLower(text::trim(t.substr(0, colon))),
                                   std::string(text::trim(t.substr(colon + 1))));
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
        const auto sp = r.action.find_first_of(" (");
        if (sp != std::string::npos)
            r.action.resize(sp);
        r.status = std::string(text::trim(get("status")));
        const auto ssp = r.status.find_first_of(" (");
        if (ssp != std::string::npos)
            r.status.resize(ssp);
        r.reply = get("diagnostic-code");
        r.remoteMta = cleanAddress(get("remote-mta"));
        r.lastAttempt = get("last-attempt-date");
        report.recipients.push_back(std::move(r));
    }
}

} // namespace bt::formats
