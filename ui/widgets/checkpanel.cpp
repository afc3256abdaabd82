// SPDX-License-Identifier: MIT
#include "checkpanel.h"

#include "checks.h"
#include "diagnosis.h"
#include "workspace.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QThread>
#include <QTimeZone>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

constexpr auto kServerKey = "checks/dnsServer";

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

QString sourceLine(const bt::CheckReport& r)
{
    const QString when = QDateTime::fromSecsSinceEpoch(r.startedAt, QTimeZone::utc()).toString(u"yyyy-MM-dd HH:mm"_s);
    return QCoreApplication::translate("CheckPanel", "Asked %1 at %2 UTC: %3 live questions, %4 ms%5")
        .arg(r.server.empty() ? QCoreApplication::translate("CheckPanel", "the system's resolver") : qs(r.server), when)
        .arg(r.liveQueries)
        .arg(r.durationMs)
        .arg(r.liveQueries == 0 ? QCoreApplication::translate("CheckPanel", " (all from the workspace cache)")
                                : QString());
}

} // namespace

CheckPanel::CheckPanel(QWidget* parent)
    : QWidget(parent)
{
    setObjectName(u"checkPanel"_s);
    m_title = new QLabel(this);
    m_title->setObjectName(u"checkTitle"_s);
    m_title->setWordWrap(true);
    m_title->setTextFormat(Qt::PlainText);
    m_domain = new QLineEdit(this);
    m_domain->setObjectName(u"checkDomain"_s);
    m_domain->setPlaceholderText(tr("sending domain"));
    m_ip = new QLineEdit(this);
    m_ip->setObjectName(u"checkIp"_s);
    m_ip->setPlaceholderText(tr("sending IP"));
    m_selector = new QLineEdit(this);
    m_selector->setObjectName(u"checkSelector"_s);
    m_selector->setPlaceholderText(tr("DKIM selector (optional)"));
    m_server = new QLineEdit(this);
    m_server->setObjectName(u"checkServer"_s);
    m_server->setPlaceholderText(tr("the system's resolver"));
    m_server->setText(QSettings().value(QString::fromLatin1(kServerKey)).toString());
    m_check = new QPushButton(tr("Chec&k DNS"), this);
    m_check->setObjectName(u"checkButton"_s);
    m_check->setToolTip(tr("Look up SPF, DMARC, DKIM, MX, PTR and the blocklists now (asks DNS servers)"));
    m_results = new QPlainTextEdit(this);
    m_results->setObjectName(u"checkResults"_s);
    m_results->setReadOnly(true);
    m_results->setPlaceholderText(tr("Nothing is looked up until you press Check DNS."));
    m_results->setMinimumHeight(60);

    // Compact: two rows of fields and the button; the results appear once there are some, so
    // the diagnosis above keeps its room.
    auto* grid = new QGridLayout;
    grid->addWidget(new QLabel(tr("Domain"), this), 0, 0);
    grid->addWidget(m_domain, 0, 1);
    grid->addWidget(new QLabel(tr("IP"), this), 0, 2);
    grid->addWidget(m_ip, 0, 3);
    grid->addWidget(new QLabel(tr("Selector"), this), 1, 0);
    grid->addWidget(m_selector, 1, 1);
    grid->addWidget(new QLabel(tr("DNS server"), this), 1, 2);
    grid->addWidget(m_server, 1, 3);
    grid->addWidget(m_check, 0, 4, 2, 1, Qt::AlignVCenter);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addWidget(m_title);
    layout->addLayout(grid);
    layout->addWidget(m_results, 1);
    m_results->hide();

    connect(m_check, &QPushButton::clicked, this, [this] { m_running ? cancel() : start(); });
    connect(m_server, &QLineEdit::editingFinished, this,
            [this] { QSettings().setValue(QString::fromLatin1(kServerKey), m_server->text().trimmed()); });
    hide();
}

CheckPanel::~CheckPanel()
{
    if (m_cancel)
        m_cancel->store(true);
    // The run thread is parented to this panel; it ends by its cancel flag or deadline.
    const auto threads = findChildren<QThread*>();
    for (QThread* t : threads)
        t->wait();
}

void CheckPanel::setTarget(const bt::Diagnosis& diagnosis, const QString& domain, const QString& ip,
                           const QString& sender, const QString& selector)
{
    m_offered.clear();
    for (const auto& c : bt::checksOffered(diagnosis))
        m_offered.append(qs(c));
    setVisible(!m_offered.isEmpty());
    if (m_running)
        cancel();
    m_domain->setText(domain);
    m_ip->setText(ip);
    m_selector->setText(selector);
    m_sender = sender;
    m_results->clear();
    m_results->hide();
    m_title->setText(tr("DNS checks for this %1 bounce (%2):").arg(qs(diagnosis.family), m_offered.join(u", "_s)));
}

