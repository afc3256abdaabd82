// SPDX-License-Identifier: MIT
#include "views/watchview.h"

#include "utils/fieldwords.h"
#include "utils/passwordstore.h"
#include "utils/plaintext.h"

#include <QFileDialog>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace
{

QTableWidget* makeTable(QWidget* parent, const QString& name, const QStringList& headers)
{
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::ExtendedSelection);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setAlternatingRowColors(true);
    t->verticalHeader()->setVisible(false);
    t->setWordWrap(false);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

/// A cell holding text from data: plain text always (a QTableWidgetItem never reads markup);
/// its tooltip, which Qt would read as rich text when it looks like markup, escaped.
QTableWidgetItem* cell(const QString& t, const QVariant& data = {})
{
    auto* item = new QTableWidgetItem(t);
    if (t.size() > 40)
        item->setToolTip(btui::plainToolTip(t));
    if (data.isValid())
        item->setData(Qt::UserRole, data);
    return item;
}

QTableWidgetItem* cell(const std::string& text, const QVariant& data = {})
{
    return cell(QString::fromStdString(text), data);
}

/// A stored time, or "never" when there is none.
QTableWidgetItem* timeCell(const std::string& iso, const QVariant& data = {})
{
    return cell(iso.empty() ? WatchView::tr("never") : btui::utcTimeText(QString::fromStdString(iso)), data);
}

QGroupBox* box(const QString& title, QWidget* parent)
{
    auto* b = new QGroupBox(title, parent);
    b->setFlat(true);
    return b;
}

} // namespace

