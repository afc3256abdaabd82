// SPDX-License-Identifier: MIT
#include "bounce.h"

#include "formats/formats.h"
#include "memo.h"
#include "replyparser.h"
#include "text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <tuple>

namespace bt
{
namespace
{

std::string domainOf(std::string_view address)
{
    const auto at = address.rfind('@');
    if (at == std::string_view::npos)
        return {};
    auto d = address.substr(at + 1);
    while (!d.empty() && (d.back() == '>' || d.back() == '.' || text::isSpace(d.back())))
        d.remove_suffix(1);
    return text::toLower(d);
}

/// "v=1; a=rsa-sha256; d=example.com; s=sel1; …" → value of `tag`.
std::string dkimTag(std::string_view sig, std::string_view tag)
{
    std::size_t pos = 0;
    while (pos < sig.size()) {
        auto end = sig.find(';', pos);
        if (end == std::string_view::npos)
            end = sig.size();
        auto item = text::trim(sig.substr(pos, end - pos));
        const auto eq = item.find('=');
        if (eq != std::string_view::npos && text::trim(item.substr(0, eq)) == tag)
            return std::string(text::trim(item.substr(eq + 1)));
        pos = end + 1;
    }
    return {};
}

OriginalMessage originalOf(const Headers& h)
{
    OriginalMessage o;
    o.from = h.get("From");
    const auto fromAddrs = formats::findAddresses(o.from);
    o.fromDomain = fromAddrs.empty() ? std::string() : domainOf(fromAddrs.front());
    o.returnPath = formats::cleanAddress(h.get("Return-Path"));
    o.to = h.get("To");
    o.subject = h.get("Subject");
    o.messageId = std::string(text::trim(h.get("Message-ID")));
    o.date = h.get("Date");
    const auto sig = h.get("DKIM-Signature");
    o.dkimDomain = dkimTag(sig, "d");
    o.dkimSelector = dkimTag(sig, "s");
    o.authenticationResults = h.get("Authentication-Results");
    o.arcAuthenticationResults = h.get("ARC-Authentication-Results");
    o.listId = h.get("List-Id");
    o.listUnsubscribe = h.get("List-Unsubscribe");
    o.feedbackId = h.get("Feedback-ID");
    for (const char* c : {"X-Campaign-ID", "X-Campaign", "X-Mailgun-Tag", "X-SES-Configuration-Set", "X-SMTPAPI",
                          "X-MC-Tags", "X-Mailer-Campaign", "X-Job", "X-PM-Tag", "X-Mailjet-Campaign"}) {
        if (auto v = h.get(c); !v.empty()) {
            o.campaign = v;
            break;
        }
    }
    return o;
}

/// [first mention of `address`, next mention of another recipient) in the bounce's text, at
/// most `limit` bytes long; nullopt when the text does not name the address.
std::optional<std::pair<std::size_t, std::size_t>> spanAbout(std::string_view human, std::string_view address,
                                                             const std::vector<BounceRecipient>& all, std::size_t limit)
{
    const auto p = text::findNoCase(human, address);
    if (p == std::string_view::npos)
        return std::nullopt;
    auto end = std::min(human.size(), p + limit);
    const auto self = text::toLower(address);
    for (const auto& o : all) {
        if (o.address.empty() || text::toLower(o.address) == self)
            continue;
        const auto q = text::findNoCase(human, o.address, p + address.size());
        if (q != std::string_view::npos && q < end)
            end = q;
    }
    return std::pair {p, end};
}

/// The SMTP command an MTA's own sentence names as the one the remote server refused, in the
/// block of its text about `address`: Postfix "(in reply to RCPT TO command)", Exim and GMX
/// "after RCPT command", dma "did not like our RCPT TO:", qmail "most progress was RCPT TO
/// response", "SMTP:RCPT host …", session transcripts ">>> RCPT TO:<a@b>". The command must be in
/// capitals right after such a cue: a listing such as "RCPT TO: a@b" among the message details
/// states no stage. Empty when the text names none.
std::string stageInText(std::string_view human, std::string_view address, const std::vector<BounceRecipient>& all)
{
    std::size_t from = 0, to = human.size();
    if (!address.empty()) {
        const auto block = spanAbout(human, address, all, 1200);
        if (!block) {
            if (all.size() > 1)
                return {};
        } else {
            std::tie(from, to) = *block;
        }
    }
    const auto block = human.substr(from, to - from);
    struct Command {
        std::string_view word, stage;
    };
    static constexpr Command commands[] = {
        {"RCPT", "RCPT TO"}, {"MAIL FROM", "MAIL FROM"}, {"DATA", "DATA"}, {"EHLO", "EHLO"}, {"HELO", "HELO"},
    };
    static constexpr std::string_view cues[]
        = {"after ", "in reply to ", "did not like our ", "progress was ", "smtp:", ">>> ", "in response to "};
    std::size_t best = std::string_view::npos;
    std::string stage;
    for (const auto& c : commands) {
        for (auto q = block.find(c.word); q != std::string_view::npos; q = block.find(c.word, q + 1)) {
            const bool wordEnd = q + c.word.size() >= block.size() || !text::isAlpha(block[q + c.word.size()]);
            if (!wordEnd || (q > 0 && text::isAlpha(block[q - 1])))
                continue;
            // The cue's words may be wrapped onto lines of their own ("most progress was" /
            // "RCPT TO response"): read with each run of spaces and line breaks as one space.
            std::string before;
            for (const char ch : block.substr(q >= 40 ? q - 40 : 0, q >= 40 ? 40 : q)) {
                const bool space = ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t';
                if (!space)
                    before += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                else if (before.empty() || before.back() != ' ')
                    before += ' ';
            }
            const bool cued = std::any_of(std::begin(cues), std::end(cues), [&](std::string_view cue) {
                return before.size() >= cue.size() && before.compare(before.size() - cue.size(), cue.size(), cue) == 0;
            });
            if (cued && q < best) {
                best = q;
                stage = std::string(c.stage);
            }
            if (cued)
                break;
        }
    }
    // Exim writes the end of the message in prose: "after end of data".
    const auto eod = text::findNoCase(block, "after end of data");
    if (eod != std::string_view::npos && eod < best)
        stage = "DATA";
    return stage;
}

/// The bounce's text about one recipient: from its first mention to the next recipient's (at
/// most 1500 bytes), so that a reply quoted for one address is never given to another.
std::string textAbout(std::string_view human, std::string_view address, const std::vector<BounceRecipient>& all)
{
    const auto block = spanAbout(human, address, all, 1500);
    return block ? std::string(human.substr(block->first, block->second - block->first)) : std::string();
}

/// The address a recipient was expanded or forwarded from, where the bounce's text names it
/// beside that recipient: Postfix's "<final@x> (expanded from <alias@y>): host …", Sendmail's
/// entry "<final@x>" / "(reason: …)" / "(expanded from: <alias@y>)" and Exim's "final@x" /
/// "(generated from alias@y)". That alias is the address the sender mailed: the one a
/// suppression list holds. Empty when the text names none.
std::string expandedFrom(std::string_view human, std::string_view address)
{
    static constexpr std::array<std::string_view, 3> kMarks {"(expanded from", "(generated from",
                                                             "(ultimately generated from"};
    // The alias in a mark at the start of `s` ("(expanded from: <alias@y>)").
    const auto aliasIn = [](std::string_view s) -> std::string {
        s = text::trim(s);
        for (const auto mark : kMarks) {
            if (!text::startsWithNoCase(s, mark))
                continue;
            const auto rest = s.substr(mark.size());
            const auto found = formats::findAddresses(rest.substr(0, rest.find(')')));
            return found.empty() ? std::string() : found.front();
        }
        return {};
    };
    const auto addressChar = [](char c) {
        return text::isAlpha(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '+';
    };
    if (address.empty())
        return {};
    for (auto at = text::findNoCase(human, address); at != std::string_view::npos;
         at = text::findNoCase(human, address, at + 1)) {
        const auto end = at + address.size();
        if ((at > 0 && addressChar(human[at - 1])) || (end < human.size() && addressChar(human[end])))
            continue; // part of a longer address
        const auto lineEnd = std::min(human.find('\n', end), human.size());
        auto rest = human.substr(end, lineEnd - end);
        if (rest.starts_with(">"))
            rest.remove_prefix(1);
        if (auto alias = aliasIn(rest); !alias.empty())
            return alias;
        // The entry's next indented lines, up to a blank line or another entry.
        for (auto from = lineEnd + 1, n = std::size_t {0}; from < human.size() && n < 3; ++n) {
            const auto next = std::min(human.find('\n', from), human.size());
            const auto line = human.substr(from, next - from);
            const auto t = text::trim(line);
            if (t.empty() || !text::isSpace(line.front()) || t.front() == '<')
                break;
            if (auto alias = aliasIn(t); !alias.empty())
                return alias;
            from = next + 1;
        }
    }
    return {};
}

/// The verdict is the receiving operator's own wording, said by that operator: the winning rule
/// is one of its rules (ids are "<provider or mta>.<what>", "generic." rules match anyone's words)
/// and the remote host is one of its hosts. "This user doesn't have a yahoo.com account" from a
/// Yahoo MX says the account does not exist even when given after DATA; the same words relayed by
/// some other host are not Yahoo speaking. (Sisimai's rhost modules likewise decide by the remote
/// host's operator before any stage-based reading.)
bool operatorSays(const KnowledgeBase& kb, const Diagnosis& d, std::string_view remoteHost)
{
    if (d.ruleIds.empty() || d.ruleIds.front().starts_with("generic.") || d.provider.empty() || remoteHost.empty())
        return false;
    const auto host = text::toLower(remoteHost);
    for (const auto& p : kb.providers()) {
        if (p.name != d.provider)
            continue;
        for (const auto& suffix : p.hostSuffixes)
            if (host == suffix
                || (host.size() > suffix.size() && host.ends_with(suffix)
                    && host[host.size() - suffix.size() - 1] == '.'))
                return true;
    }
    return false;
}

/// The text with every mail address in it replaced by a neutral one: an address is a name, not
/// words about the failure. Exim writes the failed address above its reason ("x@tls.example" /
/// "retry timeout exceeded"), and the label "tls" read as a TLS failure.
std::string withoutAddresses(std::string text)
{
    for (const auto& a : formats::findAddresses(text))
        for (auto at = text.find(a); at != std::string::npos; at = text.find(a, at + 3))
            text.replace(at, a.size(), "a@b");
    return text;
}

/// Received fields in the returned message at or over which it went round in a loop: the
/// lowest default of the common MTAs' hop limits (Sendmail's MaxHopCount 25; Exim's
/// received_headers_max is 30, Postfix's hopcount_limit 50). A message stopped there by its
/// own MTA may come back with no words about it (Exim 4.96 bounces "Too many Received
/// headers" naming only the address).
constexpr std::size_t kLoopHops = 25;

std::size_t receivedCount(const std::optional<Headers>& original)
{
    if (!original)
        return 0;
    return static_cast<std::size_t>(
        std::count_if(original->fields.begin(), original->fields.end(),
                      [](const Headers::Field& f) { return text::toLower(f.name) == "received"; }));
}

} // namespace

namespace
{

/// classifier.diagnose(reply), remembered per thread: a mailbox of bounces repeats a few hundred
/// replies (the same template to many recipients, the same message read twice), and a
/// diagnosis is a pure function of the classifier and every field of the reply.
Diagnosis diagnoseRemembered(const Classifier& classifier, const Reply& r)
{
    thread_local BoundedMemo<Diagnosis> memo(4096);
    thread_local std::uint64_t owner = 0;
    if (owner != classifier.serial()) {
        memo = BoundedMemo<Diagnosis>(4096);
        owner = classifier.serial();
    }
    std::string key;
    key.reserve(r.text.size() + r.remoteHost.size() + r.smtpStage.size() + r.recipient.size() + 48);
    key += r.basicCode ? std::to_string(*r.basicCode) : std::string("-");
    key += '\x1f';
    key += r.enhancedCode;
    key += '\x1f';
    key += r.remoteHost;
    key += '\x1f';
    key += r.remoteIp;
    key += '\x1f';
    key += r.smtpStage;
    key += '\x1f';
    key += r.recipient;
    key += '\x1f';
    key += std::to_string(r.sourceOffset);
    key += '\x1f';
    key += r.fromBounceEmail ? '1' : '0';
    key += r.text;
    return memo.get(key, [&] { return classifier.diagnose(r); });
}

} // namespace

/// True for the enhanced statuses that speak of the recipient's mailbox address itself: X.1.0
/// (other address status), X.1.1 (bad destination mailbox) and X.1.3 (bad destination mailbox
/// syntax), which Sisimai's status table (SMTP::Status) reads as userunknown whatever the stage,
/// and X.1.10, which Microsoft's servers give with "RecipientNotFound" (RFC 7505 meant it for a
/// null MX, and a "user unknown" reply with it is about the mailbox all the same).
static bool namesRecipientMailbox(std::string_view status)
{
    if (status.size() < 5 || (status[0] != '4' && status[0] != '5') || status.substr(1, 3) != ".1.")
        return false;
    const auto detail = status.substr(4);
    return detail == "0" || detail == "1" || detail == "3" || detail == "10";
}

void refineByContext(const Classifier& classifier, Diagnosis& d, const ReplyContext& c)
{
    if (!c.hint.empty())
        classifier.applyReason(d, c.hint);
    const auto& stage = c.stage;
    const bool beforeData = stage == "MAIL FROM" || stage == "EHLO" || stage == "HELO" || stage == "CONN"
        || stage == "STARTTLS" || stage == "AUTH";
    // A status that names the recipient's mailbox (see namesRecipientMailbox) or a source that
    // says userunknown itself outweighs the stage.
    const bool x11 = namesRecipientMailbox(c.status);
    if (d.reason == "userunknown" && stage != "RCPT TO" && !beforeData && !x11 && c.hint != "userunknown") {
        // "User unknown" after DATA: the recipient was accepted at RCPT, so the mailbox exists
        // and a filter refused the message; a filtering gateway's "no such user" is its filter.
        // Without a stage the words stand here (see BounceReader::read for bounces).
        if (stage == "DATA" || c.filteringGateway)
            classifier.applyReason(d, "filtered");
    }
    // A refusal at MAIL FROM is about the sender, whatever words it uses.
    // So is a bare access-list refusal ("550 5.7.1 Access denied", generic.accessdenied), which
    // reads as securityerror at any other stage (Sisimai's convention: only "access denied (in
    // reply to MAIL FROM command)" is rejected); other security wording stays securityerror.
    const bool bareAccessDenied
        = d.reason == "securityerror" && !d.ruleIds.empty() && d.ruleIds.front() == "generic.accessdenied";
    if (stage == "MAIL FROM"
        && (d.reason == "undefined" || d.reason == "userunknown" || d.reason == "policyviolation" || bareAccessDenied))
        classifier.applyReason(d, "rejected");
    // Refused before any envelope (at connect, HELO or EHLO) with no words that say why: the
    // client itself is refused.
    if (d.reason == "undefined" && (stage == "CONN" || stage == "HELO" || stage == "EHLO"))
        classifier.applyReason(d, "blocked");
}

Diagnosis diagnosePasted(const Classifier& classifier, Reply reply, Classifier::Texts texts)
{
    // The reply moves into the diagnosis (it is copied nowhere on the way): diagnose --lines
    // calls this for every line.
    Diagnosis d = classifier.diagnose(std::move(reply), texts);
    if (!d.smtpStage.empty())
        refineByContext(classifier, d, {d.smtpStage, {}, false, d.enhancedCode});
    return d;
}

BounceReader::BounceReader(std::shared_ptr<const Classifier> classifier)
    : m_classifier(std::move(classifier))
{
}

BounceReader::BounceReader(std::shared_ptr<const Classifier> classifier, const std::vector<std::string>& formats)
    : m_classifier(std::move(classifier))
{
    const auto& all = formats::registry();
    for (const auto& name : formats)
        if (std::none_of(all.begin(), all.end(), [&](const formats::Format& f) { return f.name == name; }))
            throw std::invalid_argument("no bounce format module is called \"" + name + "\"");
    for (std::size_t i = 0; i < all.size(); ++i)
        if (std::find(formats.begin(), formats.end(), all[i].name) != formats.end())
            m_formats.push_back(i);
}

bool looksLikeEmail(std::string_view text)
{
    static constexpr std::string_view known[]
        = {"from", "subject", "received", "date", "return-path", "message-id", "mime-version", "to", "delivered-to"};
    int headers = 0;
    bool named = false, first = true;
    std::size_t pos = 0;
    const std::size_t limit = std::min<std::size_t>(text.size(), 64 * 1024);
    while (pos < limit) {
        // LF, CRLF or CR alone (old Mac files): the same line ends the email reader accepts.
        auto end = text::findFirstOf(text, "\r\n", pos);
        if (end == std::string_view::npos)
            end = text.size();
        const auto line = text.substr(pos, end - pos);
        pos = end + (end + 1 < text.size() && text[end] == '\r' && text[end + 1] == '\n' ? 2 : 1);
        if (first && line.starts_with("From ")) {
            first = false;
            continue; // an mbox envelope line
        }
        first = false;
        if (text::trim(line).empty())
            break;
        if (text::isSpace(line.front()))
            continue; // a folded header line
        const auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || line.substr(0, colon).find(' ') != std::string_view::npos)
            return false;
        ++headers;
        const auto name = text::toLower(line.substr(0, colon));
        named = named || std::find(std::begin(known), std::end(known), name) != std::end(known);
    }
    return headers >= 2 && named;
}

InputDiagnosis BounceReader::diagnoseInput(std::string_view input) const
{
    InputDiagnosis out;
    out.email = looksLikeEmail(input);
    if (out.email) {
        out.outcome = read(input);
        if (!out.outcome.records.empty())
            return out;
    }
    // Not an email, or an email with no bounced recipient in it: its primary reply still says
    // something (a pasted NDR text, a forwarded bounce without its headers).
    // Without a gateway's banner or footer or a forward's headers pasted with it, and without an
    // email's own header block ("Subject:" is not a header refused): blanked, so offsets stay.
    // An ESP's event pasted as JSON: its reply field alone.
    const auto event = out.email ? std::nullopt : jsonEventReply(input);
    std::string text = event ? *event : blankAsides(input, m_classifier->knowledge());
    if (out.email)
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '\n' && (i + 1 == text.size() || text[i + 1] == '\n' || text.compare(i + 1, 2, "\r\n") == 0))
                break;
            if (text[i] != '\r' && text[i] != '\n')
                text[i] = ' ';
        }
    Reply reply = primaryReply(text);
    out.replyOffset = reply.sourceOffset;
    out.diagnosis = diagnosePasted(*m_classifier, std::move(reply));
    return out;
}

