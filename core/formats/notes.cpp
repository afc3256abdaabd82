// SPDX-License-Identifier: MIT
// HCL (Lotus) Domino's own bounce text, sent without an RFC 3464 part:
//
//   Your message
//     Subject: Test Bounce
//   was not delivered to:
//     kijitora@example.jp
//   because:
//     User some.name (kijitora@example.jp) not listed in Domino Directory
//
// The "because:" sentence is Domino's own diagnosis, not a remote server's reply: when it says the
// directory has no such user, Domino looked the recipient up itself, so the mailbox does not exist
// (Sisimai's Domino module reads these sentences the same way).
#include "formats.h"
#include "replyparser.h"
#include "text.h"

#include <array>

namespace bt::formats
{

namespace
{

struct DominoWords {
    std::string_view words, reason;
};

constexpr std::array<DominoWords, 5> kDominoWords = {{
    {"not listed in Domino Directory", "userunknown"},
    {"not listed in public Name & Address Book", "userunknown"},
    {"no se encuentra en el Directorio de Domino", "userunknown"},
    {"non répertorié dans l'annuaire Domino", "userunknown"},
    {"Cannot route mail to user", "filtered"},
}};

} // namespace

std::string dominoReasonHint(std::string_view sentence)
{
    for (const auto& w : kDominoWords)
        if (text::findNoCase(sentence, w.words) != std::string_view::npos)
            return std::string(w.reason);
    return {};
}

bool parseNotes(const Email& email, BounceReport& report)
{
    if (!email.deliveryStatus.empty())
        return false;
    const auto subject = email.headers.get("Subject");
    if (!text::startsWithNoCase(withoutSubjectTags(subject), "DELIVERY FAILURE:"))
        return false;
    const auto human = bodyBeforeOriginal(email.body);
    const auto to = text::findNoCase(human, "was not delivered to:");
    const auto because = text::findNoCase(human, "because:");
    if (to == std::string_view::npos || because == std::string_view::npos || because < to)
        return false;
    const auto addresses = findAddresses(human.substr(to, because - to));
    if (addresses.empty())
        return false;
    auto reason = human.substr(because + 8);
    const auto blank = reason.find("\n\n", reason.find_first_not_of(" \t\r\n"));
    reason = text::trim(reason.substr(0, blank));
    report.format = "notes";
    for (const auto& a : addresses) {
        BounceRecipient r;
        r.address = a;
        r.action = "failed";
        r.context = text::collapseSpace(reason);
        const auto reply = primaryReply(r.context);
        r.reply = reply.basicCode || !reply.enhancedCode.empty() ? reply.text : r.context;
        r.reasonHint = dominoReasonHint(reason);
        report.recipients.push_back(std::move(r));
    }
    return true;
}

} // namespace bt::formats
