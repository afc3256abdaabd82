// SPDX-License-Identifier: MIT
#include "utils/notifier.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusReply>
#include <QSystemTrayIcon>
#include <QVariantMap>

using namespace Qt::StringLiterals;

Notifier::Notifier(QObject* parent)
    : QObject(parent)
{
}

namespace
{

/// The Notifications specification reads the body as a subset of HTML on servers that say
/// "body-markup": data (a provider's name, a reply) must show as the text it is.
QString escapedBody(const QString& body)
{
    return body.toHtmlEscaped();
}

} // namespace

QString Notifier::notify(const QString& title, const QString& body, bool critical)
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    QString why;
    if (!bus.isConnected()) {
        why = tr("no desktop session bus");
    } else if (!bus.interface()->isServiceRegistered(u"org.freedesktop.Notifications"_s)) {
        why = tr("no notification service on the session bus");
    } else {
        QDBusMessage call
            = QDBusMessage::createMethodCall(u"org.freedesktop.Notifications"_s, u"/org/freedesktop/Notifications"_s,
                                             u"org.freedesktop.Notifications"_s, u"Notify"_s);
        QVariantMap hints;
        hints.insert(u"urgency"_s, QVariant::fromValue(static_cast<uchar>(critical ? 2 : 1)));
        hints.insert(u"desktop-entry"_s, u"bouncetriage"_s);
        hints.insert(u"category"_s, u"email"_s);
        call << u"Bounce Triage"_s << 0u << u"bouncetriage"_s << title << escapedBody(body) << QStringList() << hints
             << -1;
        const QDBusReply<uint> reply = bus.call(call, QDBus::Block, 5000);
        if (reply.isValid())
            return {};
        why = tr("the notification service failed: %1").arg(reply.error().message());
    }
    if (m_tray && QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray->showMessage(title, body, critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Warning);
        return {};
    }
    return why;
}