BounceOutcome BounceReader::read(std::string_view bytes) const
{
    BounceOutcome out;
    const auto email = parseEmail(bytes);
    if (!email) {
        out.kind = "unreadable";
        out.error = bytes.empty() ? "empty input" : "no e-mail message: no header lines found";
        return out;
    }
    return read(*email);
}

namespace
{

/// The status a reason implies when a message carries no code (reasons.json's derived_status,
/// Sisimai's X.0.9xx convention), class 5 or 4.
std::string derivedStatusFor(const KnowledgeBase& kb, std::string_view reason, bool permanent)
{
    const auto* info = kb.reasonInfo(reason);
    if (!info || info->derivedStatus.empty())
        return {};
    std::string s = info->derivedStatus;
    s[0] = permanent ? '5' : '4';
    return s;
}

} // namespace

namespace
{

/// True when the message may be a person's forward or reply of a bounce: no report part, and its
/// headers do not say it is a report (a bounce's subject behind a person's prefix, as in "Fwd:
/// Undelivered Mail Returned to Sender" or "Re: Delivery Status Notification", does not:
/// isPersonsSubject).
bool maybePersonsCopy(const Email& email)
{
    if (!email.deliveryStatus.empty() || !email.feedbackReport.empty())
        return false;
    return !isReportHeaders(email.headers);
}

/// What a mail client writes above a message it forwards: English, and the mail clients'
/// German, French, Spanish, Italian, Dutch and Portuguese.
constexpr std::string_view kForwardMarkers[] = {
    "---------- Forwarded message",
    "-------- Forwarded Message",
    "-------- Original Message",
    "-----Original Message-----",
    "Begin forwarded message:",
    "----- Forwarded by",
    "Weitergeleitete Nachricht",
    "-----Urspr\xC3\xBCngliche Nachricht-----",
    "Message transf\xC3\xA9r\xC3\xA9",
    "-----Message d'origine-----",
    "Mensaje reenviado",
    "-----Mensaje original-----",
    "Messaggio inoltrato",
    "-----Messaggio originale-----",
    "Doorgestuurd bericht",
    "-----Oorspronkelijk bericht-----",
    "Mensagem encaminhada",
    "-----Mensagem original-----",
};

/// A forwarded message's header name as a header says it: "Sent", "Von", "De", "Da", "Van" …
/// are From, Date, To or Subject in the languages of kForwardMarkers; others stay as they are.
std::string forwardedFieldName(const std::string& name)
{
    static const std::pair<std::string_view, std::string_view> kNames[] = {
        {"sent", "Date"},
        {"von", "From"},
        {"gesendet", "Date"},
        {"datum", "Date"},
        {"an", "To"},
        {"betreff", "Subject"},
        {"de", "From"},
        {"envoy\xC3\xA9", "Date"},
        {"\xC3\xA0", "To"},
        {"objet", "Subject"},
        {"enviado", "Date"},
        {"fecha", "Date"},
        {"para", "To"},
        {"asunto", "Subject"},
        {"da", "From"},
        {"inviato", "Date"},
        {"data", "Date"},
        {"a", "To"},
        {"oggetto", "Subject"},
        {"van", "From"},
        {"verzonden", "Date"},
        {"aan", "To"},
        {"onderwerp", "Subject"},
        {"enviada", "Date"},
        {"assunto", "Subject"},
        {"enviado el", "Date"},
        {"enviada em", "Date"},
    };
    const std::string lower = text::toLower(name);
    for (const auto& [local, header] : kNames)
        if (lower == local)
            return std::string(header);
    // "À" in capitals: its lower case is not ASCII.
    if (name == "\xC3\x80")
        return "To";
    return name;
}

std::vector<std::string> forwardedHeaderNames(std::string_view paragraph);

/// Where the header block of a message forwarded without a marker starts, or npos: Outlook writes
/// none above it (a rule of underscores at most), only the fields, in the reader's language
/// ("Von: … / Gesendet: … / An: … / Betreff: …"). A paragraph of such fields with a subject, and
/// text after it, is taken for one.
std::size_t unmarkedForwardBlock(std::string_view body)
{
    std::size_t at = 0;
    while (at < body.size()) {
        auto end = body.find("\n\n", at);
        if (end == std::string_view::npos)
            end = body.size();
        std::size_t from = at;
        // A rule line (Outlook's "________________________________") right above the fields.
        const auto firstEnd = body.find('\n', from);
        const auto first = text::trim(body.substr(from, (firstEnd == std::string_view::npos ? end : firstEnd) - from));
        if (first.size() >= 10 && first.find_first_not_of("_-") == std::string_view::npos
            && firstEnd != std::string_view::npos && firstEnd < end)
            from = firstEnd + 1;
        const auto names = forwardedHeaderNames(body.substr(from, end - from));
        const auto has = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
        if (end < body.size() && names.size() >= 2 && has("from") && has("subject"))
            return from;
        at = end;
        while (at < body.size() && (body[at] == '\n' || body[at] == '\r'))
            ++at;
    }
    return std::string_view::npos;
}

/// The bounce a person forwarded inline: after a mail client's forward marker, the forwarded
/// message's header lines (From, Date or Sent, Subject, To), a blank line, its text. Returned as
/// a message of its own, which the caller reads as the bounce first and gives up for the
/// person's message when it names no recipient. Its headers need not say it is a report: the
/// forward keeps no Auto-Submitted, no report type, and an auto-reply's or a webmail's subject
/// names no failure (the corpus forwarded inline: 444 -> 456 of 476 read the same recipients).
std::string inlineForwardedBounce(const Email& email)
{
    if (!maybePersonsCopy(email))
        return {};
    const std::string_view body = email.body;
    std::size_t start = std::string_view::npos;
    for (const auto marker : kForwardMarkers) {
        const auto at = text::findNoCase(body, marker);
        if (at == std::string_view::npos)
            continue;
        const auto eol = body.find('\n', at);
        if (eol == std::string_view::npos)
            return {};
        start = eol + 1;
        break;
    }
    if (start == std::string_view::npos)
        start = unmarkedForwardBlock(body);
    if (start != std::string_view::npos) {
        // Header lines up to the first blank line; mail clients may quote them with "> " or
        // write them in bold markers ("*From:*"): both are taken off.
        std::string message;
        std::size_t pos = start;
        bool sawFrom = false;
        int lines = 0;
        while (pos < body.size()) {
            const auto next = body.find('\n', pos);
            auto line = body.substr(pos, (next == std::string_view::npos ? body.size() : next) - pos);
            pos = next == std::string_view::npos ? body.size() : next + 1;
            auto t = text::trim(line);
            if (t.empty()) {
                if (lines == 0)
                    continue; // blank lines right after the marker
                break;
            }
            std::string field(t);
            std::erase(field, '*');
            auto colon = field.find(':');
            // French puts a space before the colon ("De :", "Objet :").
            if (colon != std::string::npos && colon > 1 && field[colon - 1] == ' ') {
                field.erase(colon - 1, 1);
                --colon;
            }
            // A name of two words only where a mail client writes one ("Enviado el", "Enviada em").
            if (colon == std::string::npos || colon == 0 || colon > 30
                || (field.substr(0, colon).find(' ') != std::string::npos
                    && forwardedFieldName(field.substr(0, colon)) == field.substr(0, colon))) {
                if (lines == 0)
                    return {};
                message += ' ' + field; // a folded value
                continue;
            }
            // The header names a mail client writes in the reader's language, and Outlook's
            // "Sent:" where a header says "Date:".
            field = forwardedFieldName(field.substr(0, colon)) + field.substr(colon);
            sawFrom = sawFrom || text::startsWithNoCase(field, "from:");
            if (lines > 0)
                message += '\n';
            message += field;
            ++lines;
        }
        if (!sawFrom || lines < 2)
            return {};
        message += "\n\n";
        message += body.substr(pos);
        return message;
    }
    return {};
}

/// The bounce a person quoted in a reply: a mail client's attribution line ("On …, Mail Delivery
/// System <MAILER-DAEMON@example.com> wrote:", or its German, French, Spanish, Italian, Dutch or
/// Portuguese words) and the bounce's lines behind "> ". Returned, unquoted, as a message from the
/// address the attribution names, which the caller reads as the bounce first. The corpus quoted
/// so: 346 of 476 read the same recipients while nothing read it, 453 now.
std::string quotedBounce(const Email& email)
{
    if (!maybePersonsCopy(email))
        return {};
    static constexpr std::string_view kWrote[] = {"wrote:",
                                                  "schrieb:",
                                                  "a \xC3\xA9"
                                                  "crit :",
                                                  "a \xC3\xA9"
                                                  "crit:",
                                                  "escribi\xC3\xB3:",
                                                  "ha scritto:",
                                                  "schreef:",
                                                  "escreveu:"};
    const auto lines = text::splitLines(email.body);
    auto quoted = [&](std::size_t i) { return text::trim(lines[i].text).starts_with('>'); };
    // The attribution: the first line ending with one of kWrote and followed by a quoted line.
    std::size_t i = 0;
    std::string from;
    for (; i + 1 < lines.size(); ++i) {
        const auto line = text::trim(lines[i].text);
        const bool attribution = std::any_of(std::begin(kWrote), std::end(kWrote), [&](std::string_view w) {
            return line.size() >= w.size() && text::findNoCase(line.substr(line.size() - w.size()), w) == 0;
        });
        if (attribution && quoted(i + 1)) {
            const auto lt = line.find('<');
            const auto gt = line.find('>', lt == std::string_view::npos ? 0 : lt);
            if (lt != std::string_view::npos && gt != std::string_view::npos
                && line.substr(lt, gt - lt).find('@') != std::string_view::npos)
                from = std::string(line.substr(lt + 1, gt - lt - 1));
            break;
        }
    }
    // The quote, one level of marks taken off, up to the first line that is not quoted.
    std::string text;
    int taken = 0;
    for (++i; i < lines.size(); ++i) {
        auto line = lines[i].text;
        // The indentation after the mark stays: it continues folded fields and wrapped replies.
        if (const auto lead = line.find_first_not_of(" \t"); lead != std::string_view::npos) {
            if (line[lead] != '>')
                break;
            line.remove_prefix(lead + 1);
            if (!line.empty() && line.front() == ' ')
                line.remove_prefix(1);
            text.append(line);
            ++taken;
        }
        text += '\n';
    }
    if (taken < 3)
        return {};
    return "From: " + (from.empty() ? std::string("MAILER-DAEMON") : from)
        + "\nSubject: " + email.headers.get("Subject") + "\n\n" + text;
}

} // namespace

