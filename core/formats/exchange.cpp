// SPDX-License-Identifier: MIT
// Exchange Server 5.5–2003 (Internet Mail Service / Internet Mail Connector) bounce text, sent
// without an RFC 3464 part:
//
//   did not reach the following recipient(s):
//
//   kijitora@example.co.jp on Thu, 29 Apr 2007 16:51:51 -0500
//       The recipient name is not recognized
//       MSEXCH:IMS:KIJITORA CAT:EXAMPLE:EXCHANGE 0 (000C05A6) Unknown Recipient
//
// The hexadecimal code in parentheses is Exchange's own diagnosis and says more than the words
// beside it: 000C05A6 is an unknown recipient, 000C0595 an ambiguous one, and so on. Without such
// a code ("MSEXCH:IMC:…" then "Recipient Not Found") Exchange states no reason and the words are
// read like any reply.
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <array>

namespace bt::formats
{

namespace
{

bool fromExchange(const Email& email)
{
    if (email.headers.has("X-MS-Embedded-Report"))
        return true;
    for (const auto& f : email.headers.fields) {
        const auto name = text::toLower(f.name);
        const auto v = text::trim(f.value);
        if (name == "x-mailer"
            && (text::startsWithNoCase(v, "Internet Mail Service (")
                || text::startsWithNoCase(v, "Microsoft Exchange Server Internet Mail Connector")))
            return true;
        if (name == "x-mimeole" && text::startsWithNoCase(v, "Produced By Microsoft Exchange"))
            return true;
        if (name == "received" && v.find(" with Internet Mail Service (") != std::string_view::npos)
            return true;
    }
    return false;
}

struct ExchangeCode {
    std::string_view code, reason;
};

// The codes whose meaning is a reason of their own (as Sisimai's Exchange2003 module reads them).
// 000B099C, 000B09AA and 000B09B6 wrap a remote server's error: the words after them decide.
constexpr std::array<ExchangeCode, 8> kCodes = {{
    {"000C05A6", "userunknown"}, // Unknown Recipient
    {"000C0595", "filtered"}, // Ambiguous Recipient
    {"00010256", "systemerror"}, // Too many recipients
    {"000D06B5", "systemerror"}, // No proxy for recipient
    {"00120270", "networkerror"}, // Too many hops
    {"00050311", "contenterror"}, // Conversion to Internet format failed
    {"000502CC", "contenterror"}, // Conversion to Internet format failed
    {"000B0981", "securityerror"}, // 502 Server does not support AUTH
}};

} // namespace

bool parseExchange(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty() || !fromExchange(email))
        return false;
    const auto human = bodyBeforeOriginal(email.body);
    auto start = text::findNoCase(human, "did not reach the following recipient(s):");
    if (start == std::string_view::npos)
        start = text::findNoCase(human, "following recipient(s) could not be reached:");
    if (start == std::string_view::npos)
        return false;
    report.format = "exchange";

    // "address on date" opens a recipient; the indented lines after it are about that recipient.
    struct Block {
        std::string address, text;
    };
    std::vector<Block> blocks;
    bool closed = false; // the current block has ended
    const auto lines = text::splitLines(human.substr(start));
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto t = lines[i].text;
        const auto trimmed = text::trim(t);
        const auto on = trimmed.find(" on ");
        if (on != std::string_view::npos && trimmed.substr(0, on).find('@') != std::string_view::npos
            && trimmed.substr(0, on).find(' ') == std::string_view::npos) {
            const auto found = findAddresses(trimmed.substr(0, on));
            if (!found.empty()) {
                blocks.push_back({found.front(), {}});
                closed = false;
                continue;
            }
        }
        if (blocks.empty() || closed)
            continue;
        // A blank line after them ends the lines about a recipient: what follows (a gateway's
        // footer, a signature) is not about it.
        if (trimmed.empty()) {
            closed = !blocks.back().text.empty();
            continue;
        }
        auto& b = blocks.back();
        if (!b.text.empty())
            b.text += ' ';
        b.text += std::string(trimmed);
    }
    for (auto& b : blocks) {
        BounceRecipient r;
        r.address = b.address;
        r.action = "failed";
        r.context = b.text;
        const auto reply = primaryReply(b.text);
        if (reply.basicCode || !reply.enhancedCode.empty())
            r.reply = reply.text;
        const auto ms = b.text.find("MSEXCH:");
        if (ms != std::string::npos) {
            const auto open = b.text.find('(', ms);
            const auto close = open == std::string::npos ? open : b.text.find(')', open);
            if (close != std::string::npos) {
                const auto code = text::toLower(std::string_view(b.text).substr(open + 1, close - open - 1));
                for (const auto& c : kCodes)
                    if (code == text::toLower(c.code))
                        r.reasonHint = std::string(c.reason);
            }
        }
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
