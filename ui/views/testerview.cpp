// SPDX-License-Identifier: MIT
#include "views/testerview.h"

#include "text.h"
#include "utils/plaintext.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

/// A check's status as a word and a colour, the same for light and dark palettes.
QColor statusColor(const std::string& status)
{
    if (status == "pass")
        return QColor(0x26, 0xa2, 0x69);
    if (status == "warn")
        return QColor(0xd9, 0x8c, 0x00);
    if (status == "fail")
        return QColor(0xc0, 0x1c, 0x28);
    if (status == "error")
        return QColor(0x99, 0x41, 0x1e);
    return QColor(0x80, 0x80, 0x80);
}

/// Messages larger than this are not read into the input (a mailbox export dropped by mistake).
constexpr qint64 kMaxMessageBytes = 32 * 1024 * 1024;

} // namespace

TesterView::TesterView(std::shared_ptr<const bt::KnowledgeBase> knowledge, QWidget* parent)
    : QWidget(parent)
    , m_knowledge(std::move(knowledge))
{
    setObjectName(u"testerView"_s);
    setAcceptDrops(true);
    m_input = new QPlainTextEdit(this);
    m_input->setObjectName(u"testerInput"_s);
    m_input->setPlaceholderText(
        tr("Paste a message you received in a mailbox you control (the whole .eml, its headers, or Gmail's or "
           "Outlook's \u201cShow original\u201d), or drop the file here. Nothing is sent anywhere: only DNS "
           "questions about the sending IP and domains are asked."));
    m_input->setLineWrapMode(QPlainTextEdit::NoWrap);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_input->setFont(mono);

    m_open = new QPushButton(tr("&Open message\u2026"), this);
    m_run = new QPushButton(tr("&Test"), this);
    m_run->setDefault(true);
    m_offline = new QCheckBox(tr("O&ffline (no DNS)"), this);
    m_server = new QLineEdit(this);
    m_server->setPlaceholderText(tr("DNS server (system's)"));
    m_server->setMaximumWidth(200);
    m_copy = new QPushButton(tr("&Copy JSON"), this);
    m_save = new QPushButton(tr("&Save report\u2026"), this);
    connect(m_open, &QPushButton::clicked, this, &TesterView::openFile);
    connect(m_run, &QPushButton::clicked, this, &TesterView::runTest);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        if (m_hasReport)
            QApplication::clipboard()->setText(QString::fromStdString(bt::toJson(m_report)));
    });
    connect(m_save, &QPushButton::clicked, this, &TesterView::saveReport);

    m_summary = new QLabel(this);
    m_summary->setObjectName(u"testerSummary"_s);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);

    m_checks = new QTableWidget(0, 4, this);
    m_checks->setObjectName(u"testerChecks"_s);
    m_checks->setHorizontalHeaderLabels({tr("Status"), tr("Check"), tr("What it found"), tr("Evidence")});
    m_checks->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_checks->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_checks->verticalHeader()->setVisible(false);
    m_checks->setWordWrap(true);
    m_checks->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_checks->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_checks->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_checks->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Interactive);
    m_checks->horizontalHeader()->resizeSection(3, 320);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_open);
    buttons->addWidget(m_run);
    buttons->addWidget(m_offline);
    buttons->addWidget(m_server);
    buttons->addStretch(1);
    buttons->addWidget(m_copy);
    buttons->addWidget(m_save);
    auto* top = new QWidget(this);
    auto* tl = new QVBoxLayout(top);
    tl->setContentsMargins(0, 0, 0, 0);
    tl->addLayout(buttons);
    tl->addWidget(m_input);
    auto* bottom = new QWidget(this);
    auto* bl = new QVBoxLayout(bottom);
    bl->setContentsMargins(0, 0, 0, 0);
    bl->addWidget(m_summary);
    bl->addWidget(m_checks, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(bottom);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);
    m_copy->setEnabled(false);
    m_save->setEnabled(false);
}

void TesterView::setMessage(const QString& text)
{
    m_input->setPlainText(text);
}

void TesterView::setOffline(bool offline)
{
    m_offline->setChecked(offline);
}

void TesterView::setDnsServer(const QString& server)
{
    m_server->setText(server);
}

bool TesterView::loadFile(const QString& path)
{
    QFile f(path);
    if (f.size() > kMaxMessageBytes) {
        Q_EMIT statusMessage(tr("%1 is larger than a message (%2 MB); not loaded").arg(path).arg(f.size() >> 20));
        return false;
    }
    if (!f.open(QIODevice::ReadOnly)) {
        Q_EMIT statusMessage(tr("Cannot read %1: %2").arg(path, f.errorString()));
        return false;
    }
    // Latin-1 keeps every byte as it is (headers are ASCII; a body in another charset is not
    // what the checks read, and DKIM's body hash is computed over the bytes, which round-trip).
    m_input->setPlainText(QString::fromLatin1(f.readAll()));
    return true;
}

void TesterView::openFile()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Message to test"), {},
                                                      tr("Messages (*.eml *.msg *.txt);;All files (*)"));
    if (!path.isEmpty() && loadFile(path))
        runTest();
}

