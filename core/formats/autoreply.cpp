// SPDX-License-Identifier: MIT
// RFC 3834 auto-replies (vacation, out of office): the message was delivered; the person is away.
#include "formats.h"
#include "text.h"

#include <array>

namespace bt::formats
{

bool parseAutoReply(const Email& email, BounceReport& report)
{
    const auto& h = email.headers;
    const auto autoSubmitted = text::toLower(h.get("Auto-Submitted"));
    const auto subject = text::toLower(h.get("Subject"));
    bool isAuto = autoSubmitted.starts_with("auto-replied") || h.has("X-Autoreply") || h.has("X-Autorespond")
        || text::toLower(h.get("X-Auto-Response-Suppress")).find("all") != std::string::npos;
    static constexpr std::array<std::string_view, 9> subjects
        = {"auto reply",        "auto-reply",  "autoreply", "automatic reply", "out of office",
           "out of the office", "autorespons", "vacation",  "away until"};
    bool autoSubject = false;
    for (const auto s : subjects)
        autoSubject = autoSubject || subject.find(s) != std::string::npos;
    isAuto = isAuto || autoSubject;
    // A DSN or a complaint that also carries such a header is still a DSN or a complaint.
    if (!isAuto || !email.deliveryStatus.empty() || email.reportType == "delivery-status")
        return false;
    const auto fromLower = text::toLower(h.get("From"));
    if (fromLower.find("mailer-daemon") != std::string::npos || fromLower.find("postmaster@") != std::string::npos)
        return false;
    // Exchange and Office 365 mark their non-delivery reports "Auto-Submitted: auto-replied" too;
    // without their report part (stripped, relabelled) the subject still says what they are.
    static constexpr std::array<std::string_view, 12> bounceSubjects
        = {"undeliverable",    "undelivered",   "delivery status notification",
           "failure notice",   "returned mail", "delivery failed",
           "delivery failure", "non-delivery",  "nondeliverable",
           "unzustellbar",     "non remis",     "delivery has failed"};
    for (const auto s : bounceSubjects)
        if (subject.find(s) != std::string::npos)
            return false;
    // A list manager's refusal of a post ("Message distribution: Authorization denied", Sympa)
    // is marked auto-replied too: words of refusal in a subject that names no auto-reply say so.
    static constexpr std::array<std::string_view, 5> refusals
        = {"rejected", "refused", "denied", "not delivered", "not distributed"};
    if (!autoSubject)
        for (const auto s : refusals)
            if (subject.find(s) != std::string::npos)
                return false;
    report.format = "rfc3834";
    report.kind = "auto_reply";
    BounceRecipient r;
    const auto from = findAddresses(h.get("From"));
    r.address = from.empty() ? std::string() : from.front();
    r.action = "delivered";
    r.reasonHint = "vacation";
    r.lastAttempt = h.get("Date");
    report.recipients.push_back(std::move(r));
    return true;
}

} // namespace bt::formats
