// SPDX-License-Identifier: MIT
// The GUI entry point: options, knowledge loading, the main window. Everything else is in ui/.
#include "classifier.h"
#include "filteroption.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/drilldown.h"
#include "models/eventtablemodel.h"
#include "models/watchservice.h"
#include "userconfig.h"
#include "utils/uiresources.h"
#include "views/diagnoseview.h"
#include "views/groupsview.h"
#include "views/sourcesview.h"
#include "views/testerview.h"
#include "views/triageview.h"
#include "views/watchview.h"
#include "widgets/detailspane.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>
#include <QIcon>
#include <QMessageBox>
#include <QPalette>
#include <QPixmap>
#include <QSettings>
#include <QSize>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>

using namespace Qt::StringLiterals;

namespace
{

constexpr int kScreenshotWidth = 1280;
constexpr int kScreenshotHeight = 800;
/// The window size of a screenshot (--screenshot-size); 1280x800 unless asked otherwise.
QSize g_screenshotSize(kScreenshotWidth, kScreenshotHeight);
// Generous: the diagnosis shows ~150 ms after start; only a broken build takes this long.
constexpr int kScreenshotTimeoutMs = 15000;

void printError(const QString& message)
{
    std::fprintf(stderr, "bouncetriage: %s\n", qPrintable(message));
}

std::filesystem::path toPath(const QString& path)
{
    return std::filesystem::path(QFile::encodeName(path).toStdString());
}

/// A workspace is an SQLite file: what the desktop's "open with" hands over for a .btw.
bool isWorkspaceFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) && f.read(16) == QByteArrayView("SQLite format 3\0", 16);
}

/// The user's own rules, the file the CLI reads: $XDG_CONFIG_HOME/bouncetriage/rules.json
/// (bt::userRulesFile, one place for both); empty when there is none.
QString userRulesFile()
{
    const std::filesystem::path path = bt::userRulesFile();
    std::error_code ec;
    if (path.empty() || !std::filesystem::is_regular_file(path, ec))
        return {};
    return QFile::decodeName(path.string().c_str());
}

/// Saves the window as a PNG after `delayMs` (the layout settles) and ends the event loop.
void saveWindowAndExit(MainWindow& window, const QString& output, int delayMs)
{
    QTimer::singleShot(delayMs, &window, [&window, output] {
        const QPixmap shot = window.grab();
        if (shot.isNull() || !shot.save(output, "PNG")) {
            printError(QApplication::translate("main", "cannot write the screenshot to %1").arg(output));
            QCoreApplication::exit(1);
            return;
        }
        QCoreApplication::exit(0);
    });
}

/// The Test Message tab on FILE, tested offline (a screenshot asks no DNS).
int takeTesterScreenshot(MainWindow& window, const QString& file, const QString& output)
{
    window.resize(g_screenshotSize);
    TesterView* view = window.testerView();
    window.tabs()->setCurrentWidget(view);
    if (file.isEmpty() || !view->loadFile(file)) {
        printError(QApplication::translate("main", "--view tester --screenshot needs a message file"));
        return 2;
    }
    view->setOffline(true);
    QObject::connect(
        view, &TesterView::testFinished, &window, [&window, output] { saveWindowAndExit(window, output, 250); },
        Qt::SingleShotConnection);
    QTimer::singleShot(kScreenshotTimeoutMs, &window, [] {
        printError(QApplication::translate("main", "the test did not finish in time; no screenshot taken"));
        QCoreApplication::exit(3);
    });
    window.show();
    view->runTest();
    return QApplication::exec();
}

int takeScreenshot(MainWindow& window, const QString& file, const QString& output)
{
    DiagnoseView* view = window.diagnoseView();
    window.resize(g_screenshotSize);
    // No one is there to read a message box: errors go to stderr.
    QObject::connect(view, &DiagnoseView::failed, &window, [](const QString& message) { printError(message); });
    if (!file.isEmpty() && !view->loadFile(file))
        return 1;

    // The last load restarted the debounce, so the next diagnosisChanged is the one to show.
    // A short pause after it lets the layout settle before the grab.
    QObject::connect(
        view, &DiagnoseView::diagnosisChanged, &window, [&window, output] { saveWindowAndExit(window, output, 250); },
        Qt::SingleShotConnection);
    QTimer::singleShot(kScreenshotTimeoutMs, &window, [] {
        printError(QApplication::translate("main", "no diagnosis was shown in time; no screenshot taken"));
        QCoreApplication::exit(3);
    });
    window.show();
    return QApplication::exec();
}

/// "provider=Gmail", "family=reputation", "code=550", "from=2025-11-03"…: read by the core's one
/// parser of filter options, which the CLI's --filter uses too; false with `error` saying why.
bool applyFilterOption(bt::EventFilter& f, const QString& option, QString* error)
{
    std::string why;
    if (bt::applyFilterOption(f, std::string_view(option.toStdString()), &why))
        return true;
    *error = QString::fromStdString(why);
    return false;
}