WatchView::WatchView(QWidget* parent)
    : QWidget(parent)
{
    setObjectName(u"watchView"_s);
    m_summary = new QLabel(this);
    m_summary->setObjectName(u"watchSummary"_s);
    m_summary->setTextFormat(Qt::PlainText);
    m_summary->setWordWrap(true);

    // Sources.
    m_sources = makeTable(
        this, u"watchSources"_s,
        {tr("Source"), tr("Status"), tr("Last read (UTC)"), tr("Last checked (UTC)"), tr("Items"), tr("Events")});
    m_sources->setSelectionMode(QAbstractItemView::SingleSelection);
    // An error can be a long sentence: the status column keeps a width and elides it (the
    // whole sentence is its tooltip); the source's address takes what is left.
    m_sources->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_sources->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Interactive);
    m_sources->horizontalHeader()->resizeSection(1, 260);
    m_sources->horizontalHeader()->setStretchLastSection(false);
    m_sources->setTextElideMode(Qt::ElideRight);
    m_add = new QPushButton(tr("&Add source"), this);
    auto* addMenu = new QMenu(m_add);
    addMenu->addAction(tr("Maildir\u2026"), this, &WatchView::addMaildir);
    addMenu->addAction(tr("Folder of bounce e-mails, exports or logs\u2026"), this, &WatchView::addFolder);
    addMenu->addAction(tr("Postfix or Exim log (followed)\u2026"), this, &WatchView::addLog);
    addMenu->addAction(tr("IMAP mailbox\u2026"), this, &WatchView::addImap);
    m_add->setMenu(addMenu);
    m_pause = new QPushButton(tr("&Pause"), this);
    m_remove = new QPushButton(tr("Re&move"), this);
    m_passwords = new PasswordStore(this);
    m_password = new QPushButton(tr("Pass&word\u2026"), this);
    m_password->setToolTip(tr("The IMAP mailbox's password, kept in the desktop's keyring"));
    connect(m_password, &QPushButton::clicked, this, &WatchView::askPassword);
    m_readNow = new QPushButton(tr("&Read now"), this);
    m_readNow->setToolTip(tr("Read what is new in every source and check the blocklists that are due"));
    connect(m_pause, &QPushButton::clicked, this, &WatchView::pauseSelected);
    connect(m_remove, &QPushButton::clicked, this, &WatchView::removeSelected);
    connect(m_readNow, &QPushButton::clicked, this, [this] {
        if (m_service)
            m_service->lookNow();
    });
    connect(m_sources, &QTableWidget::itemSelectionChanged, this, &WatchView::updateButtons);
    auto* sourcesBox = box(tr("Watched sources"), this);
    auto* sourceButtons = new QHBoxLayout;
    for (QPushButton* b : {m_add, m_pause, m_remove, m_password, m_readNow})
        sourceButtons->addWidget(b);
    sourceButtons->addStretch(1);
    auto* sl = new QVBoxLayout(sourcesBox);
    sl->addLayout(sourceButtons);
    sl->addWidget(m_sources);

    // Alerts.
    m_alerts = makeTable(this, u"watchAlerts"_s, {tr("Raised (UTC)"), tr("Severity"), tr("Alert"), tr("Detail")});
    m_ack = new QPushButton(tr("A&cknowledge"), this);
    m_ackAll = new QPushButton(tr("Acknowledge a&ll"), this);
    connect(m_ack, &QPushButton::clicked, this, [this] { acknowledgeSelected(false); });
    connect(m_ackAll, &QPushButton::clicked, this, [this] { acknowledgeSelected(true); });
    connect(m_alerts, &QTableWidget::itemSelectionChanged, this, &WatchView::updateButtons);
    auto* alertsBox = box(tr("Alerts"), this);
    auto* alertButtons = new QHBoxLayout;
    alertButtons->addWidget(m_ack);
    alertButtons->addWidget(m_ackAll);
    alertButtons->addStretch(1);
    auto* al = new QVBoxLayout(alertsBox);
    al->addLayout(alertButtons);
    al->addWidget(m_alerts);

    // Blocklist monitoring.
    m_monitored = makeTable(this, u"watchMonitored"_s,
                            {tr("IP or domain"), tr("Listed on"), tr("Kind"), tr("From"), tr("Last checked (UTC)")});
    m_history = makeTable(this, u"watchListings"_s,
                          {tr("When (UTC)"), tr("IP or domain"), tr("Change"), tr("List"), tr("Answer")});
    m_addName = new QPushButton(tr("Add &IP or domain\u2026"), this);
    m_removeName = new QPushButton(tr("Stop monitoring"), this);
    connect(m_addName, &QPushButton::clicked, this, &WatchView::addMonitored);
    connect(m_removeName, &QPushButton::clicked, this, &WatchView::removeMonitored);
    connect(m_monitored, &QTableWidget::itemSelectionChanged, this, &WatchView::updateButtons);
    auto* monitorBox = box(tr("Blocklist monitoring"), this);
    auto* monitorButtons = new QHBoxLayout;
    monitorButtons->addWidget(m_addName);
    monitorButtons->addWidget(m_removeName);
    monitorButtons->addStretch(1);
    auto* monitorSplit = new QSplitter(Qt::Vertical, monitorBox);
    monitorSplit->addWidget(m_monitored);
    monitorSplit->addWidget(m_history);
    auto* ml = new QVBoxLayout(monitorBox);
    ml->addLayout(monitorButtons);
    ml->addWidget(monitorSplit);

    // Sources across the top; below them the alerts, the widest texts, beside the monitoring.
    auto* lower = new QSplitter(Qt::Horizontal, this);
    lower->addWidget(alertsBox);
    lower->addWidget(monitorBox);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 2);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->setObjectName(u"watchSplit"_s);
    split->addWidget(sourcesBox);
    split->addWidget(lower);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(split, 1);
    setService(nullptr);
}

void WatchView::setService(WatchService* service)
{
    m_service = service;
    m_passwordsAsked.clear();
    if (!service) {
        m_snapshot = {};
        show(m_snapshot);
        m_summary->setText(tr("Open a workspace to watch where its bounces arrive."));
    }
    updateButtons();
}