void TesterView::runTest()
{
    if (m_running)
        return;
    const QString text = m_input->toPlainText();
    if (text.trimmed().isEmpty()) {
        Q_EMIT statusMessage(tr("Paste or drop a message first"));
        return;
    }
    m_running = true;
    m_run->setEnabled(false);
    m_summary->setText(m_offline->isChecked() ? tr("Testing (offline)\u2026")
                                              : tr("Testing: asking DNS about the sender\u2026"));
    // Back to the bytes it was read as (see loadFile); CRLF or LF both read.
    const std::string message = text.toLatin1().toStdString();
    bt::TesterOptions o;
    o.offline = m_offline->isChecked();
    o.dnsServer = m_server->text().trimmed().toStdString();
    o.knowledge = m_knowledge;
    QPointer<TesterView> self(this);
    QThread* thread = QThread::create([self, message, o] {
        bt::TesterReport report;
        QString error;
        try {
            report = bt::testMessage(message, o);
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        QMetaObject::invokeMethod(
            qApp,
            [self, report, error] {
                if (self)
                    self->showReport(report, error);
            },
            Qt::QueuedConnection);
    });
    thread->setObjectName(u"testerThread"_s);
    connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

void TesterView::showReport(const bt::TesterReport& report, const QString& error)
{
    m_running = false;
    m_run->setEnabled(true);
    if (!error.isEmpty()) {
        m_hasReport = false;
        m_checks->setRowCount(0);
        m_summary->setText(tr("Not tested: %1").arg(error));
        m_copy->setEnabled(false);
        m_save->setEnabled(false);
        Q_EMIT testFinished();
        return;
    }
    m_report = report;
    m_hasReport = true;
    int pass = 0, warn = 0, fail = 0;
    m_checks->setRowCount(static_cast<int>(report.checks.size()));
    for (int r = 0; r < static_cast<int>(report.checks.size()); ++r) {
        const auto& c = report.checks[static_cast<std::size_t>(r)];
        pass += c.status == "pass";
        warn += c.status == "warn";
        fail += c.status == "fail";
        auto* status = new QTableWidgetItem(QString::fromStdString(c.status));
        status->setForeground(statusColor(c.status));
        QFont bold = m_checks->font();
        bold.setBold(true);
        status->setFont(bold);
        m_checks->setItem(r, 0, status);
        std::string name = c.id;
        if (c.id == "dkim" && !c.domain.empty())
            name += " (d=" + c.domain + (c.selector.empty() ? "" : ", s=" + c.selector) + ")";
        m_checks->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(name)));
        m_checks->setItem(r, 2, new QTableWidgetItem(QString::fromStdString(c.detail)));
        // A few lines at most in the row; the whole of it in the tooltip.
        QString shown = QString::fromStdString(bt::text::collapseSpace(c.evidence));
        if (shown.size() > 200)
            shown = shown.left(199) + u'\u2026';
        auto* evidence = new QTableWidgetItem(shown);
        // A header can hold anything: its tooltip is escaped so it shows as written.
        if (!c.evidence.empty())
            evidence->setToolTip(btui::plainToolTip(QString::fromStdString(c.evidence)));
        m_checks->setItem(r, 3, evidence);
    }
    m_checks->resizeRowsToContents();
    QString summary = tr("%1 pass, %2 warn, %3 fail").arg(pass).arg(warn).arg(fail);
    summary += report.ip.empty() ? tr(" \u2014 connecting IP not found in the Received chain")
                                 : tr(" \u2014 sent from %1").arg(QString::fromStdString(report.ip));
    if (!report.fromDomain.empty())
        summary += tr(", From domain %1").arg(QString::fromStdString(report.fromDomain));
    if (!report.receiver.empty())
        summary += tr(", received by %1").arg(QString::fromStdString(report.receiver));
    summary += report.dnsServer.empty() ? tr("; offline, no DNS asked")
                                        : tr("; DNS asked of %1 at %2")
                                              .arg(QString::fromStdString(report.dnsServer),
                                                   QString::fromStdString(bt::text::isoUtc(report.checkedAt)));
    if (!report.dnsError.empty())
        summary += tr(" (DNS: %1)").arg(QString::fromStdString(report.dnsError));
    m_summary->setText(summary);
    m_copy->setEnabled(true);
    m_save->setEnabled(true);
    Q_EMIT testFinished();
}

void TesterView::saveReport()
{
    if (!m_hasReport)
        return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the test report"), u"message-test.json"_s,
                                                      tr("JSON (*.json);;Text (*.txt)"));
    if (path.isEmpty())
        return;
    const bool text = path.endsWith(u".txt"_s, Qt::CaseInsensitive);
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) {
        Q_EMIT statusMessage(tr("Cannot write %1: %2").arg(path, f.errorString()));
        return;
    }
    const std::string bytes = text ? bt::toText(m_report) : bt::toJson(m_report) + "\n";
    f.write(bytes.data(), static_cast<qint64>(bytes.size()));
    if (!f.commit())
        Q_EMIT statusMessage(tr("Cannot write %1: %2").arg(path, f.errorString()));
    else
        Q_EMIT statusMessage(tr("Saved %1").arg(path));
}

void TesterView::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls() || event->mimeData()->hasText())
        event->acceptProposedAction();
}

void TesterView::dropEvent(QDropEvent* event)
{
    const QMimeData* m = event->mimeData();
    if (m->hasUrls() && !m->urls().isEmpty() && m->urls().first().isLocalFile()) {
        if (loadFile(m->urls().first().toLocalFile()))
            runTest();
    } else if (m->hasText()) {
        setMessage(m->text());
        runTest();
    }
    event->acceptProposedAction();
}
