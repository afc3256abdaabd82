// SPDX-License-Identifier: MIT
// GoogleTest main for the UI tests: widgets need a QApplication alive for the whole run.
#include "utils/uiresources.h"

#include <QApplication>
#include <QStandardPaths>

#include <gtest/gtest.h>

int main(int argc, char* argv[])
{
    // Headless by default (CI, test discovery at build time); an explicit setting still wins,
    // so the tests can be watched under a real display.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", QByteArrayLiteral("offscreen"));
    // Settings and recent files written by MainWindow go to a test location, not the user's.
    QStandardPaths::setTestModeEnabled(true);

    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("BounceTriageTests"));
    QApplication::setApplicationName(QStringLiteral("ui_tests"));
    btui::initResources();

    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
