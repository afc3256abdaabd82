// SPDX-License-Identifier: MIT
// ARF (RFC 5965) feedback reports: a complaint, not a bounce. The recipients are the people who
// complained: every Original-Rcpt-To (or Removal-Recipient), else the To of the returned message.
// Besides RFC 5965 reports this reads the two common complaint formats that are not
// multipart/report: Microsoft's (Hotmail/Outlook.com JMRP: multipart/mixed with the message
// attached, the complainer in X-HmXmrOriginalRecipient) and Apple Mail's one-click unsubscribe
// (X-Apple-Unsubscribe: true, the complainer is the sender).
#include "formats.h"
#include "text.h"

#include <algorithm>
#include <array>

namespace bt::formats
{

namespace
{

// Microsoft JMRP and Amazon SES forward complaints as multipart/mixed with this subject.
bool isMixedComplaint(const Email& email)
{
    const auto subject = text::toLower(email.headers.get("Subject"));
    if (subject.find("complaint about message from ") == std::string::npos)
        return false;
    const auto from = text::toLower(email.headers.get("From"));
    static constexpr std::array<std::string_view, 2> senders
        = {"staff@hotmail.com", "complaints@email-abuse.amazonses.com"};
    return std::any_of(senders.begin(), senders.end(),
                       [&](std::string_view s) { return from.find(s) != std::string::npos; });
}

bool isAppleUnsubscribe(const Email& email)
{
    return text::toLower(text::trim(email.headers.get("X-Apple-Unsubscribe"))) == "true";
}

void addRecipient(std::vector<std::string>& out, std::string address)
{
    if (address.find('@') == std::string::npos)
        return;
    if (std::find(out.begin(), out.end(), address) == out.end())
        out.push_back(std::move(address));
}

} // namespace

bool parseArf(const Email& email, BounceReport& report)
{
    const bool rfc5965 = email.reportType == "feedback-report" || !email.feedbackReport.empty();
    const bool mixed = !rfc5965 && isMixedComplaint(email);
    const bool apple = !rfc5965 && !mixed && isAppleUnsubscribe(email);
    if (!rfc5965 && !mixed && !apple)
        return false;
    report.format = "arf";
    report.kind = "feedback";

    // A feedback-report part that GMime did not split out still sits in the body text.
    std::string_view fields = email.feedbackReport;
    if (fields.empty() && rfc5965) {
        const auto p = text::findNoCase(email.body, "Feedback-Type:");
        if (p != std::string_view::npos)
            fields = std::string_view(email.body).substr(p);
    }

    std::string type, arrival, sourceIp;
    std::vector<std::string> rcpts;
    // Unfold continuation lines first: some generators wrap long values.
    std::vector<std::string> lines;
    for (const auto& line : text::splitLines(fields)) {
        if (!line.text.empty() && text::isSpace(line.text.front()) && !lines.empty()) {
            lines.back() += ' ';
            lines.back() += text::trim(line.text);
        } else {
            lines.emplace_back(line.text);
        }
    }
    for (const auto& line : lines) {
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        const auto name = text::toLower(text::trim(std::string_view(line).substr(0, colon)));
        const auto value = std::string(text::trim(std::string_view(line).substr(colon + 1)));
        if (name == "feedback-type" && type.empty())
            type = text::toLower(value);
        else if (name == "original-rcpt-to" || name == "removal-recipient")
            addRecipient(rcpts, cleanAddress(value));
        else if ((name == "arrival-date" || name == "received-date") && arrival.empty())
            arrival = value;
        else if (name == "original-mail-from" && report.envelopeSender.empty())
            report.envelopeSender = cleanAddress(value);
        else if (name == "reporting-mta" && report.reportingMta.empty())
            report.reportingMta = cleanAddress(value);
        else if (name == "source-ip" && sourceIp.empty())
            sourceIp = value;
    }
    if (apple) {
        // The unsubscribe is sent by the person who received the message.
        type = "opt-out";
        const auto from = findAddresses(email.headers.get("From"));
        if (!from.empty())
            addRecipient(rcpts, from.front());
        arrival = email.headers.get("Date");
    }
    report.feedbackType = type.empty() ? "abuse" : type;
    report.arrivalDate = arrival;

    if (rcpts.empty() && email.original) {
        // Microsoft names the complainer in its own header on the attached copy.
        for (auto& a : findAddresses(email.original->get("X-HmXmrOriginalRecipient")))
            addRecipient(rcpts, std::move(a));
        if (rcpts.empty())
            for (auto& a : findAddresses(email.original->get("To")))
                addRecipient(rcpts, std::move(a));
    }
    if (rcpts.empty() && !email.originalBody.empty()) {
        // Attached as text: look for the same headers in it.
        const auto h = parseHeaderBlock(email.originalBody);
        for (auto& a : findAddresses(h.get("X-HmXmrOriginalRecipient")))
            addRecipient(rcpts, std::move(a));
        if (rcpts.empty())
            for (auto& a : findAddresses(h.get("To")))
                addRecipient(rcpts, std::move(a));
    }
    if (rcpts.empty()) {
        // "To: <Undisclosed Recipients>": still one complaint about one message.
        rcpts.emplace_back();
    }
    for (const auto& rcpt : rcpts) {
        BounceRecipient r;
        r.address = rcpt;
        r.action = "failed";
        r.reasonHint = "feedback";
        r.lastAttempt = arrival;
        r.remoteMta = sourceIp;
        report.recipients.push_back(std::move(r));
    }
    return true;
}

} // namespace bt::formats
