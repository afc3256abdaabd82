// SPDX-License-Identifier: MIT
#include "models/watchservice.h"

#include "classifier.h"
#include "workspace.h"

#include <QFileSystemWatcher>
#include <QPointer>
#include <QSet>
#include <QTimer>

#include <chrono>
#include <mutex>

class WatchService::Worker : public QObject
{
public:
    Worker(WatchService* service, std::string path, std::shared_ptr<const bt::Classifier> classifier)
        : m_service(service)
        , m_path(std::move(path))
        , m_classifier(std::move(classifier))
    {
    }

    void start()
    {
        m_timer = new QTimer(this);
        m_timer->setInterval(m_intervalMs);
        QObject::connect(m_timer, &QTimer::timeout, this, [this] {
            if (m_enabled)
                look();
        });
        m_timer->start();
        // A new bounce in a maildir or folder, new lines in a log: read within a second or two,
        // not at the next interval, which stays as the safety net.
        m_soon = new QTimer(this);
        m_soon->setSingleShot(true);
        m_soon->setInterval(1000);
        QObject::connect(m_soon, &QTimer::timeout, this, [this] {
            if (m_enabled)
                look();
        });
        m_files = new QFileSystemWatcher(this);
        auto changed = [this] {
            if (!m_soon->isActive())
                m_soon->start(1000);
        };
        QObject::connect(m_files, &QFileSystemWatcher::directoryChanged, this, changed);
        QObject::connect(m_files, &QFileSystemWatcher::fileChanged, this, changed);
        // The first look soon after the workspace opens, not a whole interval later.
        QTimer::singleShot(1000, this, [this] {
            if (m_enabled)
                look();
        });
    }
    void setInterval(int ms)
    {
        m_intervalMs = ms;
        if (m_timer)
            m_timer->setInterval(ms);
    }
    void setEnabled(bool on) { m_enabled = on; }
    void setMonitoring(int minutes, std::string server)
    {
        m_monitorMinutes = minutes;
        m_dnsServer = std::move(server);
    }
    void setPassword(std::int64_t id, std::string pw) { m_passwords[id] = std::move(pw); }

    /// `asked`: the user asked for it (Read now): alerts are evaluated whatever the minute says.
    void look(bool asked = false)
    {
        // Nothing to watch: the workspace is not opened for writing at all (which would update
        // an older one's schema under the window's feet).
        try {
            bt::Workspace& view = viewer();
            if (bt::watchSources(view).empty() && bt::monitoredNames(view).empty())
                return;
        } catch (const std::exception&) {
            return;
        }
        Q_EMIT m_service->busyChanged(true);
        std::vector<bt::Alert> raised;
        qint64 imported = 0;
        try {
            bt::Workspace& ws = writer();
            const bt::AlertRules rules = bt::AlertRules::load(ws);
            bt::takeAlertBaseline(ws, rules);
            bt::WatchOptions o;
            o.password = [this](const bt::WatchSource& s) {
                const auto it = m_passwords.find(s.id);
                return it == m_passwords.end() ? std::string() : it->second;
            };
            bool settling = false;
            for (const auto& r : bt::readSources(ws, *m_classifier, o)) {
                imported += r.counts.imported;
                settling = settling || r.settling > 0;
            }
            // A file too fresh to read: look again once it has settled, not a whole interval later.
            if (settling && m_soon && !m_soon->isActive())
                m_soon->start(3000);
            if (!bt::monitoredNames(ws).empty() || imported > 0) {
                bt::monitorFromEvents(ws);
                bt::CheckOptions c;
                c.dnsServer = m_dnsServer;
                bt::checkListings(ws, c, m_monitorMinutes, rules, &raised);
            }
            // The rules walk the whole workspace: after new events, at most once a minute while a
            // busy log keeps bringing lines (a look later in the minute evaluates what waited).
            m_alertsPending = m_alertsPending || imported > 0;
            const auto now = std::chrono::steady_clock::now();
            if (m_alertsPending
                && (asked || m_lastAlerts.time_since_epoch().count() == 0
                    || now - m_lastAlerts >= std::chrono::seconds(60))) {
                for (auto& a : bt::evaluateAlerts(ws, rules))
                    raised.push_back(std::move(a));
                m_alertsPending = false;
                m_lastAlerts = now;
            }
            // The hook command, as `bouncetriage-cli watch` runs it: the window adds the
            // desktop notification.
            if (!rules.hook.empty())
                for (const auto& a : raised) {
                    const std::string why = bt::runAlertHook(rules.hook, a);
                    bt::recordDelivery(ws, a.id, "hook", why.empty() ? "ok" : why);
                }
        } catch (const std::exception&) {
            // The snapshot below says what it can; a source's own error is in its row.
        }
        report(raised, imported);
        Q_EMIT m_service->busyChanged(false);
    }

