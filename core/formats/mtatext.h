// SPDX-License-Identifier: MIT
// Helpers the MTA modules share for reading their own wording: SMTP session transcripts
// (">>> RCPT To:<a@b>" / "<<< 550 …"), the SMTP command a sentence names, and the choice between
// the Status field of a report and the enhanced code quoted in the reply. Header-only so the
// modules can use them without touching the shared registry files.
#pragma once

#include "replyparser.h"
#include "text.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace bt::formats::mta
{

/// The SMTP command at the start of `s` (a transcript's ">>> " line without the marker) in the
/// spelling the engine uses for stages: "RCPT TO", "MAIL FROM", "DATA", "EHLO" …; empty if none.
inline std::string commandAt(std::string_view s)
{
    s = text::trim(s);
    struct Name {
        std::string_view word, stage;
    };
    static constexpr Name names[] = {
        {"RCPT", "RCPT TO"}, {"MAIL", "MAIL FROM"}, {"DATA", "DATA"},         {"EHLO", "EHLO"},
        {"HELO", "HELO"},    {"LHLO", "EHLO"},      {"STARTTLS", "STARTTLS"}, {"AUTH", "AUTH"},
        {"QUIT", "QUIT"},    {"RSET", "RSET"},      {"BDAT", "DATA"},         {"XFORWARD", "XFORWARD"},
    };
    for (const auto& n : names)
        if (text::startsWithNoCase(s, n.word)
            && (s.size() == n.word.size() || !text::isAlpha(s[n.word.size()]) || n.word == "RCPT" || n.word == "MAIL"))
            return std::string(n.stage);
    return {};
}

/// An SMTP command named anywhere in a sentence: "… after RCPT TO:<a@b>", "in reply to end of DATA
/// command", "while sending RCPT TO". Empty when the sentence names none.
inline std::string commandNamed(std::string_view s)
{
    if (text::findNoCase(s, "end of data") != std::string_view::npos
        || text::findNoCase(s, "DATA command") != std::string_view::npos)
        return "DATA";
    struct Name {
        std::string_view needle, stage;
    };
    static constexpr Name names[] = {
        {"RCPT TO", "RCPT TO"}, {"RCPT", "RCPT TO"}, {"MAIL FROM", "MAIL FROM"},
        {"EHLO", "EHLO"},       {"HELO", "HELO"},    {"STARTTLS", "STARTTLS"},
    };
    for (const auto& n : names) {
        // Upper case only: "mail from" in prose is not the command.
        if (s.find(n.needle) != std::string_view::npos)
            return std::string(n.stage);
    }
    if (s.find(" DATA") != std::string_view::npos)
        return "DATA";
    return {};
}

/// What a Sendmail/Courier-style session transcript says about one recipient.
struct Transcript {
    std::string command; ///< the command the failing reply answered
    std::string reply; ///< that reply ("550 5.1.1 … User unknown")
    std::vector<std::string> replies; ///< every error reply in order ("<<< 4xx/5xx" lines)
};

/// Reads ">>> COMMAND" / "<<< reply" lines. The failing command for `address` is the RCPT TO
/// naming it when that got an error, else the command before the first error reply (a refusal at
/// greeting, before any command, is "CONN"). With PIPELINING Sendmail logs only ">>> DATA" for the
/// batch "RCPT TO … DATA": when several replies follow it, all but the last answer RCPT TO.
inline Transcript readTranscript(std::string_view block, std::string_view address)
{
    struct Step {
        std::string command;
        bool namesAddress = false;
        std::vector<std::string> replies;
    };
    std::vector<Step> steps(1);
    const auto lines = text::splitLines(block);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto line = text::trim(lines[i].text);
        if (line.starts_with(">>> ")) {
            Step s;
            s.command = commandAt(line.substr(4));
            s.namesAddress = !address.empty() && text::findNoCase(line, address) != std::string_view::npos;
            steps.push_back(std::move(s));
            continue;
        }
        if (!line.starts_with("<<< "))
            continue;
        auto replyText = std::string(text::trim(line.substr(4)));
        // Multi-line replies: "<<< 550-…" then "<<< 550 …".
        while (replyText.size() > 3 && replyText[3] == '-' && i + 1 < lines.size()
               && text::trim(lines[i + 1].text).starts_with("<<< ")) {
            ++i;
            auto more = text::trim(text::trim(lines[i].text).substr(4));
            replyText += ' ';
            replyText += more.size() > 4 ? text::trim(more.substr(4)) : more;
        }
        steps.back().replies.push_back(std::move(replyText));
    }
    Transcript t;
    std::string firstCommand, firstReply, rcptReply;
    for (std::size_t k = 0; k < steps.size(); ++k) {
        const auto& s = steps[k];
        for (std::size_t j = 0; j < s.replies.size(); ++j) {
            const auto& rep = s.replies[j];
            if (rep.empty() || (rep[0] != '4' && rep[0] != '5'))
                continue;
            t.replies.push_back(rep);
            std::string cmd = k == 0 ? std::string("CONN") : s.command;
            if (cmd == "DATA" && j + 1 < s.replies.size())
                cmd = "RCPT TO"; // pipelined: the DATA reply is the last one
            if (firstReply.empty()) {
                firstReply = rep;
                firstCommand = cmd;
            }
            if (s.namesAddress && cmd == "RCPT TO" && rcptReply.empty())
                rcptReply = rep;
        }
    }
    t.command = rcptReply.empty() ? firstCommand : std::string("RCPT TO");
    t.reply = rcptReply.empty() ? firstReply : rcptReply;
    return t;
}

