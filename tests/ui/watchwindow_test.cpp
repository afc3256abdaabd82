// SPDX-License-Identifier: MIT
// The window watching a maildir: a planted burst of reputation bounces arriving there raises
// exactly one incident alert, shown as a desktop notification on a real session bus
// (dbus-run-session starts it; this test serves org.freedesktop.Notifications on it) and handed
// to the hook command. Run by ctest under dbus-run-session only (tests/ui/CMakeLists.txt).
#include "alerts.h"
#include "classifier.h"
#include "mainwindow.h"
#include "models/watchservice.h"
#include "plantedbounces.h"
#include "uitestsupport.h"
#include "views/watchview.h"
#include "watch.h"
#include "workspace.h"

#include <QApplication>
#include <QDBusAbstractAdaptor>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QMutex>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace Qt::StringLiterals;
namespace fs = std::filesystem;

namespace
{

/// A notification server as desktops run one, recording what it is asked to show.
class NotificationServer : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.freedesktop.Notifications")
public:
    struct Shown {
        QString app, summary, body;
        int urgency = -1;
    };
    QList<Shown> shown() const
    {
        QMutexLocker lock(&m_mutex);
        return m_shown;
    }

public Q_SLOTS:
    uint Notify(const QString& app, uint, const QString&, const QString& summary, const QString& body,
                const QStringList&, const QVariantMap& hints, int)
    {
        QMutexLocker lock(&m_mutex);
        m_shown.append({app, summary, body, hints.value(u"urgency"_s).toInt()});
        return static_cast<uint>(m_shown.size());
    }
    QStringList GetCapabilities() { return {u"body"_s}; }
    QString GetServerInformation(QString& vendor, QString& version, QString& spec)
    {
        vendor = u"test"_s;
        version = u"1"_s;
        spec = u"1.2"_s;
        return u"test-notifications"_s;
    }

private:
    mutable QMutex m_mutex;
    QList<Shown> m_shown;
};

/// The server on a connection and a thread of its own, as another process would be: the window
/// calls it blocking, so it must answer from elsewhere than the window's thread.
struct ServerThread {
    QThread thread;
    NotificationServer* server = nullptr;
    QString error;
    ServerThread()
    {
        server = new NotificationServer;
        server->moveToThread(&thread);
        thread.start();
        QDBusConnection bus = QDBusConnection::connectToBus(QDBusConnection::SessionBus, u"notifications"_s);
        if (!bus.isConnected()) {
            error = u"no session bus (run under dbus-run-session)"_s;
            return;
        }
        if (!bus.registerObject(u"/org/freedesktop/Notifications"_s, server, QDBusConnection::ExportAllSlots)
            || !bus.registerService(u"org.freedesktop.Notifications"_s))
            error = bus.lastError().message();
    }
    ~ServerThread()
    {
        QDBusConnection::disconnectFromBus(u"notifications"_s);
        thread.quit();
        thread.wait();
        delete server;
    }
};

} // namespace

TEST(WatchWindow, APlantedBurstIsOneAlertOnTheDesktopAndTheHook)
{
    ServerThread notifications;
    ASSERT_TRUE(notifications.error.isEmpty()) << notifications.error.toStdString();
    QTemporaryDir dir;
    const fs::path root = QFile::encodeName(dir.path()).toStdString();
    const fs::path md = root / "bounces";
    planted::makeMaildir(md);
    const fs::path hookOut = root / "hook.jsonl";
    const QString path = dir.filePath(u"watched.btw"_s);
    {
        bt::Workspace ws(QFile::encodeName(path).toStdString());
        bt::AlertRules rules;
        rules.hook = "cat >> '" + hookOut.string() + "'";
        rules.save(ws);
    }
    // Background: one unknown-user bounce an hour at Gmail, already there when watching starts.
    int n = planted::plantBackground(md, 0);

    MainWindow window(uitest::classifier());
    window.resize(1280, 800);
    window.show();
    ASSERT_TRUE(window.openWorkspace(path, false));
    WatchService* service = window.watchService();
    ASSERT_NE(service, nullptr);
    QSignalSpy looked(service, &WatchService::looked);
    window.watchView()->addSource(u"maildir:"_s + QString::fromStdString(md.string()));
    // The source is added, then read: wait for the look that imported the background.
    auto importedSoFar = [&] {
        qint64 sum = 0;
        for (const auto& args : looked)
            sum += args.at(2).toLongLong();
        return sum;
    };
    for (int i = 0; i < 20 && importedSoFar() < 6; ++i)
        looked.wait(uitest::kWaitMs / 5);
    ASSERT_EQ(importedSoFar(), 6);
    EXPECT_EQ(window.watchView()->sourcesTable()->rowCount(), 1);

    // The burst: twelve reputation blocks in one hour, arriving in the watched maildir.
    n = planted::plantBurst(md, n);
    QSignalSpy announced(&window, &MainWindow::alertsAnnounced);
    service->lookNow();
    ASSERT_TRUE(announced.wait(uitest::kWaitMs));
    const QStringList titles = announced.at(0).at(0).toStringList();
    const QStringList delivered = announced.at(0).at(1).toStringList();
    ASSERT_EQ(titles.size(), 1);
    EXPECT_TRUE(titles[0].contains(u"Gmail"_s)) << titles[0].toStdString();
    EXPECT_EQ(delivered[0], QString()) << "the notification server took it: " << delivered[0].toStdString();

    // Exactly one notification, with the alert's words, as plain text.
    const auto shown = notifications.server->shown();
    ASSERT_EQ(shown.size(), 1);
    EXPECT_EQ(shown[0].app, u"Bounce Triage"_s);
    EXPECT_EQ(shown[0].summary, titles[0]);
    EXPECT_TRUE(shown[0].body.contains(u"12 reputation bounces"_s)) << shown[0].body.toStdString();
    // The hook got the same alert as JSON, once.
    std::ifstream in(hookOut);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["rule"], "incident");
    EXPECT_EQ(j["facts"]["family"], "reputation");
    EXPECT_FALSE(std::getline(in, line)) << "one alert, one hook call";

    // Another look finds nothing new: no second notification. The alerts pane lists the one.
    looked.clear();
    service->lookNow();
    ASSERT_TRUE(looked.wait(uitest::kWaitMs));
    QTest::qWait(200);
    EXPECT_EQ(announced.size(), 1);
    EXPECT_EQ(notifications.server->shown().size(), 1);
    EXPECT_EQ(window.watchView()->alertsTable()->rowCount(), 1);
    EXPECT_EQ(window.watchView()->alertsTable()->item(0, 2)->text(), titles[0]);
    // The notification's delivery is in the alert's history.
    bt::Workspace check(QFile::encodeName(path).toStdString(), bt::Workspace::Mode::View);
    for (int i = 0; i < 50 && bt::alertHistory(check).at(0).delivered.find("notification") == std::string::npos; ++i)
        QTest::qWait(100);
    EXPECT_NE(bt::alertHistory(check).at(0).delivered.find("\"notification\":\"ok\""), std::string::npos)
        << bt::alertHistory(check).at(0).delivered;
}

#include "watchwindow_test.moc"
