// SPDX-License-Identifier: MIT
#include "detailspane.h"

#include "classifier.h"
#include "dmarcmatch.h"
#include "importer.h"
#include "models/workspacesession.h"
#include "replyparser.h"
#include "utils/evidencespans.h"
#include "utils/familycolors.h"
#include "utils/plaintext.h"
#include "widgets/checkpanel.h"
#include "widgets/diagnosiscard.h"

#include <QFontDatabase>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTextBlock>
#include <QTreeWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

constexpr int kSiblingLimit = 100;

struct DetailResult {
    quint64 generation = 0;
    std::optional<bt::EventDetail> detail;
    std::vector<bt::EventRow> siblings;
    qint64 siblingCount = 0;
};

/// The stored evidence (a JSON array of {start, end, rule}, byte offsets into the reply) as a
/// person reads it: each quoted span with the rule that found it. Empty when no words decided (a
/// code, the source's own reason); the stored text as it is if it is not such an array.
QString evidenceText(const std::string& json, const std::string& reply, std::optional<int> basicCode)
{
    const auto doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    if (!doc.isArray())
        return qs(json);
    QStringList parts;
    for (const auto& v : doc.array()) {
        const auto o = v.toObject();
        const auto start = o.value(u"start"_s).toInteger(-1), end = o.value(u"end"_s).toInteger(-1);
        const auto rule = o.value(u"rule"_s).toString();
        const bool inReply = start >= 0 && end > start && static_cast<std::size_t>(end) <= reply.size();
        // Without a multi-line reply's line codes between the words (bt::readableWords).
        const auto words = inReply
            ? QString::fromStdString(bt::readableWords(reply, basicCode, std::size_t(start), std::size_t(end)))
            : QString();
        if (words.isEmpty())
            parts << rule;
        else
            parts << u"\u201C%1\u201D (%2)"_s.arg(words, rule);
    }
    return parts.join(u"; "_s);
}

QPlainTextEdit* readOnlyText(QWidget* parent, const QString& name)
{
    auto* e = new QPlainTextEdit(parent);
    e->setObjectName(name);
    e->setReadOnly(true);
    e->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    e->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    return e;
}

} // namespace

DetailsPane::DetailsPane(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent)
    : QWidget(parent)
    , m_classifier(std::move(classifier))
{
    setObjectName(u"detailsPane"_s);
    m_headline = new QLabel(tr("Select an event to see its full reply and diagnosis."), this);
    m_headline->setObjectName(u"detailsHeadline"_s);
    m_headline->setWordWrap(true);
    m_headline->setTextFormat(Qt::PlainText);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(u"detailsTabs"_s);
    m_tabs->setDocumentMode(true);

    auto* replySplit = new QSplitter(Qt::Vertical, m_tabs);
    m_reply = readOnlyText(replySplit, u"detailsReply"_s);
    m_card = new DiagnosisCard(replySplit);
    m_card->setKnowledge(&m_classifier->knowledge());
    replySplit->addWidget(m_reply);
    replySplit->addWidget(m_card);
    replySplit->setStretchFactor(0, 1);
    replySplit->setStretchFactor(1, 2);
    m_tabs->addTab(replySplit, tr("Reply"));

    m_fields = new QTreeWidget(m_tabs);
    m_fields->setObjectName(u"detailsFields"_s);
    m_fields->setColumnCount(2);
    m_fields->setHeaderLabels({tr("Field"), tr("Value")});
    m_fields->setRootIsDecorated(false);
    m_fields->setAlternatingRowColors(true);
    m_fields->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_tabs->addTab(m_fields, tr("Fields"));

    m_raw = readOnlyText(m_tabs, u"detailsRaw"_s);
    m_raw->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_tabs->addTab(m_raw, tr("Raw"));

    m_checks = new CheckPanel(m_tabs);
    m_checksTab = m_tabs->addTab(m_checks, tr("Checks"));

    m_dmarc = readOnlyText(m_tabs, u"detailsDmarc"_s);
    m_dmarc->setFont(font()); // sentences, not a transcript
    m_dmarcTab = m_tabs->addTab(m_dmarc, tr("DMARC"));

    auto* same = new QWidget(m_tabs);
    m_siblingsNote = new QLabel(same);
    m_siblingsNote->setWordWrap(true);
    m_siblingsNote->setTextFormat(Qt::PlainText);
    m_siblings = new QListWidget(same);
    m_siblings->setObjectName(u"detailsSiblings"_s);
    auto* showAll = new QPushButton(tr("Show All in the &Table"), same);
    auto* sameLayout = new QVBoxLayout(same);
    sameLayout->setContentsMargins(0, 4, 0, 0);
    sameLayout->addWidget(m_siblingsNote);
    sameLayout->addWidget(m_siblings, 1);
    sameLayout->addWidget(showAll, 0, Qt::AlignRight);
    m_tabs->addTab(same, tr("Template"));

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_headline);
    layout->addWidget(m_tabs, 1);

    connect(m_siblings, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        if (const qint64 id = item->data(Qt::UserRole).toLongLong())
            Q_EMIT eventRequested(id);
    });
    connect(showAll, &QPushButton::clicked, this, [this] {
        if (m_templateId)
            Q_EMIT templateRequested(m_templateId);
    });
    clearAll();
}

