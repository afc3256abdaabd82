// SPDX-License-Identifier: MIT
#pragma once

#include "diagnosis.h"

#include <QWidget>

namespace bt
{
class KnowledgeBase;
}

class QGridLayout;
class QLabel;
class QPushButton;
class QScrollArea;

/// Shows one Diagnosis the way a person triaging reads it: the verdict first (family,
/// reason, whether it is about spam and which words say so), then what to do, then the
/// detail (codes, server, blocklists with their delisting pages, references).
///
/// The vocabulary words are shown as they are, with a plain phrase beside each, so the card
/// teaches the words that the CLI, exports and filters use.
class DiagnosisCard : public QWidget
{
    Q_OBJECT
public:
    explicit DiagnosisCard(QWidget* parent = nullptr);
    ~DiagnosisCard() override;

    /// The knowledge base whose reason titles (resources/reasons.json) head the card; without
    /// one the reason word is shown alone. Not owned: it must outlive the card.
    void setKnowledge(const bt::KnowledgeBase* knowledge);

    /// Shows the diagnosis; the card keeps its own copy.
    void setDiagnosis(const bt::Diagnosis& diagnosis);
    /// Back to the "nothing pasted yet" state.
    void clear();

    bool isEmpty() const { return m_empty; }
    const bt::Diagnosis& diagnosis() const { return m_diagnosis; }

    /// The card as plain text, as Copy puts it on the clipboard (empty when isEmpty()).
    QString plainText() const;

    /// The shown texts, for tests and for accessibility tools that read one part.
    QString headlineText() const;
    QString spamRelatedText() const;
    QString stepsText() const;
    /// The blocklists section (rich text with the delisting links).
    const QLabel* blocklistsLabel() const { return m_blocklists; }

    /// True while the headline has a row of its own under the badge and Copy (a narrow card).
    bool headlineOnItsOwnRow() const { return m_narrowHeader; }

    /// The plain-text form of any diagnosis (what plainText() returns for the shown one).
    static QString toPlainText(const bt::Diagnosis& diagnosis, const bt::KnowledgeBase* knowledge = nullptr);

public Q_SLOTS:
    /// Puts plainText() on the clipboard.
    void copyToClipboard();

Q_SIGNALS:
    /// Emitted after copyToClipboard() put the text on the clipboard.
    void copied();

protected:
    void changeEvent(QEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void render();
    void layoutHeader(bool narrow);
    void updateHeadlineFont();

    bt::Diagnosis m_diagnosis;
    bool m_empty = true;
    const bt::KnowledgeBase* m_knowledge = nullptr;

    QGridLayout* m_header = nullptr;
    bool m_narrowHeader = false;
    QLabel* m_badge = nullptr;
    QLabel* m_headline = nullptr;
    QPushButton* m_copyButton = nullptr;
    QScrollArea* m_scroll = nullptr;
    QLabel* m_spamLine = nullptr;
    QLabel* m_summary = nullptr;
    QLabel* m_explanation = nullptr;
    QLabel* m_steps = nullptr;
    QLabel* m_blocklists = nullptr;
    QLabel* m_references = nullptr;
    QLabel* m_rules = nullptr;
};
