// SPDX-License-Identifier: MIT
#include "views/diagnoseview.h"

#include "classifier.h"
#include "replyparser.h"
#include "utils/bouncefile.h"
#include "utils/evidencespans.h"
#include "utils/familycolors.h"
#include "widgets/diagnosiscard.h"

#include <QApplication>
#include <QClipboard>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFontDatabase>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <exception>
#include <string_view>

using namespace Qt::StringLiterals;

DiagnoseView::DiagnoseView(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent)
    : QWidget(parent)
    , m_classifier(std::move(classifier))
{
    Q_ASSERT(m_classifier);

    m_editor = new QPlainTextEdit(this);
    m_editor->setObjectName(u"pasteEditor"_s);
    // Bounces are machine text: columns, indentation and codes read best in a fixed font.
    m_editor->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editor->setPlaceholderText(
        tr("Paste a bounce here: an SMTP reply such as \"550 5.1.1 <x@example.com>: Recipient address "
           "rejected: User unknown\", the text of a bounce message, or a whole bounce email with its "
           "headers.\n\nYou can also drop an .eml or .txt file here or open one with File \u203A Open."));
    m_editor->setTabChangesFocus(true);
    // File drops are taken over in eventFilter(); the editor itself would paste the file's URL.
    m_editor->viewport()->installEventFilter(this);

    m_card = new DiagnosisCard(this);
    m_card->setObjectName(u"diagnosisCard"_s);
    // The classifier (held by this view) owns the knowledge base, so it outlives the card.
    m_card->setKnowledge(&m_classifier->knowledge());

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->addWidget(m_editor);
    m_splitter->addWidget(m_card);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(kDebounceMs);
    connect(m_debounce, &QTimer::timeout, this, &DiagnoseView::diagnoseNow);
    connect(m_editor, &QPlainTextEdit::textChanged, this, &DiagnoseView::scheduleDiagnosis);

    setAcceptDrops(true);
    setFocusProxy(m_editor);
}

DiagnoseView::~DiagnoseView() = default;

void DiagnoseView::setText(const QString& text)
{
    m_revealEvidence = true;
    replaceText(btui::normalizeLineEndings(text));
}

QString DiagnoseView::text() const
{
    return m_editor->toPlainText();
}

bool DiagnoseView::loadFile(const QString& path)
{
    const btui::BounceFile file = btui::readBounceFile(path);
    if (!file.ok()) {
        Q_EMIT failed(file.error);
        return false;
    }
    m_revealEvidence = true;
    replaceText(file.text);
    Q_EMIT fileLoaded(path);
    return true;
}

void DiagnoseView::pasteReplacing()
{
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    const QString file = btui::droppedBounceFile(mime);
    if (!file.isEmpty()) {
        loadFile(file);
    } else if (mime && mime->hasText()) {
        setText(mime->text());
    }
    m_editor->setFocus();
}

void DiagnoseView::clear()
{
    replaceText(QString());
    m_debounce->stop();
    diagnoseNow();
    m_editor->setFocus();
}

void DiagnoseView::replaceText(const QString& text)
{
    // Through a cursor rather than setPlainText(), so that Undo brings the previous text back.
    QTextCursor cursor(m_editor->document());
    cursor.beginEditBlock();
    cursor.select(QTextCursor::Document);
    cursor.insertText(text);
    cursor.endEditBlock();
    m_editor->moveCursor(QTextCursor::Start);
}

void DiagnoseView::scheduleDiagnosis()
{
    m_debounce->start();
}