QStringList DetailsPane::tabNames()
{
    return {u"reply"_s, u"fields"_s, u"raw"_s, u"checks"_s, u"dmarc"_s, u"template"_s};
}

bool DetailsPane::showTab(const QString& name)
{
    const auto at = tabNames().indexOf(name.toLower());
    if (at < 0 || at >= m_tabs->count())
        return false;
    m_tabs->setCurrentIndex(static_cast<int>(at));
    return true;
}

void DetailsPane::setSession(WorkspaceSession* session)
{
    m_session = session;
    // Answers of the checks are cached in the workspace (their time of check with them).
    m_checks->setWorkspacePath(session ? session->path() : QString());
    loadEvent(0);
}

QString DetailsPane::replyText() const
{
    return m_reply->toPlainText();
}

void DetailsPane::clearAll()
{
    m_eventId = 0;
    m_templateId = 0;
    m_headline->setText(tr("Select an event to see its full reply and diagnosis."));
    m_reply->clear();
    m_card->clear();
    m_fields->clear();
    m_raw->clear();
    m_dmarc->clear();
    m_siblings->clear();
    m_siblingsNote->clear();
    m_tabs->setEnabled(false);
}

void DetailsPane::loadEvent(qint64 eventId)
{
    ++m_generation;
    if (!eventId || !m_session) {
        clearAll();
        return;
    }
    const auto gen = m_generation;
    m_session->run<DetailResult>(
        WorkspaceSession::Lane::Details, this,
        [gen, eventId](bt::Workspace& ws) {
            DetailResult r;
            r.generation = gen;
            r.detail = bt::eventDetail(ws, eventId);
            if (r.detail && r.detail->templateId) {
                bt::EventFilter same;
                same.templateId = r.detail->templateId;
                r.siblingCount = bt::countEvents(ws, same);
                r.siblings = bt::eventPage(ws, same, bt::EventColumn::Time, true, 0, kSiblingLimit);
            }
            return r;
        },
        [this](DetailResult r) {
            if (r.generation != m_generation)
                return;
            if (!r.detail) {
                clearAll();
                return;
            }
            display(*r.detail, r.siblings, r.siblingCount);
        });
}

