// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "classifier.h"
#include "utils/bouncefile.h"
#include "utils/diagnosiswords.h"
#include "utils/uiresources.h"
#include "views/diagnoseview.h"
#include "widgets/diagnosiscard.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QIcon>
#include <QKeySequence>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

using namespace Qt::StringLiterals;

namespace
{

// QSettings keys, in one place so that a rename cannot miss a reader.
constexpr auto kGeometryKey = "mainWindow/geometry";
constexpr auto kStateKey = "mainWindow/state";
constexpr auto kSplitterKey = "diagnoseView/splitter";
constexpr auto kRecentKey = "recentFiles";
constexpr auto kLastDirKey = "lastOpenDir";
constexpr int kVerdictMessageMs = 8000;

QString key(const char* name)
{
    return QString::fromLatin1(name);
}

QIcon themeIcon(const char* name)
{
    return QIcon::fromTheme(QString::fromLatin1(name));
}

} // namespace

MainWindow::MainWindow(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent)
    : QMainWindow(parent)
    , m_classifier(std::move(classifier))
{
    btui::initResources();
    setObjectName(u"mainWindow"_s);
    setWindowIcon(QIcon(btui::appIconPath()));

    m_diagnoseView = new DiagnoseView(m_classifier, this);
    m_diagnoseView->setObjectName(u"diagnoseView"_s);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(u"mainTabs"_s);
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_diagnoseView, tr("&Diagnose"));
    setCentralWidget(m_tabs);

    createActions();
    createMenus();
    createToolBar();
    statusBar()->showMessage(tr("Paste a bounce to diagnose it"));

    connect(m_diagnoseView, &DiagnoseView::diagnosisChanged, this, &MainWindow::showVerdict);
    connect(m_diagnoseView, &DiagnoseView::fileLoaded, this, [this](const QString& path) {
        if (path.startsWith(u':')) {
            setWindowTitle(tr("Sample bounce"));
        } else {
            setWindowTitle(QFileInfo(path).fileName());
            rememberRecent(path);
        }
    });
    connect(m_diagnoseView, &DiagnoseView::failed, this, [this](const QString& message) {
        statusBar()->showMessage(message, kVerdictMessageMs);
        // open(), not exec(): a nested event loop here would stall drops and --screenshot.
        auto* box = new QMessageBox(QMessageBox::Warning, tr("Bounce Triage"), message, QMessageBox::Ok, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });

    setAcceptDrops(true);
    readSettings();
    openSample();
}

MainWindow::~MainWindow() = default;

bool MainWindow::openFile(const QString& path)
{
    m_tabs->setCurrentWidget(m_diagnoseView);
    return m_diagnoseView->loadFile(path);
}

void MainWindow::openSample()
{
    m_tabs->setCurrentWidget(m_diagnoseView);
    m_diagnoseView->loadFile(btui::sampleBouncePath());
}

QStringList MainWindow::recentFiles() const
{
    return QSettings().value(key(kRecentKey)).toStringList();
}