void WatchView::show(const WatchSnapshot& snap)
{
    m_snapshot = snap;
    const std::int64_t selected = selectedSourceId();
    m_sources->setRowCount(static_cast<int>(snap.sources.size()));
    int errors = 0, paused = 0;
    for (int r = 0; r < static_cast<int>(snap.sources.size()); ++r) {
        const auto& s = snap.sources[static_cast<std::size_t>(r)];
        std::string status = s.paused ? "paused"
            : s.lastError.empty()     ? (s.lastChecked.empty() ? "not read yet" : "OK")
                                      : "error: " + s.lastError;
        if (!s.lastError.empty())
            ++errors;
        if (s.paused)
            ++paused;
        m_sources->setItem(r, 0, cell(s.uri, QVariant::fromValue<qlonglong>(s.id)));
        auto* st = cell(status);
        if (!s.lastError.empty())
            st->setForeground(QColor(0xc0, 0x1c, 0x28));
        m_sources->setItem(r, 1, st);
        m_sources->setItem(r, 2, timeCell(s.lastRead));
        m_sources->setItem(r, 3, timeCell(s.lastChecked));
        m_sources->setItem(r, 4, cell(std::to_string(s.items)));
        m_sources->setItem(r, 5, cell(std::to_string(s.events)));
        if (s.id == selected)
            m_sources->selectRow(r);
    }
    int open = 0;
    m_alerts->setRowCount(static_cast<int>(snap.alerts.size()));
    for (int r = 0; r < static_cast<int>(snap.alerts.size()); ++r) {
        const auto& a = snap.alerts[static_cast<std::size_t>(r)];
        m_alerts->setItem(r, 0, timeCell(a.raised, QVariant::fromValue<qlonglong>(a.id)));
        m_alerts->setItem(r, 1, cell(a.acknowledged.empty() ? a.severity : a.severity + " (acknowledged)"));
        m_alerts->setItem(r, 2, cell(a.title));
        m_alerts->setItem(r, 3, cell(a.detail));
        if (a.acknowledged.empty()) {
            ++open;
            QFont f = m_alerts->font();
            f.setBold(true);
            for (int c = 0; c < 3; ++c)
                m_alerts->item(r, c)->setFont(f);
        }
    }
    m_monitored->setRowCount(static_cast<int>(snap.monitored.size()));
    int listed = 0;
    for (int r = 0; r < static_cast<int>(snap.monitored.size()); ++r) {
        const auto& m = snap.monitored[static_cast<std::size_t>(r)];
        std::string on;
        for (const auto& z : m.listedOn)
            on += (on.empty() ? "" : ", ") + z;
        if (!on.empty())
            ++listed;
        m_monitored->setItem(r, 0, cell(m.name));
        auto* l = cell(on.empty() ? "not listed" : on);
        if (!on.empty())
            l->setForeground(QColor(0xc0, 0x1c, 0x28));
        m_monitored->setItem(r, 1, l);
        m_monitored->setItem(r, 2, cell(m.kind));
        m_monitored->setItem(r, 3, cell(m.origin == "hand" ? tr("added by hand") : tr("the events")));
        m_monitored->setItem(r, 4, timeCell(m.lastChecked));
    }
    m_history->setRowCount(static_cast<int>(snap.listings.size()));
    for (int r = 0; r < static_cast<int>(snap.listings.size()); ++r) {
        const auto& e = snap.listings[static_cast<std::size_t>(r)];
        m_history->setItem(r, 0, timeCell(e.at));
        m_history->setItem(r, 1, cell(e.name));
        m_history->setItem(r, 2, cell(e.listed ? tr("listed") : tr("delisted")));
        m_history->setItem(r, 3, cell(e.zone));
        m_history->setItem(r, 4, cell(e.answer));
    }
    loadPasswords();
    if (m_service) {
        QString text = snap.sources.empty()
            ? tr("No watched sources: add the bounce mailbox (IMAP), a maildir or folder where bounces land, or the "
                 "mail server's log, and new bounces arrive here by themselves.")
            : tr("%n source(s)", nullptr, static_cast<int>(snap.sources.size()));
        if (paused)
            text += tr(", %n paused", nullptr, paused);
        if (errors)
            text += tr(", %n with errors", nullptr, errors);
        text += tr("; %n open alert(s)", nullptr, open);
        if (!snap.monitored.empty())
            text += tr("; %n of %1 monitored names listed", nullptr, listed).arg(snap.monitored.size());
        m_summary->setText(text);
    }
    updateButtons();
}

std::int64_t WatchView::selectedSourceId() const
{
    const auto rows = m_sources->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return 0;
    const auto* item = m_sources->item(rows.first().row(), 0);
    return item ? item->data(Qt::UserRole).toLongLong() : 0;
}

