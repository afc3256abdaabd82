// SPDX-License-Identifier: MIT
#pragma once

#include <QObject>
#include <QString>

class QSystemTrayIcon;

/// Desktop notifications for alerts: org.freedesktop.Notifications on the session bus (every
/// Linux desktop runs a server of it), else the tray icon's balloon where there is a tray. Says
/// how it went, so the alert's history records whether anyone was told.
class Notifier : public QObject
{
    Q_OBJECT
public:
    explicit Notifier(QObject* parent = nullptr);

    /// Shows `title` and `body` (plain text: data never becomes markup). `critical` asks the
    /// server for urgency 2. Returns "" when a notification server took it, else why not.
    QString notify(const QString& title, const QString& body, bool critical);

    /// The tray icon to fall back on (owned by the window); may be null.
    void setTrayIcon(QSystemTrayIcon* tray) { m_tray = tray; }

private:
    QSystemTrayIcon* m_tray = nullptr;
};
