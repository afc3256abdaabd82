// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"
#include "knowledge.h"

#include <cstdint>
#include <memory>
#include <string_view>

namespace bt
{

/// Turns replies into diagnoses with the rules of a KnowledgeBase. All rule patterns run
/// in one pass (RE2::Set); construction compiles them once, diagnose() is thread-safe.
class Classifier
{
public:
    explicit Classifier(std::shared_ptr<const KnowledgeBase> kb);
    ~Classifier();
    Classifier(const Classifier&) = delete;
    Classifier& operator=(const Classifier&) = delete;

    /// Whether a diagnosis carries the reason's texts for a reader: explanation, steps and
    /// references. They are the same for every reply of a rule or reason, and a caller that does
    /// not show them (an import, `--brief` JSON) saves their copies, a handful of allocations a
    /// reply; everything else (verdict, evidence, code meaning, blocklists) is the same.
    enum class Texts { Include, Omit };

    /// Diagnoses one parsed reply.
    Diagnosis diagnose(const Reply& reply, Texts texts = Texts::Include) const;
    /// The same, taking the reply's strings rather than copying them.
    Diagnosis diagnose(Reply&& reply, Texts texts = Texts::Include) const;
    /// Finds the primary reply in any pasted text (reply line, NDR, bounce email) and diagnoses it.
    Diagnosis diagnoseText(std::string_view text, Texts texts = Texts::Include) const;

    const KnowledgeBase& knowledge() const { return *m_kb; }
    /// Unique to this classifier in the process (never reused, unlike its address): what a
    /// memo of its diagnoses is keyed by.
    std::uint64_t serial() const { return m_serial; }

    /// Sets the reason when the context decides it (an ARF report is a complaint, an expired
    /// queue is expired): family, spam_related, action, explanation and steps follow it, and the
    /// confidence becomes "rule".
    void applyReason(Diagnosis& d, std::string_view reason) const;

private:
    struct Impl;
    std::shared_ptr<const KnowledgeBase> m_kb;
    std::unique_ptr<Impl> m_impl;
    std::uint64_t m_serial;
};

/// vocabulary.md: the family of a reason word ("userunknown" → "address").
std::string_view familyOf(std::string_view reason);
/// vocabulary.md: the default spam_related of a reason.
std::string_view defaultSpamRelated(std::string_view reason);
/// vocabulary.md: the default action of a reason.
std::string_view defaultAction(std::string_view reason);
/// True when the word is one of vocabulary.md's reasons.
bool isKnownReason(std::string_view reason);
/// Diagnosis::alternative when it is still another family than the verdict (a bounce email's
/// context may move the verdict after the classifier chose the rival), else empty.
std::string_view alternativeReading(const Diagnosis& d);
/// The words of the reply the alternative reading rests on (empty when its rule matched by code
/// alone), a view into d.replyText.
std::string_view alternativeWords(const Diagnosis& d);
/// The reply's words between two byte offsets as a person reads them: a multi-line reply's line
/// codes inside them left out ("unusual rate of 421-4.7.0 unsolicited mail" reads "unusual rate
/// of unsolicited mail"), as the classifier read them. Offsets past the end are clamped.
std::string readableWords(std::string_view reply, std::optional<int> basicCode, std::size_t start, std::size_t end);
/// vocabulary.md's words, in its order: every reason, every family, every action. The UI's
/// words and colours for them are tested against these lists, so a new word cannot be
/// forgotten there.
const std::vector<std::string_view>& vocabularyReasons();
const std::vector<std::string_view>& vocabularyFamilies();
const std::vector<std::string_view>& vocabularyActions();

/// What a bounce means for the address, decided once for the card, the CLI and the JSON.
enum class BounceKind {
    NotBounce, ///< an auto-reply or a delivery notice
    Hard, ///< permanent and about the address: stop sending to it
    PermanentUnusable, ///< permanent, the mailbox is not usable (disabled, suppressed): stop sending
    PermanentAddressFine, ///< permanent, but not about the address (a blocklist, SPF): keep it
    PermanentCauseUnknown, ///< permanent, and nothing says why: neither keep nor drop on its word
    Soft, ///< temporary (a 4xx code): the sending server retries
    Unstated, ///< neither code nor words say permanent
};
BounceKind bounceKind(const Diagnosis& d);
/// "hard bounce", "permanent", "temporary"…: the kind in one or two plain words.
std::string_view bounceKindWord(BounceKind kind);

} // namespace bt