namespace
{

/// True when `paragraph` is the header block of a message a person forwarded or replied to, as
/// a mail client writes it above the message's text: its forward marker if any ("-----Original
/// Message-----", "---------- Forwarded message ---------" …), then two or more lines of From,
/// Sent or Date, To, Cc, Subject (in the mail clients' languages), one of them From.
std::vector<std::string> forwardedHeaderNames(std::string_view paragraph)
{
    std::vector<std::string> names;
    for (const auto& line : text::splitLines(paragraph)) {
        auto t = text::trim(line.text);
        if (t.empty())
            continue;
        if (names.empty()
            && std::any_of(std::begin(kForwardMarkers), std::end(kForwardMarkers),
                           [&](std::string_view m) { return text::findNoCase(t, m) != std::string_view::npos; }))
            continue;
        std::string field(t);
        std::erase(field, '*');
        auto colon = field.find(':');
        if (colon != std::string::npos && colon > 1 && field[colon - 1] == ' ')
            --colon; // French: "De :"
        if (colon == std::string::npos || colon == 0 || colon > 30)
            return {};
        auto name
            = text::toLower(forwardedFieldName(std::string(text::trim(std::string_view(field).substr(0, colon)))));
        if (name != "from" && name != "date" && name != "to" && name != "cc" && name != "subject" && name != "reply-to")
            return {};
        names.push_back(std::move(name));
    }
    return names;
}

bool isForwardedHeaders(std::string_view paragraph)
{
    const auto names = forwardedHeaderNames(paragraph);
    return names.size() >= 2 && std::find(names.begin(), names.end(), "from") != names.end();
}

} // namespace

