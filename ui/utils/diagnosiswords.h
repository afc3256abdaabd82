// SPDX-License-Identifier: MIT
#pragma once

#include <QString>
#include <QStringView>

#include <string_view>

namespace bt
{
struct Diagnosis;
class KnowledgeBase;
} // namespace bt

// The vocabulary words (vocabulary.md) stay as they are wherever they are shown, because
// people search, filter and talk in them; these phrases say the same thing in plain words
// beside them. Unknown words give an empty phrase rather than a guess. Reason titles are
// data of the core (resources/reasons.json); family, action and spam-related phrases have no
// table there and live here.
namespace btui
{

/// "reputation" → "Sender reputation or a blocklist".
QString familyPhrase(QStringView family);
/// "userunknown" → "the mailbox does not exist": the title in resources/reasons.json, so that
/// the GUI and the CLI use the same words. Empty without a knowledge base or a title.
QString reasonPhrase(const bt::KnowledgeBase* knowledge, std::string_view reason);
/// "suppress" → "Stop sending to this address".
QString actionPhrase(QStringView action);
/// "often" → "often a spam measure: check the evidence".
QString spamRelatedPhrase(QStringView spamRelated);

/// "model" → "a statistical guess …": what decided the reason (Diagnosis::confidence).
QString confidencePhrase(QStringView confidence);

/// "hard bounce: permanent, stop sending to this address" and the like, from hardBounce,
/// permanent, the codes and the family.
QString bouncePhrase(const bt::Diagnosis& diagnosis);

/// "550 5.7.26" (whichever codes the reply has), or empty.
QString codesText(const bt::Diagnosis& diagnosis);

/// One line for a status bar: "auth · authfailure · spam-related: often · fix_auth".
QString verdictSummary(const bt::Diagnosis& diagnosis);

} // namespace btui