    void report(const std::vector<bt::Alert>& raised = {}, qint64 imported = 0)
    {
        WatchSnapshot snap;
        try {
            bt::Workspace& ws = viewer();
            snap.sources = bt::watchSources(ws);
            watchPaths(snap.sources);
            snap.alerts = bt::alertHistory(ws);
            snap.monitored = bt::monitoredNames(ws);
            snap.listings = bt::listingEntries(ws);
            snap.rules = bt::AlertRules::load(ws);
        } catch (const std::exception&) {
            // An empty snapshot: the view says there is nothing to show.
        }
        QPointer<WatchService> service(m_service);
        QMetaObject::invokeMethod(
            m_service,
            [service, snap = std::move(snap), raised, imported] {
                if (service)
                    Q_EMIT service->looked(snap, raised, imported);
            },
            Qt::QueuedConnection);
    }

    void change(const std::function<void(bt::Workspace&)>& job, const std::function<void(const QString&)>& done)
    {
        QString error;
        try {
            job(writer());
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
        }
        if (done) {
            QPointer<WatchService> service(m_service);
            QMetaObject::invokeMethod(
                m_service,
                [service, done, error] {
                    if (service)
                        done(error);
                },
                Qt::QueuedConnection);
        }
        report();
    }

private:
    void watchPaths(const std::vector<bt::WatchSource>& sources)
    {
        if (!m_files)
            return;
        QStringList want;
        for (const auto& p : bt::changePaths(sources))
            want.append(QString::fromStdString(p));
        const QStringList have = m_files->files() + m_files->directories();
        if (QSet<QString>(want.begin(), want.end()) == QSet<QString>(have.begin(), have.end()))
            return;
        if (!have.isEmpty())
            m_files->removePaths(have);
        if (!want.isEmpty())
            m_files->addPaths(want);
    }

    /// For looks and changes: opened (and its schema updated) on the first one.
    bt::Workspace& writer()
    {
        if (!m_ws) {
            m_ws = std::make_unique<bt::Workspace>(m_path);
            m_view.reset(); // opened again after the update, which a view connection would not see
        }
        return *m_ws;
    }
    /// For the snapshots: reads the file as it is.
    bt::Workspace& viewer()
    {
        if (!m_view)
            m_view = std::make_unique<bt::Workspace>(m_path, bt::Workspace::Mode::View);
        return *m_view;
    }

    WatchService* m_service;
    std::string m_path;
    std::shared_ptr<const bt::Classifier> m_classifier;
    std::unique_ptr<bt::Workspace> m_ws;
    std::unique_ptr<bt::Workspace> m_view;
    QTimer* m_timer = nullptr;
    QTimer* m_soon = nullptr;
    QFileSystemWatcher* m_files = nullptr;
    int m_intervalMs = 60000;
    bool m_enabled = true;
    int m_monitorMinutes = 360;
    std::string m_dnsServer;
    std::map<std::int64_t, std::string> m_passwords;
    bool m_alertsPending = false;
    std::chrono::steady_clock::time_point m_lastAlerts {};
};

WatchService::WatchService(const QString& workspacePath, std::shared_ptr<const bt::Classifier> classifier,
                           QObject* parent)
    : QObject(parent)
{
    qRegisterMetaType<WatchSnapshot>();
    m_worker = new Worker(this, workspacePath.toStdString(), std::move(classifier));
    m_worker->moveToThread(&m_thread);
    m_thread.setObjectName(QStringLiteral("watchThread"));
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    m_thread.start();
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker] { w->start(); }, Qt::QueuedConnection);
}

WatchService::~WatchService()
{
    m_thread.quit();
    m_thread.wait();
}

void WatchService::setInterval(int seconds)
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, seconds] { w->setInterval(seconds * 1000); }, Qt::QueuedConnection);
}

void WatchService::setEnabled(bool enabled)
{
    m_enabled = enabled;
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, enabled] { w->setEnabled(enabled); }, Qt::QueuedConnection);
}

void WatchService::setMonitoring(int minutes, const QString& dnsServer)
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, minutes, s = dnsServer.toStdString()] { w->setMonitoring(minutes, s); },
        Qt::QueuedConnection);
}

void WatchService::setPassword(std::int64_t sourceId, const QString& password)
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, sourceId, p = password.toStdString()] { w->setPassword(sourceId, p); },
        Qt::QueuedConnection);
}

void WatchService::lookNow()
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker] { w->look(true); }, Qt::QueuedConnection);
}

void WatchService::reload()
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker] { w->report(); }, Qt::QueuedConnection);
}

void WatchService::change(std::function<void(bt::Workspace&)> job, std::function<void(const QString&)> done)
{
    QMetaObject::invokeMethod(
        m_worker, [w = m_worker, job = std::move(job), done = std::move(done)] { w->change(job, done); },
        Qt::QueuedConnection);
}
