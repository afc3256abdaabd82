// SPDX-License-Identifier: MIT
// The window opens workspaces for viewing only (issue 13, item 4): a write-protected workspace
// opens and is left as it was, every workspace that cannot be opened is a message box naming
// the path and saying why, and the GUI binary answers --help and --version without a display.
#include "../core/testsupport.h"
#include "classifier.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/workspacesession.h"
#include "utils/uiresources.h"
#include "workspace.h"

#include <QCryptographicHash>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

std::shared_ptr<const bt::Classifier> classifier()
{
    static const auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

/// What viewing must not change: the bytes, size and modification time.
QString stateOf(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return u"(unreadable)"_s;
    const QFileInfo info(path);
    return QString::fromLatin1(QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256).toHex()) + u' '
        + QString::number(info.size()) + u' ' + QString::number(info.lastModified().toMSecsSinceEpoch());
}

using testsupport::shell;

std::string quoted(const QString& path)
{
    // Appended piece by piece: GCC 12 warns (-Wrestrict, falsely) on "'" + std::string.
    std::string out(1, '\'');
    out += QFile::encodeName(path).toStdString();
    out += '\'';
    return out;
}

} // namespace

TEST(WorkspaceOpenTest, AWriteProtectedWorkspaceOpensInTheWindowAndStaysAsItWas)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"sample.btw"_s);
    ASSERT_TRUE(QFile::copy(QString::fromUtf8(BT_SAMPLE_WORKSPACE), path)) << BT_SAMPLE_WORKSPACE;
    // Read-only file and read-only folder (chmod a-w; honoured by the program even as root).
    QFile::setPermissions(path, QFile::ReadOwner | QFile::ReadGroup | QFile::ReadOther);
    QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::ExeOwner | QFile::ReadGroup | QFile::ExeGroup);
    const QString before = stateOf(path);
    {
        MainWindow window(classifier());
        ASSERT_TRUE(window.openWorkspace(path, false)) << qPrintable(window.lastOpenError());
        // The views query it on their lanes: wait for one answer.
        std::int64_t events = -1;
        QSignalSpy failed(window.session(), &WorkspaceSession::failed);
        QEventLoop loop;
        window.session()->run<std::int64_t>(
            WorkspaceSession::Lane::Count, &window, [](bt::Workspace& ws) { return ws.eventCount(); },
            [&](std::int64_t n) {
                events = n;
                loop.quit();
            });
        QTimer::singleShot(15000, &loop, &QEventLoop::quit);
        loop.exec();
        EXPECT_GT(events, 0);
        EXPECT_EQ(failed.count(), 0) << qPrintable(failed.value(0).value(0).toString());
        window.closeWorkspace();
    }
    EXPECT_EQ(stateOf(path), before);
    EXPECT_FALSE(QFileInfo::exists(path + u"-wal"_s));
    EXPECT_FALSE(QFileInfo::exists(path + u"-shm"_s));
    QFile::setPermissions(dir.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
}

TEST(WorkspaceOpenTest, EveryWorkspaceThatCannotBeOpenedIsAMessageNamingIt)
{
    QTemporaryDir dir;
    struct Case {
        QString path;
        QString why;
    };
    QList<Case> cases;
    cases.append({dir.filePath(u"missing.btw"_s), u"no such file"_s});
    QDir(dir.path()).mkdir(u"folder.btw"_s);
    cases.append({dir.filePath(u"folder.btw"_s), u"is a folder"_s});
    {
        QFile text(dir.filePath(u"text.btw"_s));
        ASSERT_TRUE(text.open(QIODevice::WriteOnly));
        text.write("This is a text file, not a database.\n");
    }
    cases.append({dir.filePath(u"text.btw"_s), u"not a Bounce Triage workspace"_s});
    const QString newer = dir.filePath(u"newer.btw"_s);
    {
        bt::Workspace ws(QFile::encodeName(newer).toStdString());
        ws.db().exec("PRAGMA user_version=99");
    }
    cases.append({newer, u"newer Bounce Triage"_s});
    const QString truncated = dir.filePath(u"truncated.btw"_s);
    ASSERT_TRUE(QFile::copy(QString::fromUtf8(BT_SAMPLE_WORKSPACE), truncated));
    QFile::setPermissions(truncated, QFile::ReadOwner | QFile::WriteOwner);
    ASSERT_TRUE(QFile::resize(truncated, QFileInfo(truncated).size() / 2));
    cases.append({truncated, u"truncated"_s});
    // Damaged on disk: the events table's root page no longer a b-tree page. It used to open, with
    // blank charts.
    const QString flipped = dir.filePath(u"flipped.btw"_s);
    ASSERT_TRUE(QFile::copy(QString::fromUtf8(BT_SAMPLE_WORKSPACE), flipped));
    QFile::setPermissions(flipped, QFile::ReadOwner | QFile::WriteOwner);
    testsupport::flipRootPageType(QFile::encodeName(flipped).toStdString(), "events");
    cases.append({flipped, u"is damaged"_s});

    for (const auto& c : std::as_const(cases)) {
        MainWindow window(classifier());
        EXPECT_FALSE(window.openWorkspace(c.path, false)) << qPrintable(c.path);
        EXPECT_EQ(window.session(), nullptr);
        const QString message = window.lastOpenError();
        EXPECT_TRUE(message.contains(QDir::toNativeSeparators(c.path))) << qPrintable(message);
        EXPECT_TRUE(message.contains(c.why)) << qPrintable(message);
        auto* box = window.findChild<QMessageBox*>(u"openError"_s);
        ASSERT_NE(box, nullptr) << "no message box for " << qPrintable(c.path);
        EXPECT_EQ(box->text(), message);
        EXPECT_TRUE(box->isVisible());
        box->close();
    }
}

TEST(WorkspaceOpenTest, HelpAndVersionNeedNoDisplay)
{
    // No display of any kind: QApplication would abort, the two answers must not need it.
    const std::string noDisplay = "env -u QT_QPA_PLATFORM -u DISPLAY -u WAYLAND_DISPLAY ";
    auto r = shell(noDisplay + BT_GUI + " --help");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--workspace"), std::string::npos) << r.out;
    r = shell(noDisplay + BT_GUI + " --version");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find(btui::projectVersion().toStdString()), std::string::npos) << r.out;
    r = shell(noDisplay + BT_GUI + " -h");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << r.out;
}

TEST(WorkspaceOpenTest, ABinaryRunOnABrokenWorkspaceSaysWhyAndExitsTwo)
{
    // Only a screenshot run ends by itself (a window would wait for its user behind the box).
    QTemporaryDir dir;
    const QString text = dir.filePath(u"text.btw"_s);
    {
        QFile f(text);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("not a database\n");
    }
    const auto r = shell("QT_QPA_PLATFORM=offscreen " + std::string(BT_GUI) + " --workspace " + quoted(text)
                         + " --screenshot " + quoted(dir.filePath(u"out.png"_s)));
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find(QFile::encodeName(text).toStdString()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not a Bounce Triage workspace"), std::string::npos) << r.out;
    EXPECT_FALSE(QFileInfo::exists(dir.filePath(u"out.png"_s)));
}
