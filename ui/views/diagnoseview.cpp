// SPDX-License-Identifier: MIT
#include "views/diagnoseview.h"

#include "alignment.h"
#include "classifier.h"
#include "replyparser.h"
#include "utils/bouncefile.h"
#include "utils/evidencespans.h"
#include "utils/familycolors.h"
#include "utils/plaintext.h"
#include "widgets/checkpanel.h"
#include "widgets/diagnosiscard.h"

#include <QApplication>
#include <QClipboard>
#include <QDataStream>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFontDatabase>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QSplitter>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <exception>
#include <string_view>

using namespace Qt::StringLiterals;

DiagnoseView::DiagnoseView(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent)
    : QWidget(parent)
    , m_classifier(std::move(classifier))
    , m_reader(m_classifier)
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

    // A whole bounce email can name several recipients: one row each, the card follows the
    // selected row. Hidden for a single reply, where it would only repeat the card.
    m_recipients = new QTreeWidget(this);
    m_recipients->setObjectName(u"recipientList"_s);
    m_recipients->setRootIsDecorated(false);
    m_recipients->setUniformRowHeights(true);
    m_recipients->setHeaderLabels({tr("Recipient"), tr("Status"), tr("Reply code"), tr("Reason"), tr("Family")});
    m_recipients->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    // Sized to its rows below: a horizontal scroll bar in a narrow pane covered the only row
    // (1024x640), so the columns share the width and long addresses are cut in the middle.
    m_recipients->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_recipients->setTextElideMode(Qt::ElideMiddle);
    m_recipients->header()->setStretchLastSection(false);
    for (int c = 1; c < 5; ++c)
        m_recipients->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_recipients->header()->setMinimumSectionSize(40);
    connect(m_recipients, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item)
            selectRecord(m_recipients->indexOfTopLevelItem(item));
    });
    m_recipientsBox = new QGroupBox(tr("Bounced recipients"), this);
    auto* recipientsLayout = new QVBoxLayout(m_recipientsBox);
    recipientsLayout->addWidget(m_recipients);
    m_recipientsBox->hide();

    m_original = new QLabel(this);
    m_original->setObjectName(u"originalMessage"_s);
    // Shown as plain text: header values come from strangers' mail and are never rendered.
    m_original->setTextFormat(Qt::PlainText);
    m_original->setWordWrap(true);
    m_original->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_originalBox = new QGroupBox(tr("Original message"), this);
    auto* originalLayout = new QVBoxLayout(m_originalBox);
    originalLayout->addWidget(m_original);
    m_originalBox->hide();

    // The DNS checks and the original message's headers sit below the card in a pane of their
    // own that scrolls, behind a splitter: with a whole email they used to push the card's next
    // steps below the fold at 1280x800, and the steps are what the user came for.
    m_checks = new CheckPanel(this);
    auto* lower = new QWidget(this);
    auto* lowerLayout = new QVBoxLayout(lower);
    lowerLayout->setContentsMargins(0, 0, 0, 0);
    lowerLayout->addWidget(m_checks);
    lowerLayout->addWidget(m_originalBox);
    lowerLayout->addStretch(1);
    m_lower = new QScrollArea(this);
    m_lower->setObjectName(u"checksAndOriginal"_s);
    m_lower->setWidget(lower);
    m_lower->setWidgetResizable(true);
    m_lower->setFrameShape(QFrame::NoFrame);
    m_lower->hide();

    auto* right = m_rightSplitter = new QSplitter(Qt::Vertical, this);
    right->setObjectName(u"diagnosisSplitter"_s);
    right->addWidget(m_recipientsBox);
    right->addWidget(m_card);
    right->addWidget(m_lower);
    right->setStretchFactor(0, 0);
    right->setStretchFactor(1, 3);
    right->setStretchFactor(2, 1);
    right->setChildrenCollapsible(false);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->addWidget(m_editor);
    m_splitter->addWidget(right);
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

