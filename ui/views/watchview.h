// SPDX-License-Identifier: MIT
#pragma once

#include "models/watchservice.h"

#include <QWidget>

#include <set>

class PasswordStore;
class QLabel;
class QPushButton;
class QTableWidget;

/// Where bounces arrive by themselves: the workspace's watched sources with their status
/// (last read, errors, paused), the alerts with their history and acknowledgement, and the
/// blocklist monitoring of its sending IPs and domains with the listed/delisted history.
/// Every change goes through the WatchService (its thread, its connection).
class WatchView : public QWidget
{
    Q_OBJECT
public:
    explicit WatchView(QWidget* parent = nullptr);

    /// The service of the open workspace, or null when none is open.
    void setService(WatchService* service);
    /// Shows a snapshot (WatchService::looked).
    void show(const WatchSnapshot& snapshot);

    QTableWidget* sourcesTable() const { return m_sources; }
    QTableWidget* alertsTable() const { return m_alerts; }
    QTableWidget* monitoredTable() const { return m_monitored; }
    QTableWidget* historyTable() const { return m_history; }

    /// Adds a source by its URI (the Add menu's dialogs end here; tests call it directly). An IMAP
    /// source's password goes to the keyring and to the service for this session.
    void addSource(const QString& uri, const QString& password = {});

Q_SIGNALS:
    void statusMessage(const QString& message);

private:
    void addMaildir();
    void addFolder();
    void addLog();
    void addImap();
    void pauseSelected();
    void removeSelected();
    void acknowledgeSelected(bool all);
    void addMonitored();
    void removeMonitored();
    void askPassword();
    /// Hands the service the keyring's password of each IMAP source, once per session.
    void loadPasswords();
    std::int64_t selectedSourceId() const;
    void updateButtons();

    WatchService* m_service = nullptr;
    WatchSnapshot m_snapshot;
    PasswordStore* m_passwords = nullptr;
    std::set<std::int64_t> m_passwordsAsked; ///< IMAP sources whose keyring entry was read
    QTableWidget* m_sources = nullptr;
    QTableWidget* m_alerts = nullptr;
    QTableWidget* m_monitored = nullptr;
    QTableWidget* m_history = nullptr;
    QLabel* m_summary = nullptr;
    QPushButton* m_add = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_remove = nullptr;
    QPushButton* m_readNow = nullptr;
    QPushButton* m_password = nullptr;
    QPushButton* m_ack = nullptr;
    QPushButton* m_ackAll = nullptr;
    QPushButton* m_addName = nullptr;
    QPushButton* m_removeName = nullptr;
};