void DetailsPane::display(const bt::EventDetail& d, const std::vector<bt::EventRow>& siblings, qint64 siblingCount)
{
    m_tabs->setEnabled(true);
    m_eventId = d.row.id;
    m_templateId = d.templateId;
    const auto& r = d.row;
    m_headline->setText(tr("%1 to %2 at %3").arg(qs(r.eventType), qs(r.recipient), qs(r.timestamp)));

    // The reply, and a fresh diagnosis of it for the card (explanation and steps are not
    // stored); the stored verdict wins where the import knew more (a context hint, an ESP's
    // own bounce type), as the table shows it.
    const QString text = qs(r.reply);
    m_reply->setPlainText(text);
    m_reply->setPlaceholderText({});
    m_reply->setExtraSelections({});
    if (!r.reply.empty() && r.eventType != "delivered") {
        bt::Reply reply = bt::parseReply(r.reply);
        // As at import: the reply of a bounce email is read by bounce emails' conventions.
        reply.fromBounceEmail = d.importFormat == bt::format::email;
        bt::Diagnosis diagnosis = m_classifier->diagnose(reply);
        if (!r.reason.empty() && r.reason != diagnosis.reason)
            m_classifier->applyReason(diagnosis, r.reason);
        m_card->setDiagnosis(diagnosis);
        const QByteArray utf8 = text.toUtf8();
        const auto spans = btui::locateEvidence(text, utf8, reply.sourceOffset, diagnosis);
        QTextCharFormat format;
        format.setBackground(btui::familyTint(qs(diagnosis.family)));
        format.setForeground(Qt::black);
        QList<QTextEdit::ExtraSelection> selections;
        const auto select = [&](const QList<btui::TextSpan>& those, const QTextCharFormat& as) {
            for (const auto& span : those) {
                QTextEdit::ExtraSelection s;
                s.cursor = QTextCursor(m_reply->document());
                s.cursor.setPosition(static_cast<int>(span.start));
                s.cursor.setPosition(static_cast<int>(span.start + span.length), QTextCursor::KeepAnchor);
                s.format = as;
                selections.append(s);
            }
        };
        select(spans, format);
        // A rival reading's words (the card's "Also possible" row), marked as the Diagnose view does.
        select(btui::locateAlternative(text, utf8, reply.sourceOffset, diagnosis), btui::alternativeFormat(diagnosis));
        m_reply->setExtraSelections(selections);
        m_card->show();
        QString domain = qs(d.fromDomain);
        if (domain.isEmpty() && d.envelopeSender.find('@') != std::string::npos)
            domain = qs(d.envelopeSender.substr(d.envelopeSender.rfind('@') + 1));
        const QString ip = r.ip.empty() ? CheckPanel::firstIpv4(text) : qs(r.ip);
        m_checks->setTarget(diagnosis, domain, ip, qs(d.envelopeSender), QString());
        m_tabs->setTabEnabled(m_checksTab, m_checks->isOffered());
        m_checks->setVisible(true);
    } else if (r.eventType != "delivered" && !r.reason.empty()) {
        // A bounce that gave no SMTP reply (an MTA's own notice without one, a DSN without a
        // Diagnostic-Code): its verdict came from the bounce's status and wording at import. The
        // card still says what that verdict means and what to do, without evidence to point at.
        m_reply->setPlaceholderText(tr("This bounce gave no SMTP reply: its verdict (%1 / %2) comes from the "
                                       "bounce's status and wording. The Raw tab shows the source.")
                                        .arg(qs(r.family), qs(r.reason)));
        // The stored codes, so the card's codes and permanence are the event's; what decided is the
        // bounce's status as the import read it (no words of a reply to point at).
        bt::Reply codes;
        codes.basicCode = r.basicCode;
        codes.enhancedCode = r.enhancedCode;
        bt::Diagnosis diagnosis = m_classifier->diagnose(std::move(codes));
        m_classifier->applyReason(diagnosis, r.reason);
        diagnosis.confidence = r.enhancedCode.empty() && !r.basicCode ? "none" : "code";
        m_card->setDiagnosis(diagnosis);
        m_card->show();
        m_tabs->setTabEnabled(m_checksTab, false);
    } else {
        // A delivery has nothing to diagnose; the Diagnose view's "paste a reply" hint would mislead.
        m_card->clear();
        m_card->hide();
        m_tabs->setTabEnabled(m_checksTab, false);
    }

    m_fields->clear();
    const auto add = [this](const QString& field, const QString& value) {
        auto* item = new QTreeWidgetItem(m_fields, {field, value});
        item->setToolTip(1, btui::plainToolTip(value));
    };
    add(tr("Event id"), QString::number(r.id));
    add(tr("Event type"), qs(r.eventType));
    add(tr("Time (UTC)"), qs(r.timestamp));
    add(tr("Recipient"), qs(r.recipient));
    // A forward's failure: the recipient is where it forwarded to, the sender mailed this one.
    if (!d.originalRecipient.empty())
        add(tr("Forwarded from"), qs(d.originalRecipient));
    add(tr("Recipient domain"), qs(r.domain));
    add(tr("Provider"), qs(r.provider));
    add(tr("Basic code"), r.basicCode ? QString::number(*r.basicCode) : QString());
    add(tr("Enhanced code"), qs(r.enhancedCode));
    add(tr("Reason"), qs(r.reason));
    add(tr("Family"), qs(r.family));
    add(tr("Spam-related"), qs(r.spamRelated));
    add(tr("Action"), qs(r.action));
    add(tr("Hard bounce"), d.hardBounce ? tr("yes") : tr("no"));
    add(tr("Rules"), qs(d.ruleIds));
    add(tr("Evidence"), evidenceText(d.evidenceJson, r.reply, r.basicCode));
    add(tr("Sending IP"), qs(r.ip));
    add(tr("Envelope sender"), qs(d.envelopeSender));
    add(tr("From domain"), qs(d.fromDomain));
    add(tr("Campaign"), qs(r.campaign));
    add(tr("Message-ID"), qs(d.messageId));
    add(tr("Remote MTA"), qs(d.remoteMta));
    add(tr("SMTP stage"), qs(d.smtpStage));
    add(tr("Source"), qs(d.source));
    add(tr("Reason given by the source"), qs(d.reasonHint));
    add(tr("Filtering gateway"), d.filteringGateway ? tr("yes") : tr("no"));
    add(tr("Reply template"), qs(d.templateText));
    add(tr("Import"), QString::number(d.importId));
    add(tr("File"), qs(d.sourceFile));
    add(tr("Line"), d.sourceLine ? QString::number(d.sourceLine) : QString());
    add(tr("Byte offset"), d.sourceOffset >= 0 ? QString::number(d.sourceOffset) : QString());

    // Plain text only: a raw email may hold HTML and remote images, none of which is rendered.
    m_raw->setPlainText(qs(d.raw));

    // Beside an auth or policy refusal, what the receivers' aggregate reports saw that day.
    const bool dmarcAsked = bt::dmarcRelevant(r.family) && r.eventType != "delivered";
    QStringList dmarcLines;
    for (const auto& m : d.dmarc)
        dmarcLines << qs(bt::describeDmarcMatch(m));
    if (dmarcAsked && dmarcLines.isEmpty())
        dmarcLines << (r.ip.empty() && d.fromDomain.empty()
                           ? tr("This bounce names neither a sending IP nor a From domain to look up in DMARC "
                                "aggregate reports.")
                           : tr("No DMARC aggregate report in this workspace covers %1 on %2. Import the reports "
                                "your rua address receives (File > Import) to see what the receivers saw of your "
                                "SPF, DKIM and alignment that day.")
                                 .arg(r.ip.empty() ? qs(d.fromDomain) : qs(r.ip), qs(r.timestamp.substr(0, 10))));
    else if (!d.dmarc.empty() && !d.dmarc.front().byIp)
        dmarcLines.prepend(tr("The bounce names no sending IP: these are the reports' rows for its From domain "
                              "on its day."));
    m_dmarc->setPlainText(dmarcLines.join(u"\n\n"_s));
    m_tabs->setTabEnabled(m_dmarcTab, dmarcAsked);
    m_tabs->setTabText(m_dmarcTab, d.dmarc.empty() ? tr("DMARC") : tr("DMARC (%1)").arg(d.dmarc.size()));

    m_siblings->clear();
    for (const auto& s : siblings) {
        auto* item = new QListWidgetItem(qs(s.timestamp) + u"  "_s + qs(s.recipient), m_siblings);
        item->setData(Qt::UserRole, QVariant::fromValue<qint64>(s.id));
        if (s.id == r.id) {
            QFont f = item->font();
            f.setBold(true);
            item->setFont(f);
        }
    }
    m_siblingsNote->setText(d.templateId
                                ? tr("%n event(s) share this template:", nullptr, static_cast<int>(siblingCount))
                                    + u"\n"_s + qs(d.templateText)
                                : tr("This event has no reply template."));
    Q_EMIT eventShown(r.id);
}
