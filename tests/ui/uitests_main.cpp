// SPDX-License-Identifier: MIT
// GoogleTest main for the UI tests: widgets need a QApplication alive for the whole run.
#include "utils/uiresources.h"

#include <QApplication>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <gtest/gtest.h>

int main(int argc, char* argv[])
{
    // Headless by default (CI, test discovery at build time); an explicit setting still wins,
    // so the tests can be watched under a real display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", QByteArrayLiteral("offscreen"));
    // Settings and recent files written by MainWindow go to a test location, not the user's.
    QStandardPaths::setTestModeEnabled(true);
    // The user's rules and column profiles (bt::userConfigDir, read without QStandardPaths) and
    // the folder older versions kept profiles in: a fresh one for the run, never the user's.
    QTemporaryDir xdg;
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(xdg.filePath(QStringLiteral("config"))));
    qputenv("XDG_DATA_HOME", QFile::encodeName(xdg.filePath(QStringLiteral("data"))));

    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BounceTriageTests"));
    QApplication::setApplicationName(QStringLiteral("ui_tests"));
    btui::initResources();

    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