void DiagnoseView::updateLowerPane()
{
    m_lower->setVisible(!m_checks->isHidden() || !m_originalBox->isHidden());
}

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
    m_fileBytes = file.bytes;
    replaceText(file.text);
    m_fileText = m_editor->toPlainText();
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
    m_records.clear();
    m_recipients->clear();
    m_recipientsBox->hide();
    m_originalBox->hide();
    if (text.trimmed().isEmpty()) {
        m_diagnosis = bt::Diagnosis {};
        m_hasDiagnosis = false;
        m_card->clear();
        // Nothing to check either: the panel forgets the previous bounce's domain, IP and family.
        m_checks->setTarget(m_diagnosis, {}, {}, {}, {});
        updateLowerPane();
        m_editor->setExtraSelections({});
        m_revealEvidence = false;
        Q_EMIT diagnosisChanged();
        return;
    }

    m_text = text;
    m_utf8 = text.toUtf8();
    const std::string_view input(m_utf8.constData(), std::size_t(m_utf8.size()));
    std::size_t replyOffset = 0;
    try {
        // The core function the CLI's diagnose uses too: a whole bounce email (headers first) is
        // read as parse and import read it (every recipient, the original), anything else is one
        // reply. So the card here says what the CLI and the workspace say.
        const bool fromFile = !m_fileBytes.isEmpty() && text == m_fileText;
        bt::InputDiagnosis result = m_reader.diagnoseInput(
            fromFile ? std::string_view(m_fileBytes.constData(), std::size_t(m_fileBytes.size())) : input);
        // No records: the reply diagnosis is taken from the editor's text, where the highlights
        // point; records only ever come from the bytes parse and import read.
        if (fromFile && result.outcome.records.empty()) {
            result = m_reader.diagnoseInput(input);
            result.outcome.records.clear();
        }
        m_records = std::move(result.outcome.records);
        if (!m_records.empty()) {
            showRecords();
            return;
        }
        m_diagnosis = std::move(result.diagnosis);
        replyOffset = result.replyOffset;
    } catch (const std::exception& error) {
        // The core is not expected to throw on any input; if it does, say so on the card
        // rather than leaving the previous verdict standing as if it applied.
        m_diagnosis = bt::Diagnosis {};
        m_diagnosis.explanation = std::string("The classifier failed on this text: ") + error.what();
        Q_EMIT failed(tr("The classifier failed on this text: %1").arg(QString::fromUtf8(error.what())));
    }
    showDiagnosis(replyOffset);
}

void DiagnoseView::showDiagnosis(std::size_t replyOffset)
{
    m_hasDiagnosis = true;
    m_card->setDiagnosis(m_diagnosis);
    // The checks an auth or reputation bounce calls for, pre-filled from what the bounce says:
    // the original message's From (or the envelope sender) and an IP the reply names.
    QString domain, sender, selector;
    if (!m_records.empty()) {
        const auto& r = m_records.front();
        domain = QString::fromStdString(r.original.fromDomain);
        sender = QString::fromStdString(r.envelopeSender);
        selector = QString::fromStdString(r.original.dkimSelector);
        if (domain.isEmpty() && sender.contains(u'@'))
            domain = sender.section(u'@', -1);
    }
    // A pasted reply alone still names the refused domain often enough ("SPF [example.com]",
    // "Unauthenticated email from example.com is not accepted").
    if (domain.isEmpty())
        domain = QString::fromStdString(bt::senderDomainNamed(m_diagnosis.replyText));
    m_checks->setTarget(m_diagnosis, domain, CheckPanel::firstIpv4(QString::fromStdString(m_diagnosis.replyText)),
                        sender, selector);
    updateLowerPane();
    highlightEvidence(m_text, m_utf8, replyOffset);
    Q_EMIT diagnosisChanged();
}

void DiagnoseView::showRecords()
{
    const QSignalBlocker blocker(m_recipients);
    for (const bt::BounceRecord& r : m_records) {
        const QString address = QString::fromStdString(r.recipient.empty() ? std::string("(no address)") : r.recipient);
        auto* item = new QTreeWidgetItem(
            m_recipients,
            {address, QString::fromStdString(r.enhancedCode), r.basicCode ? QString::number(*r.basicCode) : QString(),
             QString::fromStdString(r.diagnosis.reason), QString::fromStdString(r.diagnosis.family)});
        // A forward's failure names the address it forwarded to; the sender mailed the alias. The
        // narrow column keeps the failed address, the tooltip and the original's box say both.
        if (!r.originalRecipient.empty())
            item->setToolTip(0,
                             btui::plainToolTip(tr("%1, forwarded from %2 (the address the sender mailed)")
                                                    .arg(address, QString::fromStdString(r.originalRecipient))));
    }
    // As tall as its rows (a single recipient needs one line), scrolling beyond five.
    const int rows = std::min<int>(int(m_records.size()), 5);
    const int rowHeight = std::max(m_recipients->sizeHintForRow(0), fontMetrics().height() + 4);
    m_recipients->setFixedHeight(m_recipients->header()->sizeHint().height() + rows * rowHeight
                                 + 2 * m_recipients->frameWidth() + 2);
    m_recipientsBox->setTitle(tr("Bounced recipients (%1)").arg(m_records.size()));
    m_recipientsBox->setVisible(true);
    const QString original = originalText();
    m_original->setText(original);
    m_originalBox->setVisible(!original.isEmpty());
    updateLowerPane();
    m_recipients->setCurrentItem(m_recipients->topLevelItem(0));
    selectRecord(0);
}