void MainWindow::createActions()
{
    m_openAction = new QAction(themeIcon("document-open"), tr("&Open Bounce\u2026"), this);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Open a bounce email (.eml) or a text file holding a bounce"));
    connect(m_openAction, &QAction::triggered, this, &MainWindow::openDialog);

    m_sampleAction = new QAction(tr("Open &Sample Bounce"), this);
    m_sampleAction->setStatusTip(tr("Load the bundled sample: a Gmail authentication rejection"));
    connect(m_sampleAction, &QAction::triggered, this, &MainWindow::openSample);

    m_quitAction = new QAction(themeIcon("application-exit"), tr("&Quit"), this);
    m_quitAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    m_quitAction->setMenuRole(QAction::QuitRole);
    connect(m_quitAction, &QAction::triggered, this, &MainWindow::close);

    m_pasteAction = new QAction(themeIcon("edit-paste"), tr("&Paste Bounce"), this);
    m_pasteAction->setShortcut(QKeySequence::Paste);
    m_pasteAction->setStatusTip(tr("Replace the text with the clipboard's and diagnose it"));
    connect(m_pasteAction, &QAction::triggered, m_diagnoseView, &DiagnoseView::pasteReplacing);

    m_copyDiagnosisAction = new QAction(themeIcon("edit-copy"), tr("&Copy Diagnosis"), this);
    m_copyDiagnosisAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    m_copyDiagnosisAction->setStatusTip(tr("Copy the diagnosis as plain text"));
    m_copyDiagnosisAction->setEnabled(false);
    connect(m_copyDiagnosisAction, &QAction::triggered, m_diagnoseView->card(), &DiagnosisCard::copyToClipboard);
    connect(m_diagnoseView->card(), &DiagnosisCard::copied, this,
            [this] { statusBar()->showMessage(tr("Diagnosis copied to the clipboard"), kVerdictMessageMs); });

    m_clearAction = new QAction(themeIcon("edit-clear"), tr("C&lear"), this);
    m_clearAction->setStatusTip(tr("Empty the paste area"));
    connect(m_clearAction, &QAction::triggered, this, [this] {
        m_diagnoseView->clear();
        setWindowTitle(QString());
    });

    m_diagnoseTabAction = new QAction(tr("&Diagnose"), this);
    m_diagnoseTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_1));
    connect(m_diagnoseTabAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentWidget(m_diagnoseView);
        m_diagnoseView->setFocus();
    });

    m_aboutAction = new QAction(themeIcon("help-about"), tr("&About Bounce Triage"), this);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);

    m_aboutQtAction = new QAction(tr("About &Qt"), this);
    m_aboutQtAction->setMenuRole(QAction::AboutQtRole);
    connect(m_aboutQtAction, &QAction::triggered, qApp, &QApplication::aboutQt);
}

void MainWindow::createMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_openAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    // Rebuilt on every opening: files may have gone, and another window may have added some.
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    file->addAction(m_sampleAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_pasteAction);
    edit->addAction(m_copyDiagnosisAction);
    edit->addSeparator();
    edit->addAction(m_clearAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->setObjectName(u"viewMenu"_s);
    view->addAction(m_diagnoseTabAction);
    view->addSeparator();
    // The toolbar's toggle is added in createToolBar(), once the toolbar exists.
    QAction* statusBarAction = view->addAction(tr("Show &Status Bar"));
    statusBarAction->setCheckable(true);
    statusBarAction->setChecked(true);
    connect(statusBarAction, &QAction::toggled, statusBar(), &QStatusBar::setVisible);
    QAction* fullScreen = view->addAction(themeIcon("view-fullscreen"), tr("&Full Screen"));
    fullScreen->setShortcut(QKeySequence::FullScreen);
    fullScreen->setCheckable(true);
    connect(fullScreen, &QAction::toggled, this, [this](bool on) {
        setWindowState(on ? windowState() | Qt::WindowFullScreen : windowState() & ~Qt::WindowFullScreen);
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_sampleAction);
    help->addSeparator();
    help->addAction(m_aboutAction);
    help->addAction(m_aboutQtAction);
}

void MainWindow::createToolBar()
{
    QToolBar* toolBar = addToolBar(tr("Main Toolbar"));
    toolBar->setObjectName(u"mainToolBar"_s); // saveState() needs the name
    // Text beside the icon: the actions are few, and without an icon theme the bar still reads.
    toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolBar->setMovable(false);
    toolBar->addAction(m_openAction);
    toolBar->addAction(m_pasteAction);
    toolBar->addAction(m_copyDiagnosisAction);
    toolBar->addAction(m_clearAction);

    QMenu* view = menuBar()->findChild<QMenu*>(u"viewMenu"_s);
    QAction* toggle = toolBar->toggleViewAction();
    toggle->setText(tr("Show &Toolbar"));
    view->insertAction(view->actions().value(2), toggle);
}

void MainWindow::openDialog()
{
    QSettings settings;
    const QString dir = settings.value(key(kLastDirKey), QDir::homePath()).toString();
    const QString path
        = QFileDialog::getOpenFileName(this, tr("Open Bounce"), dir, tr("Bounce files (*.eml *.txt);;All files (*)"));
    if (path.isEmpty())
        return;
    settings.setValue(key(kLastDirKey), QFileInfo(path).absolutePath());
    openFile(path);
}

void MainWindow::rememberRecent(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QSettings settings;
    QStringList files = settings.value(key(kRecentKey)).toStringList();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    settings.setValue(key(kRecentKey), files);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    QSettings settings;
    QStringList files = settings.value(key(kRecentKey)).toStringList();
    const qsizetype before = files.size();
    files.removeIf([](const QString& path) { return !QFileInfo::exists(path); });
    if (files.size() != before)
        settings.setValue(key(kRecentKey), files);

    for (qsizetype i = 0; i < files.size(); ++i) {
        const QString& path = files.at(i);
        // "&1" … "&9" give keyboard access; the tenth gets "1&0".
        const QString number = i < 9 ? u"&%1"_s.arg(i + 1) : u"1&0"_s;
        QAction* action = m_recentMenu->addAction(number + u"  "_s + QFileInfo(path).fileName());
        action->setStatusTip(QDir::toNativeSeparators(path));
        action->setToolTip(QDir::toNativeSeparators(path));
        connect(action, &QAction::triggered, this, [this, path] { openFile(path); });
    }
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("No recent files"))->setEnabled(false);
        return;
    }
    m_recentMenu->addSeparator();
    connect(m_recentMenu->addAction(tr("&Clear Menu")), &QAction::triggered, this,
            [] { QSettings().remove(key(kRecentKey)); });
}