void DiagnoseView::diagnoseNow()
{
    m_debounce->stop();
    const QString text = m_editor->toPlainText();
    if (text.trimmed().isEmpty()) {
        m_diagnosis = bt::Diagnosis {};
        m_hasDiagnosis = false;
        m_card->clear();
        m_editor->setExtraSelections({});
        m_revealEvidence = false;
        Q_EMIT diagnosisChanged();
        return;
    }

    const QByteArray utf8 = text.toUtf8();
    const std::string_view input(utf8.constData(), std::size_t(utf8.size()));
    std::size_t replyOffset = 0;
    try {
        m_diagnosis = m_classifier->diagnoseText(input);
        replyOffset = bt::primaryReply(input).sourceOffset;
    } catch (const std::exception& error) {
        // The core is not expected to throw on any input; if it does, say so on the card
        // rather than leaving the previous verdict standing as if it applied.
        m_diagnosis = bt::Diagnosis {};
        m_diagnosis.explanation = std::string("The classifier failed on this text: ") + error.what();
        Q_EMIT failed(tr("The classifier failed on this text: %1").arg(QString::fromUtf8(error.what())));
    }
    m_hasDiagnosis = true;
    m_card->setDiagnosis(m_diagnosis);
    highlightEvidence(text, utf8, replyOffset);
    Q_EMIT diagnosisChanged();
}

void DiagnoseView::highlightEvidence(const QString& text, const QByteArray& utf8, std::size_t replyOffset)
{
    const QList<btui::TextSpan> spans = btui::locateEvidence(text, utf8, replyOffset, m_diagnosis);

    QTextCharFormat format;
    const QString family = QString::fromStdString(m_diagnosis.family);
    format.setBackground(btui::familyTint(family));
    // The tint is light on every style, so the text on it is set dark as well.
    format.setForeground(QColor(Qt::black));
    format.setUnderlineStyle(QTextCharFormat::SingleUnderline);
    format.setUnderlineColor(btui::familyColor(family));
    format.setToolTip(tr("Evidence for \u201C%1\u201D").arg(QString::fromStdString(m_diagnosis.reason)));

    QList<QTextEdit::ExtraSelection> selections;
    selections.reserve(spans.size());
    for (const btui::TextSpan& span : spans) {
        QTextEdit::ExtraSelection selection;
        selection.cursor = QTextCursor(m_editor->document());
        selection.cursor.setPosition(int(span.start));
        selection.cursor.setPosition(int(span.start + span.length), QTextCursor::KeepAnchor);
        selection.format = format;
        selections.append(selection);
    }
    m_editor->setExtraSelections(selections);

    if (m_revealEvidence && !spans.isEmpty()) {
        QTextCursor cursor(m_editor->document());
        cursor.setPosition(int(spans.front().start));
        m_editor->setTextCursor(cursor);
        m_editor->centerCursor();
    }
    m_revealEvidence = false;
}

QList<QTextEdit::ExtraSelection> DiagnoseView::evidenceSelections() const
{
    return m_editor->extraSelections();
}

QByteArray DiagnoseView::saveState() const
{
    return m_splitter->saveState();
}

void DiagnoseView::restoreState(const QByteArray& state)
{
    m_splitter->restoreState(state);
}

bool DiagnoseView::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == m_editor->viewport()) {
        switch (event->type()) {
        case QEvent::DragEnter:
        case QEvent::DragMove: {
            auto* drag = static_cast<QDragMoveEvent*>(event);
            if (!btui::droppedBounceFile(drag->mimeData()).isEmpty()) {
                drag->acceptProposedAction();
                return true;
            }
            break;
        }
        case QEvent::Drop: {
            auto* drop = static_cast<QDropEvent*>(event);
            const QString path = btui::droppedBounceFile(drop->mimeData());
            if (!path.isEmpty()) {
                drop->acceptProposedAction();
                loadFile(path);
                return true;
            }
            break;
        }
        default:
            break;
        }
    }
    return QWidget::eventFilter(watched, event);
}

void DiagnoseView::dragEnterEvent(QDragEnterEvent* event)
{
    if (!btui::droppedBounceFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void DiagnoseView::dropEvent(QDropEvent* event)
{
    const QString path = btui::droppedBounceFile(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    loadFile(path);
}
