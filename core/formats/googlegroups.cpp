// SPDX-License-Identifier: MIT
// Google Groups: a post to a group that does not exist or does not accept the sender. Gmail's
// mailer-daemon sends it without a DSN part, in the sender's language, naming the group address
// only in X-Failed-Recipients. The text always ends with a link to the Groups help centre and, for
// the "may not exist, or you may not have permission to post" notice, lists four possible causes
// as bullets: that notice means the group refused the post.
#include "formats.h"
#include "text.h"

namespace bt::formats
{

namespace
{

/// Lines of the notice that start with a bullet ("* You might have spelled…").
int bulletLines(std::string_view human)
{
    int n = 0;
    for (const auto& line : text::splitLines(human)) {
        const auto t = text::trim(line.text);
        if (t.size() > 2 && t.front() == '*' && text::isSpace(t[1]))
            ++n;
    }
    return n;
}

} // namespace

bool parseGoogleGroups(const Email& email, BounceReport& report)
{
    const auto& h = email.headers;
    const auto failed = h.get("X-Failed-Recipients");
    if (failed.empty())
        return false;
    const auto human = bodyBeforeOriginal(email.body);
    // The help-centre link is there in every language; "Google Group(s)" only in some. A Google
    // Workspace domain's group links to the domain's own help topic ("support.google.com/a/<domain>")
    // and signs "<domain> admins", naming "any other Google Group".
    const bool groups = text::findNoCase(human, "groups.google.com") != std::string_view::npos
        || text::findNoCase(human, "Google Group") != std::string_view::npos;
    if (!groups)
        return false;
    const auto from = text::toLower(h.get("From"));
    if (from.find("mailer-daemon@") == std::string::npos && !h.has("X-Google-Smtp-Source"))
        return false;
    report.format = "googlegroups";
    const bool refused = bulletLines(human) >= 4;
    for (const auto& a : findAddresses(failed)) {
        BounceRecipient r;
        r.address = a;
        r.action = "failed";
        r.context = std::string(text::trim(human));
        if (refused)
            r.reasonHint = "rejected";
        report.recipients.push_back(std::move(r));
    }
    return !report.recipients.empty();
}

} // namespace bt::formats