void DiagnoseView::selectRecord(int index)
{
    if (index < 0 || std::size_t(index) >= m_records.size())
        return;
    const bt::BounceRecord& r = m_records[std::size_t(index)];
    m_diagnosis = r.diagnosis;
    if (m_recipients->indexOfTopLevelItem(m_recipients->currentItem()) != index) {
        const QSignalBlocker blocker(m_recipients);
        m_recipients->setCurrentItem(m_recipients->topLevelItem(index));
    }
    // The evidence spans point into the reply text; find where that reply stands in the email.
    std::size_t offset = 0;
    if (!r.replyText.empty()) {
        const QByteArray head
            = QByteArray::fromStdString(r.replyText.substr(0, std::min<std::size_t>(24, r.replyText.size())));
        const qsizetype at = m_utf8.indexOf(head);
        offset = at < 0 ? 0 : std::size_t(at);
    }
    showDiagnosis(offset);
}

QString DiagnoseView::originalText() const
{
    if (m_records.empty())
        return {};
    const bt::OriginalMessage& o = m_records.front().original;
    QStringList lines;
    auto add = [&](const QString& label, const std::string& value) {
        if (!value.empty())
            lines.append(label + u": "_s + QString::fromStdString(value));
    };
    add(tr("From"), o.from);
    add(tr("Return-Path"), o.returnPath);
    add(tr("Envelope sender"),
        m_records.front().envelopeSender != o.returnPath ? m_records.front().envelopeSender : std::string());
    for (const bt::BounceRecord& r : m_records)
        if (!r.originalRecipient.empty())
            add(tr("Forwarded from"), r.originalRecipient + " \u2192 " + r.recipient);
    add(tr("Subject"), o.subject);
    add(tr("Message-ID"), o.messageId);
    add(tr("Date"), o.date);
    if (!o.dkimDomain.empty())
        add(tr("DKIM"), "d=" + o.dkimDomain + (o.dkimSelector.empty() ? std::string() : "; s=" + o.dkimSelector));
    add(tr("Authentication-Results"), o.authenticationResults);
    add(tr("List-Id"), o.listId);
    add(tr("Feedback-ID"), o.feedbackId);
    add(tr("Campaign"), o.campaign);
    // Offline alignment (organisational domains by the public suffix list): aligned, not
    // aligned or unknown, each with its reason.
    const bt::Alignment a = bt::checkAlignment(o);
    // QString, not auto: with QStringBuilder a deduced type would refer to dead temporaries.
    const auto verdict = [](const bt::AlignmentVerdict& v) -> QString {
        return QString::fromStdString(v.state)
            + (v.reason.empty() ? QString() : u" \u2014 "_s + QString::fromStdString(v.reason));
    };
    if (!a.fromDomain.empty() || !a.returnPathDomain.empty() || !a.dkimDomain.empty()) {
        lines.append(tr("SPF alignment: %1").arg(verdict(a.spf)));
        lines.append(tr("DKIM alignment: %1").arg(verdict(a.dkim)));
        lines.append(tr("DMARC alignment: %1").arg(verdict(a.dmarc)));
    }
    return lines.join(u'\n');
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
    const auto select = [&](const QList<btui::TextSpan>& those, const QTextCharFormat& as) {
        for (const btui::TextSpan& span : those) {
            QTextEdit::ExtraSelection selection;
            selection.cursor = QTextCursor(m_editor->document());
            selection.cursor.setPosition(int(span.start));
            selection.cursor.setPosition(int(span.start + span.length), QTextCursor::KeepAnchor);
            selection.format = as;
            selections.append(selection);
        }
    };
    select(spans, format);
    // The words of a rival reading (bt::Diagnosis::alternative), marked apart from the verdict's.
    select(btui::locateAlternative(text, utf8, replyOffset, m_diagnosis), btui::alternativeFormat(m_diagnosis));
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
    // Both splitters, behind a marker byte that a QSplitter state (it starts with a zero byte)
    // never has, so a state saved by an older version still restores the horizontal one.
    QByteArray state;
    QDataStream out(&state, QIODevice::WriteOnly);
    out << quint8(kStateVersion) << m_splitter->saveState() << m_rightSplitter->saveState();
    return state;
}

void DiagnoseView::restoreState(const QByteArray& state)
{
    if (state.isEmpty() || quint8(state.front()) != kStateVersion) {
        m_splitter->restoreState(state);
        return;
    }
    QDataStream in(state);
    quint8 version = 0;
    QByteArray horizontal, vertical;
    in >> version >> horizontal >> vertical;
    m_splitter->restoreState(horizontal);
    m_rightSplitter->restoreState(vertical);
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