/// Renders a workspace view once its data has arrived: the table's snapshot and the charts
/// (triage) or the group table (groups), then a short pause for the layout.
int takeWorkspaceScreenshot(MainWindow& window, const QString& view, const QString& output)
{
    window.resize(g_screenshotSize);
    auto grabAndExit = [&window, output] { saveWindowAndExit(window, output, 400); };
    if (view == u"watch"_s && window.watchService()) {
        // What the workspace holds: a screenshot does not read the sources itself.
        window.watchService()->setEnabled(false);
        window.tabs()->setCurrentWidget(window.watchView());
        QObject::connect(window.watchService(), &WatchService::looked, &window, grabAndExit, Qt::SingleShotConnection);
        window.watchService()->reload();
    } else if (view == u"sources"_s) {
        window.tabs()->setCurrentWidget(window.sourcesView());
        QObject::connect(window.sourcesView(), &SourcesView::sourcesUpdated, &window, grabAndExit,
                         Qt::SingleShotConnection);
        window.sourcesView()->refresh();
    } else if (view == u"groups"_s) {
        window.tabs()->setCurrentWidget(window.groupsView());
        QObject::connect(window.groupsView(), &GroupsView::groupsUpdated, &window, grabAndExit,
                         Qt::SingleShotConnection);
        window.groupsView()->refresh();
    } else {
        window.tabs()->setCurrentWidget(window.triageView());
        // Both the charts and the first page of the table must be there.
        auto pending = std::make_shared<int>(2);
        auto one = [pending, grabAndExit] {
            if (--*pending == 0)
                grabAndExit();
        };
        QObject::connect(window.triageView(), &TriageView::chartsUpdated, &window, one, Qt::SingleShotConnection);
        QObject::connect(window.triageView()->model(), &EventTableModel::countChanged, &window, one,
                         Qt::SingleShotConnection);
        window.triageView()->refresh();
    }
    QTimer::singleShot(kScreenshotTimeoutMs, &window, [] {
        printError(QApplication::translate("main", "the workspace did not load in time; no screenshot taken"));
        QCoreApplication::exit(3);
    });
    window.show();
    return QApplication::exec();
}

/// --dark: one dark palette over Fusion, which draws every control from the palette.
void useDarkPalette()
{
    QApplication::setStyle(u"Fusion"_s);
    QPalette dark;
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::WindowText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
    dark.setColor(QPalette::ToolTipBase, QColor(0x33, 0x33, 0x33));
    dark.setColor(QPalette::ToolTipText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::Text, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::PlaceholderText, QColor(0x8c, 0x8c, 0x8c));
    dark.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
    dark.setColor(QPalette::ButtonText, QColor(0xe6, 0xe6, 0xe6));
    dark.setColor(QPalette::BrightText, Qt::red);
    dark.setColor(QPalette::Link, QColor(0x6a, 0xb0, 0xf3));
    dark.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xb3));
    dark.setColor(QPalette::HighlightedText, Qt::white);
    dark.setColor(QPalette::Mid, QColor(0x55, 0x55, 0x55));
    dark.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    dark.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
    dark.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    QApplication::setPalette(dark);
}

/// The classifier over the shipped knowledge, the user's rules file (unless `readUserRules` is
/// false: a screenshot shows the shipped program) and a --rules file. A broken personal file is a
/// warning and the shipped rules are used; a --rules file that cannot be used, asked for by name,
/// is an error: nullptr with `exitCode` set.
std::shared_ptr<const bt::Classifier> loadClassifier(bool readUserRules, const QString& rules, QStringList& warnings,
                                                     int& exitCode)
{
    std::shared_ptr<bt::KnowledgeBase> knowledge;
    try {
        knowledge = bt::KnowledgeBase::loadDefault();
    } catch (const std::exception& error) {
        printError(QString::fromUtf8(error.what()));
        exitCode = 1;
        return nullptr;
    }
    if (readUserRules) {
        const QString userRules = userRulesFile();
        if (!userRules.isEmpty()) {
            try {
                knowledge->addRulesFile(toPath(userRules));
            } catch (const std::exception& error) {
                // A broken personal file should not keep the program from starting.
                warnings.append(QApplication::translate("main", "Your rules in %1 were not loaded: %2")
                                    .arg(userRules, QString::fromUtf8(error.what())));
            }
        }
    }
    if (!rules.isEmpty()) {
        try {
            knowledge->addRulesFile(toPath(rules));
        } catch (const std::exception& error) {
            // Asked for by name: fail loudly instead of diagnosing with other rules than requested.
            printError(QApplication::translate("main", "cannot load rules from %1: %2")
                           .arg(rules, QString::fromUtf8(error.what())));
            exitCode = 2;
            return nullptr;
        }
    }
    std::shared_ptr<const bt::Classifier> classifier;
    try {
        classifier = std::make_shared<const bt::Classifier>(knowledge);
    } catch (const bt::KnowledgeError& error) {
        // A pattern in a local rules file that RE2 rejects only shows up when compiling.
        if (!rules.isEmpty()) {
            printError(QString::fromUtf8(error.what()));
            exitCode = 2;
            return nullptr;
        }
        warnings.append(
            QApplication::translate("main", "Your rules were not loaded: %1").arg(QString::fromUtf8(error.what())));
        classifier = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    }
    return classifier;
}