void WatchView::updateButtons()
{
    const bool on = m_service != nullptr;
    const std::int64_t id = selectedSourceId();
    bool paused = false;
    for (const auto& s : m_snapshot.sources)
        if (s.id == id)
            paused = s.paused;
    m_add->setEnabled(on);
    m_pause->setEnabled(on && id);
    m_pause->setText(paused ? tr("Res&ume") : tr("&Pause"));
    m_remove->setEnabled(on && id);
    bool imap = false;
    for (const auto& s : m_snapshot.sources)
        if (s.id == id)
            imap = s.kind == "imap";
    m_password->setEnabled(on && imap);
    m_readNow->setEnabled(on);
    m_ack->setEnabled(on && !m_alerts->selectionModel()->selectedRows().isEmpty());
    m_ackAll->setEnabled(on && !m_snapshot.alerts.empty());
    m_addName->setEnabled(on);
    m_removeName->setEnabled(on && !m_monitored->selectionModel()->selectedRows().isEmpty());
}

void WatchView::addSource(const QString& uri, const QString& password)
{
    if (!m_service)
        return;
    const std::string u = uri.toStdString();
    QPointer<WatchView> self(this);
    WatchService* service = m_service;
    m_service->change(
        [u](bt::Workspace& ws) {
            bt::addSource(ws, u);
            bt::takeAlertBaseline(ws, bt::AlertRules::load(ws));
        },
        [self, service, u, password](const QString& error) {
            if (!self)
                return;
            if (!error.isEmpty()) {
                QMessageBox::warning(self, tr("Add source"), error);
                return;
            }
            Q_EMIT self->statusMessage(tr("Watching %1").arg(QString::fromStdString(u)));
            if (password.isEmpty()) {
                service->lookNow();
                return;
            }
            // The URI as stored (canonical) names the keyring entry.
            service->change([u, service, password, self](bt::Workspace& ws) {
                const auto s = bt::findSource(ws, u);
                if (!s)
                    return;
                service->setPassword(s->id, password);
                const QString key = QString::fromStdString(s->uri);
                QMetaObject::invokeMethod(
                    service,
                    [self, key, password, service, id = s->id] {
                        if (!self)
                            return;
                        self->m_passwordsAsked.insert(id);
                        self->m_passwords->write(key, password, [self](const QString& error) {
                            if (self && !error.isEmpty())
                                Q_EMIT self->statusMessage(
                                    tr("The password is kept for this session only (no keyring: %1)").arg(error));
                        });
                        service->lookNow();
                    },
                    Qt::QueuedConnection);
            });
        });
}

void WatchView::loadPasswords()
{
    if (!m_service)
        return;
    for (const auto& s : m_snapshot.sources) {
        if (s.kind != "imap" || m_passwordsAsked.contains(s.id))
            continue;
        m_passwordsAsked.insert(s.id);
        QPointer<WatchService> service(m_service);
        m_passwords->read(QString::fromStdString(s.uri), [service, id = s.id](const QString& password, const QString&) {
            // None kept (or no keyring): the source's error says so, and Password… asks.
            if (service && !password.isEmpty())
                service->setPassword(id, password);
        });
    }
}

void WatchView::askPassword()
{
    const std::int64_t id = selectedSourceId();
    QString uri;
    for (const auto& s : m_snapshot.sources)
        if (s.id == id && s.kind == "imap")
            uri = QString::fromStdString(s.uri);
    if (!m_service || uri.isEmpty())
        return;
    bool ok = false;
    const QString password = QInputDialog::getText(
        this, tr("IMAP password"), tr("Password or app password for %1:").arg(uri), QLineEdit::Password, {}, &ok);
    if (!ok || password.isEmpty())
        return;
    m_service->setPassword(id, password);
    QPointer<WatchView> self(this);
    m_passwords->write(uri, password, [self](const QString& error) {
        if (self && !error.isEmpty())
            Q_EMIT self->statusMessage(tr("The password is kept for this session only (no keyring: %1)").arg(error));
    });
    m_service->lookNow();
}

