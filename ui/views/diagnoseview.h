// SPDX-License-Identifier: MIT
#pragma once

#include "bounce.h"
#include "diagnosis.h"

#include <QTextEdit>
#include <QWidget>

#include <memory>

class CheckPanel;
class DiagnosisCard;
class QPlainTextEdit;
class QScrollArea;
class QSplitter;
class QTimer;
class QTreeWidget;
class QGroupBox;
class QLabel;

namespace bt
{
class Classifier;
}

/// The first thing a user sees: paste anything that holds a bounce on the left, read the
/// diagnosis on the right, with the words that decided it highlighted in the pasted text.
///
/// Diagnosis runs in the GUI thread: the classifier takes microseconds per reply, and the
/// short debounce only keeps a huge paste from being diagnosed once per inserted block.
class DiagnoseView : public QWidget
{
    Q_OBJECT
public:
    explicit DiagnoseView(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent = nullptr);
    ~DiagnoseView() override;

    /// Replaces the pasted text (undoable) and diagnoses it after the debounce.
    void setText(const QString& text);
    QString text() const;
    /// Loads a bounce file (UTF-8, else Latin-1); emits failed() and keeps the text on error.
    bool loadFile(const QString& path);
    /// Replaces the text with the clipboard's: a bounce file copied in a file manager is loaded,
    /// text is pasted. Ctrl+V inside the editor still inserts at the cursor as usual.
    void pasteReplacing();
    void clear();

    /// The diagnosis of the current text (a default Diagnosis while hasDiagnosis() is false).
    const bt::Diagnosis& diagnosis() const { return m_diagnosis; }
    /// False while the text is empty (or only whitespace).
    bool hasDiagnosis() const { return m_hasDiagnosis; }
    /// Diagnoses now instead of waiting for the debounce.
    void diagnoseNow();

    /// A whole bounce email gives one record per bounced recipient; a reply or NDR text none.
    const std::vector<bt::BounceRecord>& records() const { return m_records; }
    /// Shows the diagnosis of record `index` on the card and in the highlights.
    void selectRecord(int index);
    /// The list of recipients (visible only for a whole bounce email).
    QTreeWidget* recipientList() const { return m_recipients; }
    /// The returned original message's sender and authentication headers, as shown.
    QString originalText() const;

    CheckPanel* checks() const { return m_checks; }
    DiagnosisCard* card() const { return m_card; }
    QPlainTextEdit* editor() const { return m_editor; }
    /// The highlighted evidence in the editor.
    QList<QTextEdit::ExtraSelection> evidenceSelections() const;

    /// Splitter sizes, for the main window's settings.
    QByteArray saveState() const;
    void restoreState(const QByteArray& state);

    /// How long typing has to pause before the text is diagnosed again.
    static constexpr int kDebounceMs = 150;
    /// First byte of saveState(): both splitters (older versions saved the horizontal one).
    static constexpr quint8 kStateVersion = 2;

Q_SIGNALS:
    /// A new diagnosis is shown (also when the text became empty).
    void diagnosisChanged();
    /// A file was loaded into the view.
    void fileLoaded(const QString& path);
    /// Something the user asked for did not work; the sentence says what.
    void failed(const QString& message);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void scheduleDiagnosis();
    void highlightEvidence(const QString& text, const QByteArray& utf8, std::size_t replyOffset);
    void replaceText(const QString& text);
    void showRecords();
    void showDiagnosis(std::size_t replyOffset);
    /// Shows the pane below the card only while the checks or the original message have something.
    void updateLowerPane();

    std::shared_ptr<const bt::Classifier> m_classifier;
    CheckPanel* m_checks = nullptr;
    bt::BounceReader m_reader;
    std::vector<bt::BounceRecord> m_records;
    QString m_text; // the text the records and the diagnosis were made from
    QByteArray m_utf8;
    // A loaded file's own bytes, read instead of the editor's text while that text is unchanged:
    // the editor holds decoded text (Latin-1 for 8-bit files, "\n" line ends), and the email
    // reader must see what `parse` and an import see to give the same records.
    QByteArray m_fileBytes;
    QString m_fileText;
    bt::Diagnosis m_diagnosis;
    bool m_hasDiagnosis = false;
    // Set when the text came from a file or setText(): the evidence may be far down a long
    // email, so the editor scrolls to it. Not done while typing, where it would move the caret.
    bool m_revealEvidence = false;

    QSplitter* m_splitter = nullptr; // the text | the diagnosis
    QSplitter* m_rightSplitter = nullptr; // recipients / card / checks and original message
    QScrollArea* m_lower = nullptr;
    QPlainTextEdit* m_editor = nullptr;
    DiagnosisCard* m_card = nullptr;
    QGroupBox* m_recipientsBox = nullptr;
    QTreeWidget* m_recipients = nullptr;
    QGroupBox* m_originalBox = nullptr;
    QLabel* m_original = nullptr;
    QTimer* m_debounce = nullptr;
};