void CheckPanel::setWorkspacePath(const QString& path)
{
    m_workspace = path;
}

void CheckPanel::setDnsServer(const QString& server)
{
    m_server->setText(server);
}

void CheckPanel::setTimeouts(int questionMs, int deadlineMs)
{
    m_questionMs = questionMs;
    m_deadlineMs = deadlineMs;
}

QString CheckPanel::resultText() const
{
    return m_results->toPlainText();
}

void CheckPanel::cancel()
{
    if (m_cancel)
        m_cancel->store(true);
}

void CheckPanel::start()
{
    if (m_running)
        return;
    bt::CheckRequest request;
    request.domain = m_domain->text().trimmed().toStdString();
    request.ip = m_ip->text().trimmed().toStdString();
    request.sender = m_sender.toStdString();
    if (const QString s = m_selector->text().trimmed(); !s.isEmpty())
        request.selectors.push_back(s.toStdString());
    if (request.domain.empty() && request.ip.empty()) {
        m_results->setPlainText(tr("Give a sending domain or a sending IP to check."));
        m_results->show();
        return;
    }
    m_running = true;
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_check->setText(tr("Cancel Chec&k"));
    m_results->setPlainText(tr("Checking\u2026"));
    m_results->show();
    bt::CheckOptions options;
    options.dnsServer = m_server->text().trimmed().toStdString();
    options.timeoutMs = m_questionMs;
    options.deadlineMs = m_deadlineMs;
    const std::string workspace = QFile::encodeName(m_workspace).toStdString();
    auto cancelFlag = m_cancel;
    auto report = std::make_shared<bt::CheckReport>();
    QThread* thread = QThread::create([request, options, workspace, cancelFlag, report]() mutable {
        options.cancel = cancelFlag.get();
        std::unique_ptr<bt::Workspace> ws;
        std::string cacheNote;
        try {
            if (!workspace.empty()) {
                // The cache is a convenience: a workspace that cannot be written (read-only)
                // still gets its checks, live.
                try {
                    ws = std::make_unique<bt::Workspace>(workspace);
                    options.workspace = ws.get();
                } catch (const bt::OpenError& error) {
                    cacheNote = "Answers not cached: " + std::string(error.what());
                }
            }
            *report = bt::runChecks(request, options);
            if (!cacheNote.empty())
                report->findings.push_back(cacheNote);
        } catch (const std::exception& error) {
            report->error = error.what();
        }
    });
    thread->setParent(this);
    connect(thread, &QThread::finished, this, [this, thread, report] {
        thread->deleteLater();
        m_running = false;
        m_check->setText(tr("Chec&k DNS"));
        QStringList lines;
        if (!report->error.empty())
            lines.append(tr("The checks could not run: %1").arg(qs(report->error)));
        for (const auto& f : report->findings)
            lines.append(u"\u2022 "_s + qs(f));
        if (report->cancelled)
            lines.append(tr("Cancelled: what is above was found before."));
        if (report->deadlineReached)
            lines.append(tr("The overall deadline was reached: unanswered questions count as timeout."));
        if (report->error.empty())
            lines.append(sourceLine(*report));
        m_results->setPlainText(lines.join(u'\n'));
        Q_EMIT finished();
    });
    thread->start();
}

QString CheckPanel::firstIpv4(const QString& text)
{
    // Four dot-separated numbers up to 255, not part of a longer run of digits and dots.
    const qsizetype n = text.size();
    for (qsizetype i = 0; i < n; ++i) {
        if (!text.at(i).isDigit() || (i > 0 && (text.at(i - 1).isDigit() || text.at(i - 1) == u'.')))
            continue;
        qsizetype j = i;
        int parts = 0;
        bool ok = true;
        while (j < n && parts < 4) {
            qsizetype k = j;
            while (k < n && text.at(k).isDigit() && k - j < 4)
                ++k;
            if (k == j || k - j > 3 || text.mid(j, k - j).toInt() > 255) {
                ok = false;
                break;
            }
            ++parts;
            j = k;
            if (parts < 4) {
                if (j >= n || text.at(j) != u'.') {
                    ok = false;
                    break;
                }
                ++j;
            }
        }
        if (ok && parts == 4
            && (j >= n || (!text.at(j).isDigit() && !(text.at(j) == u'.' && j + 1 < n && text.at(j + 1).isDigit()))))
            return text.mid(i, j - i);
    }
    return {};
}
