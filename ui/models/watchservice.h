// SPDX-License-Identifier: MIT
#pragma once

#include "alerts.h"
#include "monitor.h"
#include "watch.h"

#include <QObject>
#include <QString>
#include <QThread>

#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace bt
{
class Classifier;
class Workspace;
} // namespace bt

/// What the Watch view shows: the sources, the alerts and the blocklist monitoring.
struct WatchSnapshot {
    std::vector<bt::WatchSource> sources;
    std::vector<bt::Alert> alerts; ///< newest first, baseline left out
    std::vector<bt::MonitoredName> monitored;
    std::vector<bt::ListingChange> listings; ///< listed and delisted entries, newest first
    bt::AlertRules rules;
};

/// Reads the workspace's watched sources every few seconds, checks its monitored names on the
/// blocklists when due and raises alerts — on a thread of its own with its own connection, so
/// the window never waits for a mailbox, a log or DNS. The window hears of it through looked().
class WatchService : public QObject
{
    Q_OBJECT
public:
    WatchService(const QString& workspacePath, std::shared_ptr<const bt::Classifier> classifier,
                 QObject* parent = nullptr);
    ~WatchService() override;

    /// Seconds between looks (default 60).
    void setInterval(int seconds);
    /// Whether looks run by themselves (the window's "Watch sources" toggle); lookNow() always runs.
    void setEnabled(bool enabled);
    bool enabled() const { return m_enabled; }
    /// Minutes between blocklist checks of one name (default 360); the resolver ("" = the system's).
    void setMonitoring(int minutes, const QString& dnsServer);
    /// An IMAP source's password for this run (kept in memory only).
    void setPassword(std::int64_t sourceId, const QString& password);

    /// Looks at every source now (and checks what is due), then reports.
    void lookNow();
    /// Reads the snapshot again without looking at the sources.
    void reload();
    /// Runs `job` on the service's thread and connection (adding, pausing or removing a source,
    /// acknowledging alerts), then reports a fresh snapshot; `done` gets the job's error or "".
    void change(std::function<void(bt::Workspace&)> job, std::function<void(const QString&)> done = {});

Q_SIGNALS:
    /// After each look (or change): what is there now, the alerts it raised and the events it imported.
    void looked(const WatchSnapshot& snapshot, const std::vector<bt::Alert>& raised, qint64 imported);
    /// A look started or ended (the window shows it in the status bar).
    void busyChanged(bool busy);

private:
    class Worker;
    QThread m_thread;
    Worker* m_worker = nullptr;
    bool m_enabled = true;
};

Q_DECLARE_METATYPE(WatchSnapshot)
