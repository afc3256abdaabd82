// SPDX-License-Identifier: MIT
// A mailing list manager's refusal of a post, sent back to the poster: the post to the list
// address failed. Mailman 2 and 3 ("Your message to the Board mailing-list was rejected for the
// following reasons:", "Your request to the Photo-club mailing list has been rejected by the list
// moderator"), Sympa ("Message distribution: Authorization denied" / "Your message for list
// "seminar" has been rejected") and LISTSERV ("Rejected posting to HIST-NET@LISTSERV.EXAMPLE.EDU").
// None of them writes a delivery report, and Sympa marks its notice auto-replied like an
// out-of-office; each names the list, which is the recipient that refused the message. A
// moderation hold ("awaits moderator approval") is no refusal: the post may still go out.
#include "formats.h"
#include "text.h"

#include <array>
#include <vector>

namespace bt::formats
{

namespace
{

/// The address part of "Name <a@b>" or "a@b", lower case.
std::string addressOf(std::string_view field)
{
    const auto found = findAddresses(field);
    return found.empty() ? std::string() : text::toLower(found.front());
}

/// "board" and "lists.example.org" from "board-owner@lists.example.org" (or -bounces, -request).
bool listFromRole(std::string_view address, std::string& list)
{
    const auto at = address.find('@');
    if (at == std::string_view::npos)
        return false;
    const auto local = address.substr(0, at);
    for (const std::string_view role : {"-owner", "-bounces", "-request", "-admin"}) {
        if (local.size() > role.size() && local.ends_with(role)) {
            list = std::string(local.substr(0, local.size() - role.size())) + std::string(address.substr(at));
            return true;
        }
    }
    return false;
}

/// The list name quoted after `marker` in the text ('for list "seminar"'), or empty.
std::string quotedListName(std::string_view text, std::string_view marker)
{
    const auto at = text::findNoCase(text, marker);
    if (at == std::string_view::npos)
        return {};
    auto rest = text.substr(at + marker.size());
    if (rest.empty() || (rest.front() != '"' && rest.front() != '\''))
        return {};
    const char quote = rest.front();
    rest.remove_prefix(1);
    const auto end = rest.find(quote);
    if (end == std::string_view::npos || end == 0 || end > 100)
        return {};
    const auto name = rest.substr(0, end);
    if (name.find_first_of(" \t\r\n@") != std::string_view::npos)
        return {};
    return text::toLower(name);
}

/// The addresses the returned post was sent to: its To and Cc, from the attached message or the
/// header block quoted after the notice (LISTSERV's "Rejected message (19 lines)").
std::vector<std::string> postedTo(const Email& email)
{
    std::vector<std::string> out;
    const auto add = [&](std::string_view field) {
        for (auto& a : findAddresses(field))
            out.push_back(text::toLower(a));
    };
    if (email.original) {
        add(email.original->get("To"));
        add(email.original->get("Cc"));
        return out;
    }
    const std::string_view body = email.body;
    const auto start = returnedHeadersStart(body);
    if (start == std::string_view::npos)
        return out;
    for (const auto& line : text::splitLines(body.substr(start, body.find("\n\n", start) - start))) {
        const auto t = line.text;
        if (text::startsWithNoCase(t, "To:") || text::startsWithNoCase(t, "Cc:"))
            add(t.substr(3));
    }
    return out;
}

/// The one the notice names as the list: its local part ("EURO-ECON") in the notice's words.
std::string namedList(std::string_view notice, const std::vector<std::string>& candidates)
{
    for (const auto& a : candidates) {
        const auto local = std::string_view(a).substr(0, a.find('@'));
        if (local.size() >= 2 && text::findNoCase(notice, local) != std::string_view::npos)
            return a;
    }
    return {};
}

/// What the notice says about the refusal, read as a reason the format states: a post over the
/// list's size limit, a poster the list does not accept; else empty (the text is diagnosed).
std::string hintOf(std::string_view notice)
{
    static constexpr std::array<std::string_view, 6> kSize
        = {"too big", "too large", "exceeds the maximum size", "maximum message size", "size limit", "is larger than"};
    static constexpr std::array<std::string_view, 16> kPoster = {"not authorized to send",
                                                                 "not authorised to send",
                                                                 "authorization denied",
                                                                 "not allowed to post",
                                                                 "non-member",
                                                                 "nonmember",
                                                                 "not a member",
                                                                 "not from a list member",
                                                                 "not a list member",
                                                                 "only members",
                                                                 "only subscribers",
                                                                 "members only",
                                                                 "subscribers only",
                                                                 "not subscribed",
                                                                 "not a subscriber",
                                                                 "permission to post"};
    static constexpr std::array<std::string_view, 2> kFilter = {"content filter", "matched a rule"};
    for (const auto w : kSize)
        if (text::findNoCase(notice, w) != std::string_view::npos)
            return "mesgtoobig";
    for (const auto w : kPoster)
        if (text::findNoCase(notice, w) != std::string_view::npos)
            return "rejected";
    for (const auto w : kFilter)
        if (text::findNoCase(notice, w) != std::string_view::npos)
            return "filtered";
    return {};
}

} // namespace

bool parseListManager(const Email& email, BounceReport& report)
{
    const auto& h = email.headers;
    // A list manager writes no delivery report; one that does is a bounce of its own.
    if (!email.deliveryStatus.empty())
        return false;
    // Which manager wrote it, from the headers alone: most messages this module sees are other
    // bounces, and they leave before their text is read.
    enum class Manager { Listserv, Sympa, Mailman };
    const auto subject = text::trim(h.get("Subject"));
    const auto from = addressOf(h.get("From"));
    std::string list; // Mailman's, from its owner or bounces address
    Manager manager;
    if (text::startsWithNoCase(subject, "Rejected posting to ")
        || text::findNoCase(h.get("From"), "list server at") != std::string_view::npos
        || text::startsWithNoCase(from, "listserv@"))
        manager = Manager::Listserv;
    else if (text::startsWithNoCase(from, "sympa@") || text::startsWithNoCase(from, "sympa-request@"))
        manager = Manager::Sympa;
    else if (listFromRole(from, list) || listFromRole(addressOf(h.get("Sender")), list))
        manager = Manager::Mailman;
    else
        return false;

    auto notice = text::trim(bodyBeforeOriginal(email.body));
    // LISTSERV quotes the post after its own line: the notice ends there.
    if (const auto quoted = notice.find("-- Rejected message ("); quoted != std::string_view::npos) {
        const auto lineStart = notice.rfind('\n', quoted);
        notice = text::trim(notice.substr(0, lineStart == std::string_view::npos ? quoted : lineStart));
    }
    if (notice.empty())
        return false;
    // A hold for moderation is no refusal.
    for (const std::string_view hold : {"awaits moderator approval", "held for moderation", "held for approval",
                                        "requires approval", "is being held"})
        if (text::findNoCase(notice, hold) != std::string_view::npos
            || text::findNoCase(subject, hold) != std::string_view::npos)
            return false;

    const bool refusal = text::findNoCase(notice, "rejected") != std::string_view::npos
        || text::findNoCase(notice, "refused") != std::string_view::npos
        || text::findNoCase(notice, "not allowed to post") != std::string_view::npos
        || text::findNoCase(notice, "not authorized to send") != std::string_view::npos;
    switch (manager) {
    case Manager::Listserv:
        if (text::startsWithNoCase(subject, "Rejected posting to "))
            // The subject names the list's address.
            list = addressOf(subject.substr(20));
        else if (refusal)
            // Its other notices ("… has been rejected by the content filter of the EURO-ECON
            // list"): the list is the returned post's address the notice names.
            list = namedList(notice, postedTo(email));
        break;
    case Manager::Sympa: {
        // 'Your message for list "seminar" has been rejected'; the list lives at the robot's domain.
        const auto name = quotedListName(notice, "for list ");
        const bool refused = refusal || text::findNoCase(notice, "not distributed") != std::string_view::npos
            || text::startsWithNoCase(subject, "Message distribution:");
        if (!name.empty() && refused)
            list = name + from.substr(from.find('@'));
        break;
    }
    case Manager::Mailman:
        // A sentence that the post to the mailing list was refused ("was rejected", "has been
        // automatically rejected", "You are not allowed to post to this mailing list").
        if (!refusal
            || (text::findNoCase(notice, "mailing list") == std::string_view::npos
                && text::findNoCase(notice, "mailing-list") == std::string_view::npos))
            list.clear();
        break;
    }
    if (list.empty() || list.find('@') == std::string::npos)
        return false;

    report.format = "listmanager";
    report.kind = "bounce";
    report.reportingMta = list.substr(list.find('@') + 1);
    BounceRecipient r;
    r.address = list;
    r.action = "failed";
    r.context = std::string(notice.substr(0, 2000));
    r.reasonHint = hintOf(notice);
    r.lastAttempt = h.get("Date");
    report.recipients.push_back(std::move(r));
    return true;
}

} // namespace bt::formats
