// SPDX-License-Identifier: MIT
#include "utils/diagnosiswords.h"

#include "classifier.h"
#include "diagnosis.h"
#include "knowledge.h"

#include <QCoreApplication>

#include <span>

using namespace Qt::StringLiterals;

namespace btui
{

namespace
{

struct Phrase {
    QStringView word;
    const char* text; // marked for translation, looked up at run time
};

QString lookup(std::span<const Phrase> table, QStringView word)
{
    for (const Phrase& phrase : table) {
        if (phrase.word == word)
            return QCoreApplication::translate("DiagnosisWords", phrase.text);
    }
    return {};
}

constexpr Phrase kFamilies[] = {
    {u"address", QT_TRANSLATE_NOOP("DiagnosisWords", "The recipient address is invalid or gone")},
    {u"relay", QT_TRANSLATE_NOOP("DiagnosisWords", "The server refused to relay for the sender")},
    {u"auth", QT_TRANSLATE_NOOP("DiagnosisWords", "Sender authentication failed (SPF, DKIM, DMARC, PTR)")},
    {u"reputation", QT_TRANSLATE_NOOP("DiagnosisWords", "Sender reputation or a blocklist")},
    {u"policy", QT_TRANSLATE_NOOP("DiagnosisWords", "A local policy of the recipient's server")},
    {u"content", QT_TRANSLATE_NOOP("DiagnosisWords", "The message content was refused")},
    {u"capacity", QT_TRANSLATE_NOOP("DiagnosisWords", "A mailbox, size or storage limit")},
    {u"rate_limit", QT_TRANSLATE_NOOP("DiagnosisWords", "Sending too fast or too many connections")},
    {u"routing", QT_TRANSLATE_NOOP("DiagnosisWords", "Network, DNS or TLS trouble on the way")},
    {u"system", QT_TRANSLATE_NOOP("DiagnosisWords", "An error in a mail system")},
    {u"complaint", QT_TRANSLATE_NOOP("DiagnosisWords", "A recipient reported the message as spam")},
    {u"not_bounce", QT_TRANSLATE_NOOP("DiagnosisWords", "Not a bounce (an auto-reply or a delivery notice)")},
    {u"unknown", QT_TRANSLATE_NOOP("DiagnosisWords", "Not recognised: read the reply text")},
};

constexpr Phrase kActions[] = {
    {u"suppress", QT_TRANSLATE_NOOP("DiagnosisWords", "Stop sending to this address")},
    {u"fix_route", QT_TRANSLATE_NOOP("DiagnosisWords", "Fix the route, relay or TLS settings")},
    {u"fix_auth", QT_TRANSLATE_NOOP("DiagnosisWords", "Fix SPF, DKIM, DMARC or reverse DNS")},
    {u"investigate_reputation",
     QT_TRANSLATE_NOOP("DiagnosisWords", "Investigate the sender's reputation and blocklists")},
    {u"confirm_policy", QT_TRANSLATE_NOOP("DiagnosisWords", "Find out the recipient's policy, then adapt")},
    {u"review_content", QT_TRANSLATE_NOOP("DiagnosisWords", "Review the message content")},
    {u"reduce_size", QT_TRANSLATE_NOOP("DiagnosisWords", "Make the message smaller")},
    {u"slow_down", QT_TRANSLATE_NOOP("DiagnosisWords", "Send more slowly")},
    {u"retry_later", QT_TRANSLATE_NOOP("DiagnosisWords", "Let it retry later")},
    {u"read_text", QT_TRANSLATE_NOOP("DiagnosisWords", "Read the reply text yourself")},
    {u"none", QT_TRANSLATE_NOOP("DiagnosisWords", "Nothing to do")},
};

constexpr Phrase kSpamRelated[] = {
    {u"yes", QT_TRANSLATE_NOOP("DiagnosisWords", "this rejection is about spam")},
    {u"often", QT_TRANSLATE_NOOP("DiagnosisWords", "often a spam measure: check the evidence")},
    {u"no", QT_TRANSLATE_NOOP("DiagnosisWords", "not about spam")},
    {u"unknown", QT_TRANSLATE_NOOP("DiagnosisWords", "the reply does not say")},
};

constexpr Phrase kConfidence[] = {
    {u"rule", QT_TRANSLATE_NOOP("DiagnosisWords", "the reply's own words (a rule or cause-word list)")},
    {u"code", QT_TRANSLATE_NOOP("DiagnosisWords", "the status code alone: the words were not recognised")},
    {u"model",
     QT_TRANSLATE_NOOP("DiagnosisWords", "a statistical guess from words seen in labelled replies: read the text")},
    {u"none", QT_TRANSLATE_NOOP("DiagnosisWords", "nothing recognised")},
};

} // namespace

QString familyPhrase(QStringView family)
{
    return lookup(kFamilies, family);
}

QString reasonPhrase(const bt::KnowledgeBase* knowledge, std::string_view reason)
{
    if (!knowledge)
        return {};
    const bt::ReasonInfo* info = knowledge->reasonInfo(reason);
    return info ? QString::fromStdString(info->title) : QString();
}

QString actionPhrase(QStringView action)
{
    return lookup(kActions, action);
}

QString spamRelatedPhrase(QStringView spamRelated)
{
    return lookup(kSpamRelated, spamRelated);
}

QString confidencePhrase(QStringView confidence)
{
    return lookup(kConfidence, confidence);
}

QString bouncePhrase(const bt::Diagnosis& diagnosis)
{
    auto tr = [](const char* text) { return QCoreApplication::translate("DiagnosisWords", text); };
    switch (bt::bounceKind(diagnosis)) {
    case bt::BounceKind::NotBounce:
        return tr("none: this is not a bounce");
    case bt::BounceKind::Hard:
        return tr("hard bounce: permanent, stop sending to this address");
    case bt::BounceKind::PermanentUnusable:
        return tr("permanent failure: the mailbox is not usable, stop sending to this address");
    case bt::BounceKind::PermanentAddressFine:
        return tr("permanent failure, but the address is fine: fix the cause, keep the address");
    case bt::BounceKind::PermanentCauseUnknown:
        return tr("permanent failure, cause not recognised: read the reply before deciding about the address");
    case bt::BounceKind::Soft:
        return tr("soft bounce: temporary, the sending server retries");
    case bt::BounceKind::Unstated:
        break;
    }
    return tr("soft bounce: not stated as permanent");
}

QString codesText(const bt::Diagnosis& diagnosis)
{
    QStringList parts;
    if (diagnosis.basicCode)
        parts.append(QString::number(*diagnosis.basicCode));
    if (!diagnosis.enhancedCode.empty())
        parts.append(QString::fromStdString(diagnosis.enhancedCode));
    return parts.join(u' ');
}

QString verdictSummary(const bt::Diagnosis& diagnosis)
{
    const QString separator = u" \u00B7 "_s;
    QString line = QString::fromStdString(diagnosis.family) + separator + QString::fromStdString(diagnosis.reason)
        + separator
        + QCoreApplication::translate("DiagnosisWords", "spam-related: %1")
              .arg(QString::fromStdString(diagnosis.spamRelated))
        + separator + QString::fromStdString(diagnosis.action);
    const QString codes = codesText(diagnosis);
    if (!codes.isEmpty())
        line = codes + separator + line;
    return line;
}

} // namespace btui