void MainWindow::showVerdict()
{
    const bool has = m_diagnoseView->hasDiagnosis();
    m_copyDiagnosisAction->setEnabled(has);
    if (has)
        statusBar()->showMessage(btui::verdictSummary(m_diagnoseView->diagnosis()), kVerdictMessageMs);
    else
        statusBar()->clearMessage();
}

void MainWindow::showAbout()
{
    const auto& kb = m_classifier->knowledge();
    QMessageBox::about(this, tr("About Bounce Triage"),
                       tr("<h3>Bounce Triage %1</h3>"
                          "<p>Tells deliverability staff why their email bounced: the kind of problem, whether it is "
                          "about spam and which words say so, and what to do next, cheapest first.</p>"
                          "<p>Knowledge loaded: %2 rules, %3 blocklists, %4 providers.</p>"
                          "<p>The sample bounce comes from the Sisimai project's set-of-emails "
                          "(BSD 2-Clause licence).</p>")
                           .arg(QCoreApplication::applicationVersion().toHtmlEscaped())
                           .arg(kb.rules().size())
                           .arg(kb.blocklists().size())
                           .arg(kb.providers().size()));
}

void MainWindow::readSettings()
{
    const QSettings settings;
    if (!restoreGeometry(settings.value(key(kGeometryKey)).toByteArray()))
        resize(1200, 760);
    restoreState(settings.value(key(kStateKey)).toByteArray());
    const QByteArray splitter = settings.value(key(kSplitterKey)).toByteArray();
    if (!splitter.isEmpty())
        m_diagnoseView->restoreState(splitter);
}

void MainWindow::writeSettings() const
{
    QSettings settings;
    settings.setValue(key(kGeometryKey), saveGeometry());
    settings.setValue(key(kStateKey), saveState());
    settings.setValue(key(kSplitterKey), m_diagnoseView->saveState());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    writeSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (!btui::droppedBounceFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QString path = btui::droppedBounceFile(event->mimeData());
    if (path.isEmpty())
        return;
    event->acceptProposedAction();
    openFile(path);
}