void setApplicationInfo()
{
    QCoreApplication::setOrganizationName(u"BounceTriage"_s);
    QCoreApplication::setApplicationName(u"Bounce Triage"_s);
    QCoreApplication::setApplicationVersion(btui::projectVersion());
}

} // namespace

int main(int argc, char* argv[])
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QApplication::translate("main", "Tells deliverability staff why their email bounced."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        u"FILE"_s,
        QApplication::translate("main", "A bounce (.eml, .txt or mbox) to diagnose, or a workspace (.btw) to open."),
        u"[FILE]"_s);
    const QCommandLineOption screenshotOption(
        u"screenshot"_s,
        QApplication::translate("main",
                                "Render the window (%1x%2 unless --screenshot-size says otherwise) on "
                                "the sample bounce (or FILE), save it as a PNG and exit.")
            .arg(kScreenshotWidth)
            .arg(kScreenshotHeight),
        u"PNG"_s);
    const QCommandLineOption rulesOption(
        u"rules"_s,
        QApplication::translate("main", "Load local rules from this JSON file (same ids replace shipped rules)."),
        u"FILE"_s);
    const QCommandLineOption workspaceOption(
        u"workspace"_s, QApplication::translate("main", "Open this workspace (.btw) in the Triage tab."), u"FILE"_s);
    const QCommandLineOption viewOption(
        u"view"_s,
        QApplication::translate(
            "main",
            "The tab to show: diagnose, triage, groups, sources, watch or tester (FILE is then the message to test)."),
        u"VIEW"_s);
    const QCommandLineOption filterOption(
        u"filter"_s,
        QApplication::translate("main",
                                "Drill down before showing, e.g. provider=Gmail, family=reputation, code=550 "
                                "(repeatable)."),
        u"KEY=VALUE"_s);
    const QCommandLineOption darkOption(
        u"dark"_s,
        QApplication::translate("main",
                                "Use a dark palette even when the desktop does not ask for one (Fusion style)."));
    const QCommandLineOption screenshotSizeOption(
        u"screenshot-size"_s,
        QApplication::translate("main", "The window size for --screenshot, e.g. 1024x640 or 1920x1080."), u"WxH"_s);
    const QCommandLineOption detailsOption(u"details"_s,
                                           QApplication::translate("main", "The tab of the event details to show: %1.")
                                               .arg(DetailsPane::tabNames().join(u", "_s)),
                                           u"TAB"_s);
    parser.addOption(detailsOption);
    parser.addOption(screenshotOption);
    parser.addOption(screenshotSizeOption);
    parser.addOption(rulesOption);
    parser.addOption(darkOption);
    parser.addOption(workspaceOption);
    parser.addOption(viewOption);
    parser.addOption(filterOption);

    // --help and --version need no display: answered before QApplication exists, which aborts
    // when there is none. The same parser reads the arguments, so "--workspace -h" stays a value.
    {
        QStringList arguments;
        for (int i = 0; i < argc; ++i)
            arguments.append(QString::fromLocal8Bit(argv[i]));
        if (parser.parse(arguments)
            && (parser.isSet(u"help"_s) || parser.isSet(u"help-all"_s) || parser.isSet(u"version"_s))) {
            QCoreApplication core(argc, argv);
            setApplicationInfo();
            parser.process(core); // prints the help or the version and exits with 0
            return 0;
        }
    }

    QApplication app(argc, argv); // Qt Charts need QApplication, not QGuiApplication
    setApplicationInfo();
    QApplication::setApplicationDisplayName(u"Bounce Triage"_s);
    QApplication::setDesktopFileName(u"bouncetriage"_s);
    btui::initResources();
    QApplication::setWindowIcon(QIcon(btui::appIconPath()));
    parser.process(app);

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        printError(QApplication::translate("main", "only one FILE can be opened"));
        return 2;
    }
    const QString file = positional.value(0);
    const bool screenshot = parser.isSet(screenshotOption);
    if (parser.isSet(screenshotSizeOption)) {
        const QStringList wh = parser.value(screenshotSizeOption).toLower().split(u'x');
        bool okW = false, okH = false;
        const int w = wh.size() == 2 ? wh[0].toInt(&okW) : 0;
        const int h = wh.size() == 2 ? wh[1].toInt(&okH) : 0;
        if (!okW || !okH || w < 320 || h < 240 || w > 7680 || h > 4320) {
            printError(QApplication::translate("main",
                                               "--screenshot-size takes WIDTHxHEIGHT (320x240 to 7680x4320), "
                                               "not %1")
                           .arg(parser.value(screenshotSizeOption)));
            return 2;
        }
        g_screenshotSize = QSize(w, h);
    }

    // A screenshot must not read the user's window geometry or rules, nor add to their
    // recent files: it documents what the shipped program shows.
    QTemporaryDir screenshotSettings;
    if (screenshot) {
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, screenshotSettings.path());
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, screenshotSettings.path());
    }

    QStringList warnings;
    int exitCode = 0;
    const auto classifier = loadClassifier(
        !screenshot, parser.isSet(rulesOption) ? parser.value(rulesOption) : QString(), warnings, exitCode);
    if (!classifier)
        return exitCode;

    if (parser.isSet(darkOption))
        useDarkPalette();

    const QString view = parser.value(viewOption).toLower();
    if (!view.isEmpty() && view != u"diagnose"_s && view != u"triage"_s && view != u"groups"_s && view != u"sources"_s
        && view != u"watch"_s && view != u"tester"_s) {
        printError(
            QApplication::translate("main", "--view takes diagnose, triage, groups, sources, watch or tester, not %1")
                .arg(view));
        return 2;
    }
    bt::EventFilter filter;
    const QStringList filters = parser.values(filterOption);
    for (const QString& f : filters) {
        QString error;
        if (!applyFilterOption(filter, f, &error)) {
            printError(error);
            return 2;
        }
    }

    MainWindow window(classifier);
    if (parser.isSet(detailsOption) && !window.triageView()->details()->showTab(parser.value(detailsOption))) {
        printError(QApplication::translate("main", "--details takes %1, not %2")
                       .arg(DetailsPane::tabNames().join(u", "_s), parser.value(detailsOption)));
        return 2;
    }
    const QString workspace = parser.value(workspaceOption);
    bool workspaceOpen = false;
    if (!workspace.isEmpty()) {
        // A workspace that cannot be opened (missing, a folder, not a workspace, newer, damaged)
        // is said on stderr and in a message box over the window, which stays open; a
        // screenshot, which no one watches, ends with 2 (bad input).
        workspaceOpen = window.openWorkspace(workspace, !screenshot);
        if (!workspaceOpen) {
            printError(window.lastOpenError());
            if (screenshot)
                return 2;
        } else if (!filter.empty()) {
            // provider=microsoft as the CLI reads it: the workspace's own name, any case.
            std::string why;
            try {
                bt::Workspace ws(workspace.toStdString(), bt::Workspace::Mode::View);
                if (!bt::resolveProviders(ws, filter, &why))
                    printError(QString::fromStdString(why));
            } catch (const std::exception& e) {
                printError(QString::fromStdString(e.what()));
            }
            window.drillDown()->push(filter);
        }
    }
    if (screenshot) {
        if (view == u"tester"_s)
            return takeTesterScreenshot(window, file, parser.value(screenshotOption));
        if (workspaceOpen && view != u"diagnose"_s)
            return takeWorkspaceScreenshot(window, view.isEmpty() ? u"triage"_s : view, parser.value(screenshotOption));
        return takeScreenshot(window, file, parser.value(screenshotOption));
    }

    window.show();
    if (!file.isEmpty() && workspace.isEmpty() && isWorkspaceFile(file))
        window.openWorkspace(file, true); // a failure is a message box over the window
    else if (!file.isEmpty() && view == u"tester"_s)
        window.testerView()->loadFile(file); // the message to test, not a bounce to diagnose
    else if (!file.isEmpty())
        window.openFile(file);
    if (view == u"diagnose"_s)
        window.tabs()->setCurrentWidget(window.diagnoseView());
    else if (view == u"groups"_s)
        window.tabs()->setCurrentWidget(window.groupsView());
    else if (view == u"sources"_s)
        window.tabs()->setCurrentWidget(window.sourcesView());
    else if (view == u"watch"_s)
        window.tabs()->setCurrentWidget(window.watchView());
    else if (view == u"tester"_s)
        window.tabs()->setCurrentWidget(window.testerView());
    for (const QString& warning : std::as_const(warnings)) {
        printError(warning);
        QMessageBox::warning(&window, QApplication::translate("main", "Bounce Triage"), warning);
    }
    return QApplication::exec();
}