void WatchView::addMaildir()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Maildir to watch (it holds new/ and cur/)"));
    if (!dir.isEmpty())
        addSource(u"maildir:"_s + dir);
}

void WatchView::addFolder()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder to watch for new files"));
    if (!dir.isEmpty())
        addSource(u"folder:"_s + dir);
}

void WatchView::addLog()
{
    const QString file = QFileDialog::getOpenFileName(this, tr("Mail server log to follow"), u"/var/log"_s);
    if (!file.isEmpty())
        addSource(u"log:"_s + file);
}

void WatchView::addImap()
{
    bool ok = false;
    const QString uri = QInputDialog::getText(
        this, tr("Watch an IMAP mailbox"), tr("Mailbox address (imaps:// for TLS on connect, imap:// for STARTTLS):"),
        QLineEdit::Normal, u"imaps://bounces@mail.example.com/INBOX"_s, &ok);
    if (!ok || uri.trimmed().isEmpty())
        return;
    const QString password = QInputDialog::getText(
        this, tr("Watch an IMAP mailbox"), tr("Password or app password (kept in memory for this session only):"),
        QLineEdit::Password, {}, &ok);
    if (!ok)
        return;
    addSource(uri.trimmed(), password);
}

void WatchView::pauseSelected()
{
    const std::int64_t id = selectedSourceId();
    if (!m_service || !id)
        return;
    bool paused = false;
    for (const auto& s : m_snapshot.sources)
        if (s.id == id)
            paused = s.paused;
    m_service->change([id, paused](bt::Workspace& ws) { bt::pauseSource(ws, std::to_string(id), !paused); });
}

void WatchView::removeSelected()
{
    const std::int64_t id = selectedSourceId();
    if (!m_service || !id)
        return;
    QString uri;
    for (const auto& s : m_snapshot.sources)
        if (s.id == id)
            uri = QString::fromStdString(s.uri);
    QMessageBox ask(QMessageBox::Question, tr("Stop watching"),
                    tr("Stop watching this source? The events it brought stay in the workspace."),
                    QMessageBox::Yes | QMessageBox::Cancel, this);
    ask.setInformativeText(uri);
    ask.setTextFormat(Qt::PlainText);
    if (ask.exec() != QMessageBox::Yes)
        return;
    m_service->change([id](bt::Workspace& ws) { bt::removeSource(ws, std::to_string(id)); });
    if (uri.startsWith(u"imap"_s))
        m_passwords->remove(uri);
}

void WatchView::acknowledgeSelected(bool all)
{
    if (!m_service)
        return;
    std::vector<std::string> ids;
    if (all) {
        ids.push_back("all");
    } else {
        for (const auto& index : m_alerts->selectionModel()->selectedRows())
            if (const auto* item = m_alerts->item(index.row(), 0))
                ids.push_back(std::to_string(item->data(Qt::UserRole).toLongLong()));
    }
    m_service->change([ids](bt::Workspace& ws) {
        for (const auto& id : ids)
            bt::acknowledgeAlerts(ws, id);
    });
}

void WatchView::addMonitored()
{
    if (!m_service)
        return;
    bool ok = false;
    const QString name = QInputDialog::getText(this, tr("Monitor on the blocklists"),
                                               tr("Sending IP address or domain:"), QLineEdit::Normal, {}, &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    QPointer<WatchView> self(this);
    WatchService* service = m_service;
    m_service->change([n = name.toStdString()](bt::Workspace& ws) { bt::addMonitored(ws, n); },
                      [self, service](const QString& error) {
                          if (!self)
                              return;
                          if (!error.isEmpty())
                              QMessageBox::warning(self, tr("Monitor on the blocklists"), error);
                          else
                              service->lookNow();
                      });
}

void WatchView::removeMonitored()
{
    if (!m_service)
        return;
    std::vector<std::string> names;
    for (const auto& index : m_monitored->selectionModel()->selectedRows())
        if (const auto* item = m_monitored->item(index.row(), 0))
            names.push_back(item->text().toStdString());
    m_service->change([names](bt::Workspace& ws) {
        for (const auto& n : names)
            bt::removeMonitored(ws, n);
    });
}
