// SPDX-License-Identifier: MIT
// Exim main log: "=>"/"->" delivered, "**" bounced, "==" deferred, with the sender joined from
// the "<=" arrival line of the same message id (as the Postfix importer joins by queue id).
#include "../replyparser.h"
#include "../text.h"
#include "internal.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace bt::detail
{
namespace
{

struct EximLine {
    std::string time, id, flag, rest;
};

/// "1iwp6u-00CsD4-LS" (or the longer ids of Exim 4.97+): three base-62 parts joined by "-".
bool eximId(std::string_view t)
{
    if (t.size() < 16 || t.size() > 32)
        return false;
    int dashes = 0;
    for (char c : t) {
        if (c == '-')
            ++dashes;
        else if (!text::isDigit(c) && !text::isAlpha(c))
            return false;
    }
    return dashes == 2 && t.front() != '-' && t.back() != '-';
}

/// "2020-01-29 17:18:34[.123] [+0100] [[pid]] ID FLAG rest".
bool splitExim(std::string_view l, EximLine& out)
{
    if (l.size() < 24 || !text::isDigit(l[0]) || l[4] != '-' || l[7] != '-' || l[10] != ' ' || l[13] != ':'
        || l[16] != ':')
        return false;
    std::size_t p = 19;
    if (p < l.size() && l[p] == '.')
        while (++p < l.size() && text::isDigit(l[p])) { }
    out.time = std::string(l.substr(0, p));
    auto skipSpace = [&] {
        while (p < l.size() && l[p] == ' ')
            ++p;
    };
    auto token = [&] {
        skipSpace();
        const auto start = p;
        while (p < l.size() && l[p] != ' ')
            ++p;
        return l.substr(start, p - start);
    };
    skipSpace();
    if (p + 5 <= l.size() && (l[p] == '+' || l[p] == '-') && text::isDigit(l[p + 1])) {
        out.time += ' ';
        out.time += token(); // log_timezone
    }
    skipSpace();
    if (p < l.size() && l[p] == '[') // log_selector +pid
        token();
    const auto id = token();
    if (!eximId(id))
        return false;
    out.id = std::string(id);
    const auto flag = token();
    if (flag != "<=" && flag != "=>" && flag != "->" && flag != "**" && flag != "==" && flag != "*>"
        && flag != "Completed")
        return false;
    out.flag = std::string(flag);
    skipSpace();
    out.rest = std::string(l.substr(p));
    return true;
}

/// The value of " NAME=" up to the next space (or the closing quote of a quoted value).
std::string option(std::string_view rest, std::string_view name)
{
    std::size_t p = 0;
    while ((p = rest.find(name, p)) != std::string_view::npos) {
        if (p == 0 || rest[p - 1] == ' ')
            break;
        ++p;
    }
    if (p == std::string_view::npos)
        return {};
    auto v = rest.substr(p + name.size());
    if (!v.empty() && v.front() == '"') {
        const auto close = v.find('"', 1);
        return std::string(v.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    }
    return std::string(v.substr(0, v.find(' ')));
}

} // namespace

int eximHead(const Head& h)
{
    if (h.isJson)
        return 0;
    // The first lines with a message id and a delivery flag; other lines (connections) may come
    // first, so look at several.
    std::istringstream lines(h.text);
    std::string l;
    EximLine e;
    for (int i = 0; i < 200 && std::getline(lines, l); ++i)
        if (splitExim(l, e) && e.flag != "Completed")
            return 60;
    return 0;
}

void importExim(const std::string& path, Sink& sink)
{
    std::unordered_map<std::string, std::string> senders; // message id → envelope sender
    forEachLogLine(path, sink, [&](const std::string& l, std::int64_t lineNo, std::int64_t lineOffset) {
        EximLine x;
        if (!splitExim(l, x))
            return true; // connections, rejections at SMTP time, queue runs: not delivery records
        if (x.flag == "<=") {
            const std::string from = x.rest.substr(0, x.rest.find(' '));
            senders[x.id] = from == "<>" ? std::string() : from;
            return true;
        }
        if (x.flag == "Completed") {
            senders.erase(x.id);
            return true;
        }
        if (x.flag == "*>")
            return true; // delivery suppressed by -N: nothing was sent
        const Origin o {path, lineNo, lineOffset, l};
        Event e;
        e.source = "exim";
        e.eventType = x.flag == "**" ? "bounce" : x.flag == "==" ? "deferral" : "delivered";
        // "user@x" or, for a local delivery, "local-part <user@x>"; a pipe or file has neither.
        std::string_view rest = x.rest;
        e.recipient = std::string(rest.substr(0, rest.find_first_of(" :")));
        if (e.recipient.find('@') == std::string::npos) {
            const auto lt = rest.find(" <");
            const auto gt = rest.find('>', lt == std::string_view::npos ? 0 : lt);
            if (lt != std::string_view::npos && gt != std::string_view::npos && lt < rest.find(" R="))
                e.recipient = std::string(rest.substr(lt + 2, gt - lt - 2));
        }
        if (!plausibleAddress(e.recipient)) {
            rejectAt(sink, o,
                     "recipient \"" + shownBytes(e.recipient) + "\" is not an e-mail address"
                         + addressDefect(e.recipient));
            return true;
        }
        e.timestamp = normaliseTime(x.time);
        if (e.timestamp.empty()) {
            rejectAt(sink, o, "timestamp \"" + x.time + "\" cannot be read");
            return true;
        }
        const std::string host = option(rest, "H=");
        e.remoteMta = !host.empty() && host.front() == '[' ? std::string() : host;
        // "I=[192.0.2.5]:41234" with log_selector +outgoing_interface: the address we sent from.
        if (std::string iface = option(rest, "I="); !iface.empty()) {
            if (iface.front() == '[')
                iface = iface.substr(1, iface.find(']') - 1);
            e.sendingIp = iface;
        }
        if (auto it = senders.find(x.id); it != senders.end()) {
            e.envelopeSender = it->second;
            e.fromDomain = domainOf(it->second);
        }
        std::string inner;
        if (e.eventType == "delivered") {
            inner = option(rest, "C="); // the server's confirmation (log_selector +smtp_confirmation)
        } else {
            // Everything after the first ": " is Exim's account of the failure, the remote reply
            // included ("SMTP error from remote mail server after RCPT TO:<…>: 550 …").
            const auto colon = rest.find(": ");
            inner = colon == std::string_view::npos ? std::string() : std::string(rest.substr(colon + 2));
        }
        const Reply parsed = primaryReply(inner);
        e.replyText = parsed.basicCode ? parsed.text : inner;
        e.basicCode = parsed.basicCode;
        e.enhancedCode = parsed.enhancedCode;
        if (e.remoteMta.empty())
            e.remoteMta = parsed.remoteHost;
        emitLogLine(sink, std::move(e), parsed, inner, path, lineNo, lineOffset, l);
        return !sink.cancelled();
    });
}

} // namespace bt::detail