std::optional<std::string> jsonEventReply(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || (text[first] != '{' && text[first] != '['))
        return std::nullopt;
    // The fields the ESPs' events and exports put the receiving server's reply in (SES, SparkPost,
    // Mandrill, Postmark, SendGrid, Mailgun's delivery-status …), the most specific first.
    static constexpr std::string_view kKeys[]
        = {"diagnosticCode", "smtpResponse", "raw_reason",         "diag", "Details", "reason", "response",
           "message",        "description",  "bounce_description", "error"};
    struct Span {
        std::size_t start, end;
    };
    // A string value's raw span after "key": (escapes and all).
    auto valueOf = [&](std::string_view key, std::size_t from) -> std::optional<std::pair<Span, std::size_t>> {
        const std::string quoted = "\"" + std::string(key) + "\"";
        for (auto at = text.find(quoted, from); at != std::string_view::npos; at = text.find(quoted, at + 1)) {
            auto i = text.find_first_not_of(" \t\r\n", at + quoted.size());
            if (i == std::string_view::npos || text[i] != ':')
                continue;
            i = text.find_first_not_of(" \t\r\n", i + 1);
            if (i == std::string_view::npos || text[i] != '"')
                continue;
            std::size_t j = i + 1;
            while (j < text.size() && text[j] != '"')
                j += text[j] == '\\' ? 2 : 1;
            if (j >= text.size())
                return std::nullopt;
            return std::pair {Span {i + 1, j}, j};
        }
        return std::nullopt;
    };
    // The first value with a reply code is the reply; else the first with words at all.
    std::optional<Span> chosen;
    bool coded = false;
    for (const auto key : kKeys) {
        for (auto v = valueOf(key, 0); v && !coded; v = valueOf(key, v->second)) {
            const auto raw = text.substr(v->first.start, v->first.end - v->first.start);
            if (text::trim(raw).empty())
                continue;
            const auto r = primaryReply(raw);
            coded = r.basicCode || !r.enhancedCode.empty();
            if (coded || !chosen)
                chosen = v->first;
        }
        if (coded)
            break;
    }
    if (!chosen)
        return std::nullopt;
    // Everything else blanked, and the value's escapes written as spaces and the character they
    // stand for ("\"" -> ' "'): the same length, so offsets stay. A "\uXXXX" escape (how many
    // exports write every non-ASCII character) becomes its UTF-8 bytes, fewer than its six, so
    // the rest of the value moves left and its end is padded: the words stay whole ("\u30e6\u30fc"
    // is one Japanese word, not letters apart), and only offsets after such an escape move.
    std::string out(text.size(), ' ');
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n')
            out[i] = '\n';
    auto hex4 = [&](std::size_t at) -> std::optional<unsigned> {
        if (at + 4 > chosen->end)
            return std::nullopt;
        unsigned v = 0;
        const char* digits = text.data() + at;
        const auto [end, ec] = std::from_chars(digits, digits + 4, v, 16);
        if (ec != std::errc {} || end != digits + 4)
            return std::nullopt;
        return v;
    };
    std::size_t w = chosen->start;
    for (std::size_t i = chosen->start; i < chosen->end; ++i) {
        if (text[i] == '\\' && i + 1 < chosen->end) {
            const char c = text[i + 1];
            if (c == 'u') {
                if (auto cp = hex4(i + 2)) {
                    std::size_t used = 6;
                    // A surrogate pair is one character in two escapes.
                    if (*cp >= 0xD800 && *cp < 0xDC00 && i + 12 <= chosen->end && text[i + 6] == '\\'
                        && text[i + 7] == 'u') {
                        if (auto low = hex4(i + 8); low && *low >= 0xDC00 && *low < 0xE000) {
                            cp = 0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00);
                            used = 12;
                        }
                    }
                    std::string bytes = " ";
                    if (*cp >= 0x20 && (*cp < 0xD800 || *cp >= 0xE000)) {
                        bytes.clear();
                        text::appendUtf8(bytes, *cp);
                    }
                    for (char b : bytes)
                        out[w++] = b;
                    i += used - 1;
                    continue;
                }
            }
            out[w++] = ' ';
            out[w++] = c == 'n' || c == 'r' || c == 't' || c == 'b' || c == 'f' ? ' ' : c;
            ++i;
            continue;
        }
        out[w++] = text[i];
    }
    return out;
}