/// A reply wrapped over several lines by the MTA that quotes it ("host x [ip]: 552 Sorry, this
/// mailbox" then "    is over quota"): the reply finder ends at the first line. The lines right
/// after the reply's last line that are indented at least as deep as it, carry no reply code of
/// their own and do not start with one of `stops` (the MTA's own next sentence) belong to it.
/// Prose at the left margin never does.
inline std::string withWrappedLines(std::string_view block, std::string reply,
                                    std::initializer_list<std::string_view> stops = {})
{
    const auto t = text::trim(std::string_view(reply));
    if (t.size() < 8)
        return reply;
    const auto tail = t.substr(t.size() - 8);
    const auto head = block.find(t.substr(0, 8));
    if (head == std::string_view::npos)
        return reply;
    const auto at = block.find(tail, head);
    if (at == std::string_view::npos)
        return reply;
    auto eol = block.find('\n', at);
    if (eol == std::string_view::npos)
        return reply;
    const auto lineStart = block.rfind('\n', at);
    const auto first = lineStart == std::string_view::npos ? 0 : lineStart + 1;
    auto indentOf = [](std::string_view l) {
        std::size_t i = 0;
        while (i < l.size() && (l[i] == ' ' || l[i] == '\t'))
            ++i;
        return i;
    };
    const auto indent = indentOf(block.substr(first, at - first));
    if (indent == 0)
        return reply;
    while (eol < block.size()) {
        const auto next = block.find('\n', eol + 1);
        const auto line = block.substr(eol + 1, (next == std::string_view::npos ? block.size() : next) - eol - 1);
        const auto trimmed = text::trim(line);
        if (trimmed.empty() || indentOf(line) < indent)
            break;
        if (trimmed.size() >= 4 && text::isDigit(trimmed[0]) && text::isDigit(trimmed[1]) && text::isDigit(trimmed[2])
            && (trimmed[3] == ' ' || trimmed[3] == '-'))
            break;
        bool own = false;
        for (const auto s : stops)
            own = own || text::startsWithNoCase(trimmed, s);
        // The next field of a listing ("Remote system: dns;…", "Reason: …"): a capitalised label
        // of at most three words before a colon.
        if (const auto colon = trimmed.find(": "); !own && colon != std::string_view::npos && colon <= 30
            && trimmed.front() >= 'A' && trimmed.front() <= 'Z') {
            const auto label = trimmed.substr(0, colon);
            own = std::count(label.begin(), label.end(), ' ') <= 2
                && std::all_of(label.begin(), label.end(),
                               [](char c) { return text::isAlpha(c) || c == ' ' || c == '-'; });
        }
        if (own)
            break;
        reply += ' ';
        reply += trimmed;
        if (next == std::string_view::npos)
            break;
        eol = next;
    }
    return reply;
}

/// A delivery-status part pasted as text into the body: gateways that forward a bounce inline,
/// and bounces sent without MIME headers whose parts GMime therefore cannot see. Empty if none.
inline std::string_view inlineDeliveryStatus(std::string_view body)
{
    const auto ds = text::findNoCase(body, "Content-Type: message/delivery-status");
    if (ds == std::string_view::npos)
        return {};
    auto part = body.substr(ds);
    const auto blank = part.find("\n\n");
    if (blank == std::string_view::npos)
        return {};
    part = part.substr(blank + 2);
    return part.substr(0, part.find("\n--"));
}

/// Between the Status field of a report and the enhanced code quoted in its reply, the one that
/// says more. Generic or ambiguous Status values (X.0.0, X.Y.0, 4.4.7 "delivery time expired",
/// 5.1.1 over a 5.7.x policy refusal) give way to the reply's; a Status whose class differs from
/// the reply's is replaced by the code that agrees with the reply code.
inline std::string preferStatus(std::string_view status, std::string_view quoted, std::optional<int> replyCode)
{
    if (status.empty())
        return std::string(quoted);
    if (quoted.empty() || status.size() < 5)
        return std::string(status.size() < 5 ? quoted : status);
    if (quoted.size() < 5)
        return std::string(status);
    // The queue gave up (5.4.7) after the last attempt's temporary refusal (451 4.7.650 …): the
    // status is the outcome, the reply only the last deferral's cause.
    if (status == "5.4.7" && quoted[0] == '4')
        return std::string(status);
    if (replyCode && status[0] != quoted[0]) {
        const char rc = static_cast<char>('0' + *replyCode / 100);
        if (rc == status[0])
            return std::string(status);
        if (rc == quoted[0])
            return std::string(quoted);
    }
    if (status == quoted)
        return std::string(status);
    const bool statusZero = status.find(".0") != std::string_view::npos;
    const bool quotedZero = quoted.find(".0") != std::string_view::npos;
    if (status.substr(1) == ".0.0")
        return std::string(quoted.substr(1) == ".0.0" ? status : quoted);
    if (statusZero && !quotedZero)
        return std::string(quoted);
    if (quoted.substr(1) == ".0.0")
        return std::string(status);
    if (status == "4.4.7" || status == "4.7.0" || status.starts_with("5.3."))
        return std::string(quoted);
    for (std::string_view weak : {".5.1", ".5.2", ".5.4", ".5.5"})
        if (status.substr(1, 4) == weak)
            return std::string(quoted);
    if (status == "5.1.1")
        return std::string(quotedZero || quoted.starts_with("5.5.") ? status : quoted);
    if (status == "5.1.3" && quoted.starts_with("5.7."))
        return std::string(quoted);
    return std::string(status);
}

} // namespace bt::formats::mta