std::string blankAsides(std::string_view input, const KnowledgeBase& kb)
{
    std::string lines;
    std::string_view text = input;
    if (text::hasEscapedBreaks(input)) {
        lines.assign(input);
        text::expandEscapedBreaks(lines);
        text = lines;
    }
    std::string out(text);
    std::size_t paragraph = 0; // where the current paragraph starts
    auto close = [&](std::size_t end) {
        const auto p = text.substr(paragraph, end - paragraph);
        if (end > paragraph && (kb.isNotice(p) || isForwardedHeaders(p)))
            for (std::size_t i = paragraph; i < end; ++i)
                if (out[i] != '\n' && out[i] != '\r')
                    out[i] = ' ';
    };
    std::size_t at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        const std::size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
        if (text::trim(text.substr(at, next - at)).empty()) {
            close(at);
            paragraph = next;
        }
        at = next;
    }
    close(text.size());
    return out;
}

BounceOutcome BounceReader::read(const Email& email) const
{
    std::string inlineForward;
    if (email.forwardedBounce.empty())
        inlineForward = inlineForwardedBounce(email);
    if (email.forwardedBounce.empty() && inlineForward.empty())
        inlineForward = quotedBounce(email);
    const std::string& forwarded = email.forwardedBounce.empty() ? inlineForward : email.forwardedBounce;
    if (!forwarded.empty()) {
        // Forwards of forwards nest; a crafted message could nest without end.
        thread_local int depth = 0;
        if (depth < 4) {
            struct Nest {
                int& d;
                explicit Nest(int& x)
                    : d(++x)
                {
                }
                ~Nest() { --d; }
            } nest(depth);
            auto inner = read(std::string_view(forwarded));
            if (!inner.records.empty())
                return inner;
        }
    }
    BounceOutcome out;
    BounceReport report;
    // What a report says beyond the addresses: a reply with a code, a status, a reason the
    // format states. A module that recognised its format but read none of these from this
    // variant of it gives way to a later module that reads more (the first such one wins).
    auto says = [](const BounceReport& r) {
        int n = 0;
        for (const auto& x : r.recipients)
            n += (parseReply(x.reply).basicCode ? 2 : 0) + (isEnhancedStatus(x.status) ? 1 : 0)
                + (x.reasonHint.empty() ? 0 : 1);
        return n;
    };
    std::optional<BounceReport> first;
    const auto& modules = formats::registry();
    for (std::size_t i = 0; i < modules.size(); ++i) {
        if (!m_formats.empty() && std::find(m_formats.begin(), m_formats.end(), i) == m_formats.end())
            continue;
        const auto& f = modules[i];
        report = BounceReport {};
        try {
            if (f.parse(email, report) && !report.recipients.empty()) {
                const bool informative = report.kind != "bounce" || says(report) > 0;
                if (informative && first) {
                    // A later reading adds what the first lacked; it is taken when it is about at
                    // least one of the same addresses, else the first recognition stands.
                    const bool overlap = std::any_of(
                        report.recipients.begin(), report.recipients.end(), [&](const BounceRecipient& a) {
                            return std::any_of(first->recipients.begin(), first->recipients.end(),
                                               [&](const BounceRecipient& b) {
                                                   return text::toLower(a.address) == text::toLower(b.address);
                                               });
                        });
                    if (!overlap)
                        report = std::move(*first);
                    first.reset();
                }
                if (informative)
                    break;
                if (!first)
                    first = std::move(report);
            }
        } catch (const std::exception& e) {
            // A module's bug must not end an import of a million messages: say it, try the next.
            out.warnings.push_back(std::string(f.name) + ": " + e.what());
        }
        report.recipients.clear();
    }
    if (first)
        report = std::move(*first); // nobody read more: the first recognition stands
    if (report.recipients.empty()) {
        out.kind = "not_bounce";
        out.error = "not a bounce: no delivery report, and no failed recipient or server reply in the text";
        return out;
    }
    out.kind = report.kind;

    OriginalMessage original;
    if (email.original)
        original = originalOf(*email.original);
    else if (auto inl = formats::inlineOriginal(email.body))
        original = originalOf(*inl);
    const auto& kb = m_classifier->knowledge();
    const std::string bounceDate = email.headers.get("Date");
    const std::string_view human = formats::bodyBeforeOriginal(email.body);

    // A module that reads an MTA's prose may leave out what the delivery-status fields beside it
    // state (Status, Remote-MTA, the Diagnostic-Code): those fields, from the report part or
    // written in the text, fill what the module left empty for the same address.
    if (report.format != "rfc3464" && report.kind == "bounce") {
        BounceReport dsn;
        formats::parseDeliveryStatus(email.deliveryStatus, dsn);
        if (dsn.recipients.empty())
            formats::parseDeliveryStatus(formats::rawDeliveryStatus(human), dsn);
        for (auto& r : report.recipients)
            for (const auto& f : dsn.recipients) {
                if (text::toLower(f.address) != text::toLower(r.address) || f.action == "delivered")
                    continue;
                if (r.status.empty() && isEnhancedStatus(f.status))
                    r.status = f.status;
                if (r.remoteMta.empty())
                    r.remoteMta = f.remoteMta;
                if (r.lastAttempt.empty())
                    r.lastAttempt = f.lastAttempt;
                if (r.originalAddress.empty())
                    r.originalAddress = f.originalAddress;
                if (r.reply.empty() && parseReply(f.reply).basicCode)
                    r.reply = f.reply;
                break;
            }
    }

    // A module that knows the format but not this variant of it may name the recipient and no
    // reply: the text about that address, up to the next recipient's, usually quotes the server.
    if (report.kind == "bounce" || report.kind == "delayed")
        for (auto& r : report.recipients)
            if (r.reply.empty() && r.context.empty() && !r.address.empty())
                r.context = textAbout(human, r.address, report.recipients);

    for (const auto& r : report.recipients) {
        BounceRecord rec;
        rec.format = report.format;
        rec.kind = report.kind;
        rec.recipient = r.address;
        // The address the sender mailed, when the failure is another's it was expanded or
        // forwarded to: the report's Original-Recipient, else the alias its text names.
        rec.originalRecipient
            = r.originalAddress.find('@') != std::string::npos ? r.originalAddress : expandedFrom(human, r.address);
        // The same address written another way ("a.b."@x quoted in one field, bare in the other).
        const auto bare = [](std::string a) {
            std::erase(a, '"');
            return text::toLower(a);
        };
        if (bare(rec.originalRecipient) == bare(rec.recipient))
            rec.originalRecipient.clear();
        rec.dsnAction = r.action.empty() ? (report.kind == "bounce" ? "failed" : std::string()) : r.action;
        rec.remoteMta = r.remoteMta;
        rec.reportingMta = report.reportingMta;
        rec.envelopeSender = report.envelopeSender.empty() ? original.returnPath : report.envelopeSender;
        rec.feedbackType = report.feedbackType;
        rec.subject = email.headers.get("Subject");
        rec.original = original;
        for (const auto& d : {r.lastAttempt, report.arrivalDate, bounceDate}) {
            rec.timestamp = isoTimestamp(d);
            if (!rec.timestamp.empty())
                break;
        }

        Reply reply = r.reply.empty() ? Reply {} : parseReply(r.reply);
        if (reply.smtpStage.empty())
            reply.smtpStage = r.command;
        // The stage is rarely in the Diagnostic-Code itself but often in the text around it
        // ("… (in reply to end of DATA command)", Exim's "after RCPT TO:").
        if (reply.smtpStage.empty() && !r.context.empty())
            reply.smtpStage = primaryReply(r.context).smtpStage;
        if (reply.smtpStage.empty())
            reply.smtpStage = stageInText(human, r.address, report.recipients);
        if (reply.remoteHost.empty())
            reply.remoteHost = r.remoteMta;
        reply.fromBounceEmail = true;
        Diagnosis d = diagnoseRemembered(*m_classifier, reply);
        // A reply that names no cause: the text the MTA wrote around it often does.
        if (d.reason == "undefined" && !r.context.empty()) {
            Reply ctx = reply;
            // Without a gateway's banner or footer: "scanned for viruses" is not a cause.
            ctx.text = withoutAddresses(blankAsides(r.context, kb));
            Diagnosis dc = diagnoseRemembered(*m_classifier, ctx);
            // The prose around a reply holds many words that are not about this failure (field
            // names, "dns;", advice): only a phrase or curated rule speaks for it, not a single
            // cause word or the statistical model.
            const bool phrase = dc.confidence == "rule" && !dc.ruleIds.empty()
                && dc.ruleIds.front().find(".kw-") == std::string::npos;
            if (dc.reason != "undefined" && phrase) {
                dc.replyText = reply.text;
                dc.evidence.clear(); // spans point into the context, not the reply
                dc.alternativeEvidence.start = dc.alternativeEvidence.end = 0;
                d = std::move(dc);
            }
        }
        // The status: the report's own Status field, unless it is generic and the reply is precise.
        std::string status = isEnhancedStatus(r.status) ? r.status : std::string();
        if (!reply.enhancedCode.empty() && isEnhancedStatus(reply.enhancedCode)
            && (status.empty() || (status.substr(1) == ".0.0" && reply.enhancedCode.substr(1) != ".0.0")))
            status = reply.enhancedCode;
        // Some MTAs state the code only in their own words ("(#5.5.0)"), not in the reply.
        if (status.empty() && !r.context.empty()) {
            const auto fromContext = parseReply(r.context).enhancedCode;
            if (isEnhancedStatus(fromContext))
                status = fromContext;
        }
        std::string hint = r.reasonHint;
        // Kept as the record's hint too, so that a re-diagnosis without the remote host agrees.
        if (hint.empty() && d.reason == "userunknown" && operatorSays(kb, d, reply.remoteHost))
            hint = "userunknown";
        refineByContext(*m_classifier, d, {reply.smtpStage, hint, report.filteringGateway, status});
        // Sisimai's status table reads a disabled mailbox under X.1.1 as an unknown one: in the
        // corpus 59 of 63 recipients with Status 5.1.1 are userunknown and none is suspend
        // ("550 5.1.1 <…@icloud.com>: inactive email address"). Pasted alone, the words decide. Kept
        // as the record's hint, like the convention below.
        if (d.reason == "suspend" && hint.empty() && namesRecipientMailbox(status)) {
            hint = "userunknown";
            m_classifier->applyReason(d, hint);
        }
        // Sisimai's convention (reason/why-userunknown.go, why-filtered.go): "user unknown" words
        // read as userunknown only with a status naming the mailbox (X.1.0, X.1.1, X.1.3) or a refusal at RCPT TO; when
        // the bounce names no SMTP stage at all, the same words are read as a filter's refusal (filtered), since
        // nothing shows the mailbox was looked up at the envelope. Formats whose own text states the reason (a hint)
        // are not concerned. Kept as the record's hint so that a re-diagnosis of the workspace, which no longer sees
        // the bounce text, agrees.
        if (d.reason == "userunknown" && reply.smtpStage.empty() && hint.empty() && !namesRecipientMailbox(status)) {
            hint = "filtered";
            m_classifier->applyReason(d, hint);
        }
        // A lone cause word (a lexicon's `kw-` concept: "too large") decides no more than a model
        // guess does where the report states a status the reply did not carry: Postfix's local(8)
        // writing a mailbox over its size limit says "File too large" under Status 5.2.2.
        const bool loneCauseWord
            = d.confidence == "rule" && !d.ruleIds.empty() && d.ruleIds.front().find(".kw-") != std::string::npos;
        if ((d.reason == "undefined" || ((d.confidence == "model" || loneCauseWord) && status != reply.enhancedCode))
            && !status.empty()) {
            // The status alone may still decide (5.1.1 in a DSN whose Diagnostic-Code is empty).
            // Before the diagnostic type below: Postfix's local(8) states what a failed system
            // call or program meant in the status ("File too large" writing a mailbox is 5.2.2,
            // a command's exit 67 is 5.1.1) and only its words under "X-Unix;". A guess of the
            // model's from the words alone ("input/output error") yields to a status that says
            // more (5.2.2), as it would have had the reply carried that code.
            Reply withCode = reply;
            withCode.enhancedCode = status;
            Diagnosis ds = m_classifier->diagnose(withCode);
            if (ds.reason != "undefined")
                d = std::move(ds);
        }
        // A local delivery program failed (Diagnostic-Code type X-Unix) and neither the words nor
        // the status (X.0.0, X.3.0) say more.
        if (d.reason == "undefined" && text::startsWithNoCase(text::trim(r.reply), "x-unix"))
            m_classifier->applyReason(d, "mailererror");
        // Nothing names the cause, and the returned message carries as many Received fields as
        // an MTA lets a message have: it went round in a loop (X.4.6, networkerror).
        if (d.reason == "undefined" && receivedCount(email.original) >= kLoopHops)
            m_classifier->applyReason(d, "networkerror");
        rec.basicCode = reply.basicCode;
        // The reply code may stand only in the MTA's transcript around the reply.
        if (!rec.basicCode && !r.context.empty()) {
            const auto around = primaryReply(r.context);
            if (around.basicCode && *around.basicCode >= 400
                && (status.empty() || status.front() == static_cast<char>('0' + *around.basicCode / 100)))
                rec.basicCode = around.basicCode;
        }
        const bool permanent = status.empty() ? (reply.basicCode ? *reply.basicCode >= 500 : rec.dsnAction != "delayed")
                                              : status.front() == '5';
        if (status.empty() && report.kind != "feedback" && report.kind != "auto_reply") {
            status = derivedStatusFor(kb, d.reason, r.temporary ? !*r.temporary : permanent);
            rec.statusDerived = !status.empty();
        }
        rec.enhancedCode = status;
        d.enhancedCode = status.empty() ? d.enhancedCode : status;
        d.permanent = permanent;
        // The diagnosis travels alone to the cards of the CLI and the window: it must state the
        // record's codes, their meaning and the hard-bounce flag for those codes, not those of
        // the reply text alone (a DSN's Status with a reply that quotes no code read "none found,
        // temporary" before).
        if (rec.basicCode)
            d.basicCode = rec.basicCode;
        if (!status.empty() || d.basicCode) {
            Reply codes;
            codes.basicCode = d.basicCode;
            codes.enhancedCode = d.enhancedCode;
            const Diagnosis meaning = diagnoseRemembered(*m_classifier, codes);
            if (!meaning.codeMeaning.empty())
                d.codeMeaning = meaning.codeMeaning;
            Diagnosis hard;
            hard.basicCode = d.basicCode;
            hard.enhancedCode = d.enhancedCode;
            hard.reason.clear();
            m_classifier->applyReason(hard, d.reason);
            d.hardBounce = hard.hardBounce;
        }
        rec.replyText = reply.text;
        rec.reasonHint = hint;
        rec.filteringGateway = report.filteringGateway;
        d.smtpStage = reply.smtpStage;
        rec.diagnosis = std::move(d);
        out.records.push_back(std::move(rec));
    }
    return out;
}

} // namespace bt
