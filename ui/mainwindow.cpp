// SPDX-License-Identifier: MIT
#include "mainwindow.h"

#include "charts/providerchart.h"
#include "charts/templatechart.h"
#include "charts/timechart.h"
#include "classifier.h"
#include "dialogs/columnmappingdialog.h"
#include "dialogs/importsummarydialog.h"
#include "importer.h"
#include "models/drilldown.h"
#include "models/grouptablemodel.h"
#include "models/watchservice.h"
#include "models/workspacesession.h"
#include "providerlookup.h"
#include "query.h"
#include "sendcounts.h"
#include "utils/bouncefile.h"
#include "utils/diagnosiswords.h"
#include "utils/notifier.h"
#include "utils/triagereport.h"
#include "utils/uiresources.h"
#include "views/diagnoseview.h"
#include "views/groupsview.h"
#include "views/sourcesview.h"
#include "views/testerview.h"
#include "views/triageview.h"
#include "views/watchview.h"
#include "widgets/diagnosiscard.h"
#include "widgets/filterpanel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QIcon>
#include <QKeySequence>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTabWidget>
#include <QThread>
#include <QTimer>
#include <QToolBar>
#include <QUrl>

#include <chrono>
#include <filesystem>
#include <fstream>

using namespace Qt::StringLiterals;

namespace
{

// QSettings keys, in one place so that a rename cannot miss a reader.
constexpr auto kGeometryKey = "mainWindow/geometry";
constexpr auto kStateKey = "mainWindow/state";
constexpr auto kSplitterKey = "diagnoseView/splitter";
constexpr auto kRecentKey = "recentFiles";
constexpr auto kRecentWorkspacesKey = "recentWorkspaces";
constexpr auto kTriageStateKey = "triageView/state";
constexpr auto kWatchEnabledKey = "watch/enabled";
constexpr auto kLastWorkspaceDirKey = "lastWorkspaceDir";
constexpr auto kLastImportDirKey = "lastImportDir";
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

std::string toStd(const QString& path)
{
    return QFile::encodeName(path).toStdString();
}

bool isWorkspaceFile(const QString& path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == u"btw"_s || suffix == u"sqlite"_s || suffix == u"db"_s;
}

/// Local paths of a drag (files and folders).
QStringList droppedPaths(const QMimeData* mime)
{
    QStringList out;
    if (!mime || !mime->hasUrls())
        return out;
    const auto urls = mime->urls();
    for (const QUrl& url : urls)
        if (url.isLocalFile())
            out.append(url.toLocalFile());
    return out;
}

/// Carries progress and Cancel between an import on its thread and the window: progress is
/// posted (throttled) to the UI thread, never waited for; cancel is a flag the core polls.
class UiImportObserver : public bt::ImportObserver
{
public:
    UiImportObserver(QProgressBar* bar, QStatusBar* status, std::shared_ptr<std::atomic<bool>> cancel, int file,
                     int files)
        : m_bar(bar)
        , m_status(status)
        , m_cancel(std::move(cancel))
        , m_file(file)
        , m_files(files)
    {
    }
    /// Another import (another window, the CLI) holds the workspace: say so while this one waits
    /// for it, Cancel still works.
    void waiting(const std::string& holder) override
    {
        const QString text = QCoreApplication::translate("MainWindow",
                                                         "Waiting for another import into this "
                                                         "workspace to end (%1)\u2026")
                                 .arg(QString::fromStdString(holder));
        QMetaObject::invokeMethod(
            m_status,
            [status = m_status, text] {
                if (status)
                    status->showMessage(text);
            },
            Qt::QueuedConnection);
    }
    void progress(std::uint64_t done, std::uint64_t total) override
    {
        // Overall per mille across the files, posted only when it moves.
        const double share = total ? static_cast<double>(done) / static_cast<double>(total) : 0.0;
        const int value = static_cast<int>((m_file + share) * 1000.0 / m_files);
        if (value == m_last)
            return;
        m_last = value;
        QMetaObject::invokeMethod(
            m_bar,
            [bar = m_bar, value] {
                if (bar)
                    bar->setValue(value);
            },
            Qt::QueuedConnection);
    }
    bool cancelled() override { return m_cancel->load(); }

private:
    QPointer<QProgressBar> m_bar;
    QPointer<QStatusBar> m_status;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    int m_file, m_files;
    int m_last = -1;
};

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

    m_drill = new DrillDown(this);
    m_triageView = new TriageView(m_classifier, m_drill, this);
    m_groupsView = new GroupsView(m_drill, this);
    m_groupsView->model()->setKnowledge(&m_classifier->knowledge());
    m_tabs->addTab(m_triageView, tr("&Triage"));
    m_tabs->addTab(m_groupsView, tr("&Groups"));
    m_sourcesView = new SourcesView(this);
    m_tabs->addTab(m_sourcesView, tr("S&ources"));
    m_watchView = new WatchView(this);
    m_tabs->addTab(m_watchView, tr("&Watch"));
    connect(m_watchView, &WatchView::statusMessage, this,
            [this](const QString& message) { statusBar()->showMessage(message, kVerdictMessageMs); });
    // The message tester needs no workspace: a received message and DNS.
    m_testerView = new TesterView(nullptr, this);
    m_tabs->addTab(m_testerView, tr("Te&st Message"));
    connect(m_testerView, &TesterView::statusMessage, this,
            [this](const QString& message) { statusBar()->showMessage(message, kVerdictMessageMs); });
    m_notifier = new Notifier(this);
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        // Where there is a tray, alerts can land there when no notification service runs.
        auto* tray = new QSystemTrayIcon(QIcon(btui::appIconPath()), this);
        tray->setToolTip(tr("Bounce Triage"));
        connect(tray, &QSystemTrayIcon::activated, this, [this] {
            showNormal();
            raise();
            activateWindow();
            m_tabs->setCurrentWidget(m_watchView);
        });
        tray->show();
        m_notifier->setTrayIcon(tray);
    }
    // Another process (bouncetriage-cli watch next to the MTA) may add events while the window
    // is open: SQLite's data version says when, cheaply, every two seconds.
    m_outsideTimer = new QTimer(this);
    m_outsideTimer->setInterval(2000);
    connect(m_outsideTimer, &QTimer::timeout, this, &MainWindow::checkForOutsideChanges);
    setCentralWidget(m_tabs);
    connect(m_groupsView, &GroupsView::drilledInto, this, [this] { m_tabs->setCurrentWidget(m_triageView); });
    connect(m_triageView, &TriageView::statusMessage, this,
            [this](const QString& message) { statusBar()->showMessage(message, kVerdictMessageMs); });
    connect(m_drill, &DrillDown::filterChanged, this, &MainWindow::updateActions);

    createActions();
    createMenus();
    createToolBar();
    statusBar()->showMessage(tr("Paste a bounce to diagnose it, or open a workspace to triage many"));
    m_workspaceLabel = new QLabel(this);
    m_workspaceLabel->setObjectName(u"workspaceLabel"_s);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(u"importProgress"_s);
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(220);
    m_progress->setFormat(tr("Importing %p%"));
    m_progress->hide();
    m_cancelImport = new QPushButton(tr("Cancel"), this);
    m_cancelImport->setObjectName(u"cancelImportButton"_s);
    m_cancelImport->setToolTip(tr("Stop the import after the current batch; what was imported stays"));
    m_cancelImport->hide();
    connect(m_cancelImport, &QPushButton::clicked, this, &MainWindow::cancelImport);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelImport);
    statusBar()->addPermanentWidget(m_workspaceLabel);

    connect(m_diagnoseView, &DiagnoseView::diagnosisChanged, this, &MainWindow::showVerdict);
    // Each view speaks in the status bar only while it is shown.
    connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
        if (m_tabs->currentWidget() == m_diagnoseView)
            showVerdict();
        else
            statusBar()->clearMessage();
    });
    connect(m_diagnoseView, &DiagnoseView::fileLoaded, this, [this](const QString& path) {
        if (path.startsWith(u':')) {
            setWindowTitle(tr("Sample bounce"));
        } else {
            setWindowTitle(QFileInfo(path).fileName());
            rememberRecent(path, kRecentKey);
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
    updateActions();
    openSample();
}

MainWindow::~MainWindow()
{
    if (m_cancelFlag)
        m_cancelFlag->store(true);
    // The import thread is parented to the window and stops at its next batch.
    const auto threads = findChildren<QThread*>(u"importThread"_s);
    for (QThread* t : threads)
        t->wait();
    // Views hold the session's pointer: detach them before it goes.
    m_triageView->setSession(nullptr);
    m_groupsView->setSession(nullptr);
    m_sourcesView->setSession(nullptr);
    stopWatching();
}

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

QStringList MainWindow::recentWorkspaces() const
{
    return QSettings().value(key(kRecentWorkspacesKey)).toStringList();
}

bool MainWindow::openWorkspace(const QString& path, bool remember)
{
    std::unique_ptr<WorkspaceSession> session;
    try {
        session = std::make_unique<WorkspaceSession>(path);
    } catch (const bt::OpenError& error) {
        showOpenError(path, QString::fromStdString(error.reason())); // the path is said once, by us
        return false;
    } catch (const std::exception& error) {
        showOpenError(path, QString::fromUtf8(error.what()));
        return false;
    }
    m_lastOpenError.clear();
    if (m_importing)
        cancelImport();
    m_triageView->setSession(nullptr);
    m_groupsView->setSession(nullptr);
    m_sourcesView->setSession(nullptr);
    stopWatching();
    m_session = std::move(session);
    connect(m_session.get(), &WorkspaceSession::failed, this,
            [this](const QString& message) { statusBar()->showMessage(tr("Query failed: %1").arg(message)); });
    m_drill->reset();
    m_triageView->setSession(m_session.get());
    m_groupsView->setSession(m_session.get());
    m_sourcesView->setSession(m_session.get());
    startWatching(path);
    m_tabs->setCurrentWidget(m_triageView);
    setWindowTitle(QFileInfo(path).fileName());
    m_workspaceLabel->setText(QDir::toNativeSeparators(path));
    if (remember)
        rememberRecent(path, kRecentWorkspacesKey);
    updateActions();
    Q_EMIT workspaceOpened(path);
    return true;
}

bool MainWindow::createWorkspace(const QString& path, bool remember)
{
    // Created here, for writing: the window itself only ever opens a workspace for viewing.
    try {
        bt::Workspace created(toStd(path));
    } catch (const bt::OpenError& error) {
        showOpenError(path, QString::fromStdString(error.reason()));
        return false;
    } catch (const std::exception& error) {
        showOpenError(path, QString::fromUtf8(error.what()));
        return false;
    }
    return openWorkspace(path, remember);
}

void MainWindow::showOpenError(const QString& path, const QString& why)
{
    m_lastOpenError = tr("Cannot open the workspace %1: %2").arg(QDir::toNativeSeparators(path), why);
    statusBar()->showMessage(m_lastOpenError, kVerdictMessageMs);
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Bounce Triage"), m_lastOpenError, QMessageBox::Ok, this);
    box->setObjectName(u"openError"_s);
    box->setTextFormat(Qt::PlainText); // a file name is not markup
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::closeWorkspace()
{
    if (m_importing)
        cancelImport();
    m_triageView->setSession(nullptr);
    m_groupsView->setSession(nullptr);
    m_sourcesView->setSession(nullptr);
    stopWatching();
    m_session.reset();
    m_drill->reset();
    m_workspaceLabel->clear();
    m_tabs->setCurrentWidget(m_diagnoseView);
    setWindowTitle(QString());
    updateActions();
}

void MainWindow::updateActions()
{
    const bool open = m_session != nullptr;
    for (QAction* a :
         {m_closeWorkspaceAction, m_importAction, m_importSendsAction, m_lookupProvidersAction, m_exportEventsAction,
          m_exportSuppressionsAction, m_exportReportAction, m_findAction, m_resetAction})
        if (a)
            a->setEnabled(open);
    if (m_importAction)
        m_importAction->setEnabled(open && !m_importing);
    if (m_backAction)
        m_backAction->setEnabled(open && m_drill->canGoBack());
}

void MainWindow::newWorkspaceDialog()
{
    QSettings settings;
    const QString dir = settings.value(key(kLastWorkspaceDirKey), QDir::homePath()).toString();
    QString path = QFileDialog::getSaveFileName(this, tr("New Workspace"), dir + u"/bounces.btw"_s,
                                                tr("Bounce Triage workspaces (*.btw)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += u".btw"_s;
    settings.setValue(key(kLastWorkspaceDirKey), QFileInfo(path).absolutePath());
    // The dialog asked before overwriting: start empty.
    for (const QString& suffix : {QString(), u"-wal"_s, u"-shm"_s})
        QFile::remove(path + suffix);
    if (createWorkspace(path))
        importDialog();
}

void MainWindow::openWorkspaceDialog()
{
    QSettings settings;
    const QString dir = settings.value(key(kLastWorkspaceDirKey), QDir::homePath()).toString();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open Workspace"), dir, tr("Bounce Triage workspaces (*.btw *.sqlite *.db);;All files (*)"));
    if (path.isEmpty())
        return;
    settings.setValue(key(kLastWorkspaceDirKey), QFileInfo(path).absolutePath());
    openWorkspace(path);
}

void MainWindow::importDialog()
{
    if (!m_session)
        return;
    QSettings settings;
    const QString dir = settings.value(key(kLastImportDirKey), QDir::homePath()).toString();
    const QStringList paths = QFileDialog::getOpenFileNames(
        this, tr("Import into the Workspace"), dir,
        tr("Bounce data (*.eml *.mbox *.csv *.json *.jsonl *.log *.txt);;All files (*)"));
    if (paths.isEmpty())
        return;
    settings.setValue(key(kLastImportDirKey), QFileInfo(paths.constFirst()).absolutePath());
    importPaths(paths);
}

void MainWindow::importPaths(const QStringList& given)
{
    if (!m_session || m_importing || given.isEmpty())
        return;
    // A folder's exports and logs are imports of their own, each in its detected format.
    QStringList paths;
    for (const QString& p : given)
        for (const auto& input : bt::importInputs(toStd(p)))
            paths.append(QString::fromStdString(input));
    // A CSV no importer recognises needs a column mapping: a saved profile whose columns the
    // file has, or the mapping dialog (its preview shows what will be imported).
    std::vector<std::shared_ptr<bt::CsvProfile>> profiles(static_cast<std::size_t>(paths.size()));
    for (qsizetype i = 0; i < paths.size(); ++i) {
        if (QFileInfo(paths.at(i)).isDir() || bt::detectFormat(toStd(paths.at(i))) != bt::format::csv)
            continue;
        if (auto saved = ColumnMappingDialog::matchingProfile(paths.at(i))) {
            profiles[static_cast<std::size_t>(i)] = std::make_shared<bt::CsvProfile>(std::move(*saved));
            statusBar()->showMessage(tr("%1: columns mapped with the saved profile \u201c%2\u201d")
                                         .arg(QFileInfo(paths.at(i)).fileName(),
                                              QString::fromStdString(profiles[static_cast<std::size_t>(i)]->name)),
                                     kVerdictMessageMs);
            continue;
        }
        ColumnMappingDialog dialog(paths.at(i), this);
        if (dialog.exec() != QDialog::Accepted)
            return; // the user stopped: import nothing rather than half of what was asked
        profiles[static_cast<std::size_t>(i)] = std::make_shared<bt::CsvProfile>(dialog.profile());
    }
    startImport(paths, profiles);
}

void MainWindow::cancelImport()
{
    if (m_cancelFlag)
        m_cancelFlag->store(true);
    m_cancelImport->setEnabled(false);
    statusBar()->showMessage(tr("Stopping the import after the current batch\u2026"));
}

void MainWindow::startImport(const QStringList& paths, const std::vector<std::shared_ptr<bt::CsvProfile>>& profiles)
{
    m_importing = true;
    m_cancelFlag = std::make_shared<std::atomic<bool>>(false);
    m_progress->setValue(0);
    m_progress->show();
    m_cancelImport->setEnabled(true);
    m_cancelImport->show();
    updateActions();
    statusBar()->showMessage(tr("Importing %n file(s)\u2026", nullptr, static_cast<int>(paths.size())));

    const std::string workspace = toStd(m_session->path());
    auto classifier = m_classifier;
    auto cancel = m_cancelFlag;
    QPointer<QProgressBar> bar = m_progress;
    QPointer<QStatusBar> status = statusBar();
    auto results = std::make_shared<std::vector<bt::ImportResult>>();
    std::vector<std::string> files;
    for (const QString& p : paths)
        files.push_back(toStd(p));
    // Its own connection on its own thread: readers (the views) never wait for it (WAL).
    QThread* thread = QThread::create([workspace, classifier, cancel, bar, status, results, files, profiles] {
        try {
            bt::Workspace ws(workspace);
            for (std::size_t i = 0; i < files.size() && !cancel->load(); ++i) {
                UiImportObserver observer(bar, status, cancel, static_cast<int>(i), static_cast<int>(files.size()));
                results->push_back(bt::importPath(ws, files[i], *classifier, &observer, profiles[i].get()));
            }
            // The triage window's counts are saved by the import, as the CLI does: the window's
            // own connections only view the workspace and never write them.
            const bool added = std::any_of(results->begin(), results->end(),
                                           [](const bt::ImportResult& r) { return r.counts.imported > 0; });
            if (added && !cancel->load())
                bt::Triage::saveCache(ws);
        } catch (const std::exception& error) {
            bt::ImportResult r;
            r.file = workspace;
            r.error = error.what();
            results->push_back(std::move(r));
        }
    });
    thread->setObjectName(u"importThread"_s);
    thread->setParent(this);
    connect(thread, &QThread::finished, this, [this, thread, results] {
        thread->deleteLater();
        m_importing = false;
        m_progress->hide();
        m_cancelImport->hide();
        updateActions();
        if (m_session)
            m_session->triage().invalidate();
        m_triageView->refresh();
        m_groupsView->refresh();
        m_sourcesView->refresh(); // an import may have brought aggregate reports
        m_dataVersion = -1; // the window's own change: the next poll only takes note of the version
        qint64 imported = 0, rejected = 0, duplicates = 0;
        for (const auto& r : *results) {
            imported += r.counts.imported;
            rejected += r.counts.rejected;
            duplicates += r.counts.duplicate;
        }
        statusBar()->showMessage(
            tr("Import finished: %1 imported, %2 rejected, %3 duplicates").arg(imported).arg(rejected).arg(duplicates),
            kVerdictMessageMs);
        showImportSummary(*results);
        Q_EMIT importFinished(static_cast<int>(results->size()), imported, rejected, duplicates);
    });
    thread->start();
}

void MainWindow::importSendCountsDialog()
{
    if (!m_session)
        return;
    const QString path = QFileDialog::getOpenFileName(this, tr("Import Send Counts"), QString(),
                                                      tr("CSV files (*.csv *.txt);;All files (*)"));
    if (!path.isEmpty())
        importSendCounts(path);
}

void MainWindow::importSendCounts(const QString& path)
{
    if (!m_session)
        return;
    const std::string workspace = toStd(m_session->path());
    const std::string file = toStd(path);
    struct Outcome {
        int stored = 0;
        QStringList errors;
    };
    auto outcome = std::make_shared<Outcome>();
    // Its own writing connection on its own thread, like an import: the views only read.
    QThread* thread = QThread::create([workspace, file, outcome] {
        try {
            std::ifstream in(file, std::ios::binary);
            if (!in) {
                outcome->errors.append(QString::fromStdString(file) + tr(": cannot be read"));
                return;
            }
            const auto read = bt::readSendCounts(in, std::filesystem::path(file).filename().string());
            for (const auto& e : read.errors)
                outcome->errors.append(QString::fromStdString(e));
            if (!read.counts.empty()) {
                bt::Workspace ws(workspace);
                outcome->stored = static_cast<int>(bt::storeSendCounts(ws, read.counts));
            }
        } catch (const std::exception& error) {
            outcome->errors.append(QString::fromUtf8(error.what()));
        }
    });
    thread->setObjectName(u"sendCountsThread"_s);
    thread->setParent(this);
    connect(thread, &QThread::finished, this, [this, thread, outcome, path] {
        thread->deleteLater();
        m_triageView->refresh();
        m_groupsView->refresh();
        statusBar()->showMessage(tr("%n send count(s) imported", nullptr, outcome->stored), kVerdictMessageMs);
        if (!outcome->errors.isEmpty()) {
            // Plain text: the lines quote the file.
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Bounce Triage"),
                                        tr("Some lines of %1 were not taken:").arg(QFileInfo(path).fileName()),
                                        QMessageBox::Ok, this);
            box->setObjectName(u"sendCountsErrors"_s);
            box->setTextFormat(Qt::PlainText);
            box->setDetailedText(outcome->errors.join(u'\n'));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        Q_EMIT sendCountsImported(outcome->stored, outcome->errors);
    });
    thread->start();
}

void MainWindow::lookUpProviders(const QString& dnsServer)
{
    if (!m_session)
        return;
    const std::string workspace = toStd(m_session->path());
    const std::string server = dnsServer.trimmed().toStdString();
    auto classifier = m_classifier;
    struct Outcome {
        int domains = 0;
        qint64 events = 0;
        QString error;
    };
    auto outcome = std::make_shared<Outcome>();
    m_lookupProvidersAction->setEnabled(false);
    statusBar()->showMessage(tr("Looking up the providers of unknown recipient domains\u2026"));
    QThread* thread = QThread::create([workspace, server, classifier, outcome] {
        try {
            bt::Workspace ws(workspace);
            bt::dns::Options options;
            options.server = server;
            options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            const auto r = bt::lookUpProviders(ws, classifier->knowledge(), options);
            outcome->domains = static_cast<int>(r.domains.size());
            outcome->events = r.events;
            if (r.events > 0)
                bt::Triage::saveCache(ws);
        } catch (const std::exception& error) {
            outcome->error = QString::fromUtf8(error.what());
        }
    });
    thread->setObjectName(u"providerLookupThread"_s);
    thread->setParent(this);
    connect(thread, &QThread::finished, this, [this, thread, outcome] {
        thread->deleteLater();
        updateActions();
        if (outcome->events > 0 && m_session) {
            m_session->triage().invalidate();
            m_triageView->refresh();
            m_groupsView->refresh();
        }
        statusBar()->showMessage(outcome->error.isEmpty() ? tr("%n domain(s) looked up, %1 events given a provider",
                                                               nullptr, outcome->domains)
                                                                .arg(outcome->events)
                                                          : tr("Provider lookup failed: %1").arg(outcome->error),
                                 kVerdictMessageMs);
        Q_EMIT providersLookedUp(outcome->domains, outcome->events, outcome->error);
    });
    thread->start();
}

void MainWindow::showImportSummary(const std::vector<bt::ImportResult>& results)
{
    if (!m_session)
        return;
    // Modeless: the table and charts already show the new events behind it.
    auto* dialog = new ImportSummaryDialog(m_session->path(), results, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void MainWindow::exportEvents()
{
    if (!m_session)
        return;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Filtered Events"),
                                                      QDir::homePath() + u"/events.csv"_s, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    const auto filter = m_drill->filter();
    const std::string file = toStd(path);
    m_session->run<qint64>(
        WorkspaceSession::Lane::Count, this,
        [filter, file](bt::Workspace& ws) -> qint64 {
            std::ofstream out(file, std::ios::binary);
            if (!out)
                return -1;
            const auto n = bt::writeEventsCsv(ws, filter, out);
            return out ? n : -1;
        },
        [this, path](qint64 n) {
            statusBar()->showMessage(n < 0 ? tr("Cannot write %1").arg(path)
                                           : tr("%1 events written to %2").arg(n).arg(path),
                                     kVerdictMessageMs);
        });
}

void MainWindow::exportSuppressions()
{
    if (!m_session)
        return;
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export Suppression List"), QDir::homePath() + u"/suppressions.csv"_s, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    const std::string file = toStd(path);
    m_session->run<qint64>(
        WorkspaceSession::Lane::Count, this,
        [file](bt::Workspace& ws) -> qint64 {
            std::ofstream out(file, std::ios::binary);
            if (!out)
                return -1;
            const auto n = bt::writeSuppressionsCsv(ws, out);
            return out ? n : -1;
        },
        [this, path](qint64 n) {
            statusBar()->showMessage(n < 0 ? tr("Cannot write %1").arg(path)
                                           : tr("%1 addresses written to %2").arg(n).arg(path),
                                     kVerdictMessageMs);
        });
}

void MainWindow::exportReport()
{
    if (!m_session)
        return;
    const QString path
        = QFileDialog::getSaveFileName(this, tr("Export Triage Report"), QDir::homePath() + u"/triage-report.pdf"_s,
                                       tr("PDF documents (*.pdf);;HTML pages (*.html)"));
    if (path.isEmpty())
        return;
    // The charts as they are on screen, rendered on white for paper.
    const QList<QImage> charts {m_triageView->providerChart()->renderImage(QSize(900, 420)),
                                m_triageView->timeChart()->renderImage(QSize(900, 380)),
                                m_triageView->templateChart()->renderImage(QSize(900, 380))};
    const auto filter = m_drill->filter();
    const bt::KnowledgeBase* kb = &m_classifier->knowledge();
    auto classifier = m_classifier; // keeps kb alive while the job runs
    m_session->run<QString>(
        WorkspaceSession::Lane::Count, this,
        [filter, charts, kb, classifier, session = m_session.get()](bt::Workspace& ws) {
            return btui::triageReportHtml(session->triage().report(ws, filter), filter, charts, kb);
        },
        [this, path](QString html) {
            QString error;
            bool ok = false;
            if (path.endsWith(u".html"_s, Qt::CaseInsensitive) || path.endsWith(u".htm"_s, Qt::CaseInsensitive)) {
                QFile file(path);
                ok = file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(html.toUtf8()) >= 0;
                if (!ok)
                    error = file.errorString();
            } else {
                // QPrinter works on the UI thread only; a report is a few pages.
                ok = btui::printReportToPdf(html, path, &error);
            }
            statusBar()->showMessage(ok ? tr("Report written to %1").arg(path)
                                        : tr("Cannot write %1: %2").arg(path, error),
                                     kVerdictMessageMs);
        });
}

void MainWindow::createActions()
{
    m_newWorkspaceAction = new QAction(themeIcon("document-new"), tr("&New Workspace\u2026"), this);
    m_newWorkspaceAction->setShortcut(QKeySequence::New);
    m_newWorkspaceAction->setStatusTip(tr("Create an empty workspace file and import bounces into it"));
    connect(m_newWorkspaceAction, &QAction::triggered, this, &MainWindow::newWorkspaceDialog);

    m_openWorkspaceAction = new QAction(themeIcon("document-open"), tr("&Open Workspace\u2026"), this);
    m_openWorkspaceAction->setShortcut(QKeySequence::Open);
    m_openWorkspaceAction->setStatusTip(tr("Open a workspace (.btw) to triage its bounces"));
    connect(m_openWorkspaceAction, &QAction::triggered, this, &MainWindow::openWorkspaceDialog);

    m_closeWorkspaceAction = new QAction(themeIcon("document-close"), tr("&Close Workspace"), this);
    m_closeWorkspaceAction->setShortcut(QKeySequence::Close);
    connect(m_closeWorkspaceAction, &QAction::triggered, this, &MainWindow::closeWorkspace);

    m_importAction = new QAction(themeIcon("document-import"), tr("&Import\u2026"), this);
    m_importAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_importAction->setStatusTip(
        tr("Import bounce emails, ESP exports or MTA logs into the workspace (or drop files on the window)"));
    connect(m_importAction, &QAction::triggered, this, &MainWindow::importDialog);

    m_importSendsAction = new QAction(tr("Import Send &Counts\u2026"), this);
    m_importSendsAction->setStatusTip(
        tr("Import how many messages went to each provider, campaign or day (a CSV such as \"provider,sent\"), "
           "known from your ESP: the basis of those groups' bounce rates"));
    connect(m_importSendsAction, &QAction::triggered, this, &MainWindow::importSendCountsDialog);

    m_lookupProvidersAction = new QAction(tr("&Look Up Unknown Providers (DNS)"), this);
    m_lookupProvidersAction->setStatusTip(
        tr("Ask DNS for the MX of recipient domains no table knows (company domains at Microsoft 365, Google "
           "Workspace\u2026) and count their bounces under that provider; uses the DNS server of the checks"));
    connect(m_lookupProvidersAction, &QAction::triggered, this,
            [this] { lookUpProviders(QSettings().value(u"checks/dnsServer"_s).toString()); });

    m_exportEventsAction = new QAction(tr("Export Filtered &Events as CSV\u2026"), this);
    m_exportEventsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    connect(m_exportEventsAction, &QAction::triggered, this, &MainWindow::exportEvents);
    m_exportSuppressionsAction = new QAction(tr("Export &Suppression List\u2026"), this);
    connect(m_exportSuppressionsAction, &QAction::triggered, this, &MainWindow::exportSuppressions);
    m_exportReportAction = new QAction(themeIcon("document-print"), tr("Export Triage &Report\u2026"), this);
    m_exportReportAction->setShortcut(QKeySequence::Print);
    connect(m_exportReportAction, &QAction::triggered, this, &MainWindow::exportReport);

    m_findAction = new QAction(themeIcon("edit-find"), tr("&Find in Replies"), this);
    m_findAction->setShortcut(QKeySequence::Find);
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_tabs->setCurrentWidget(m_triageView);
        m_triageView->filterPanel()->focusSearch();
    });
    m_backAction = new QAction(themeIcon("go-previous"), tr("&Back"), this);
    m_backAction->setShortcut(QKeySequence::Back);
    connect(m_backAction, &QAction::triggered, m_drill, &DrillDown::back);
    m_resetAction = new QAction(themeIcon("edit-clear-all"), tr("&Reset Filters"), this);
    connect(m_resetAction, &QAction::triggered, m_drill, &DrillDown::reset);

    m_openAction = new QAction(themeIcon("document-open"), tr("Open &Bounce\u2026"), this);
    m_openAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
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
    m_triageTabAction = new QAction(tr("&Triage"), this);
    m_triageTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_2));
    connect(m_triageTabAction, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_triageView); });
    m_groupsTabAction = new QAction(tr("&Groups"), this);
    m_groupsTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_3));
    connect(m_groupsTabAction, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_groupsView); });
    m_sourcesTabAction = new QAction(tr("S&ources"), this); // &S is the status bar toggle's
    m_sourcesTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_4));
    connect(m_sourcesTabAction, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_sourcesView); });
    m_watchTabAction = new QAction(tr("&Watch"), this);
    m_watchTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_5));
    connect(m_watchTabAction, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_watchView); });
    m_testerTabAction = new QAction(tr("Te&st Message"), this);
    m_testerTabAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_6));
    connect(m_testerTabAction, &QAction::triggered, this, [this] { m_tabs->setCurrentWidget(m_testerView); });
    m_watchEnabledAction = new QAction(tr("Watch Sources in This &Window"), this);
    m_watchEnabledAction->setCheckable(true);
    m_watchEnabledAction->setChecked(QSettings().value(key(kWatchEnabledKey), true).toBool());
    m_watchEnabledAction->setToolTip(tr("Read the workspace's watched sources every minute while it is open here; "
                                        "turn off when `bouncetriage-cli watch` reads them on a server"));
    connect(m_watchEnabledAction, &QAction::toggled, this, [this](bool on) {
        QSettings().setValue(key(kWatchEnabledKey), on);
        if (m_watch)
            m_watch->setEnabled(on);
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
    file->addAction(m_newWorkspaceAction);
    file->addAction(m_openWorkspaceAction);
    m_recentWorkspaceMenu = file->addMenu(tr("Recent &Workspaces"));
    m_recentWorkspaceMenu->setObjectName(u"recentWorkspacesMenu"_s);
    // Rebuilt on every opening: files may have gone, and another window may have added some.
    connect(m_recentWorkspaceMenu, &QMenu::aboutToShow, this,
            [this] { rebuildRecentMenu(m_recentWorkspaceMenu, kRecentWorkspacesKey, true); });
    rebuildRecentMenu(m_recentWorkspaceMenu, kRecentWorkspacesKey, true);
    file->addAction(m_importAction);
    file->addAction(m_importSendsAction);
    file->addAction(m_lookupProvidersAction);
    file->addAction(m_closeWorkspaceAction);
    file->addSeparator();
    file->addAction(m_openAction);
    m_recentMenu = file->addMenu(tr("Open &Recent Bounce"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, [this] { rebuildRecentMenu(m_recentMenu, kRecentKey, false); });
    rebuildRecentMenu(m_recentMenu, kRecentKey, false);
    file->addAction(m_sampleAction);
    file->addSeparator();
    QMenu* exportMenu = file->addMenu(tr("E&xport"));
    exportMenu->addAction(m_exportEventsAction);
    exportMenu->addAction(m_exportSuppressionsAction);
    exportMenu->addAction(m_exportReportAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_pasteAction);
    edit->addAction(m_copyDiagnosisAction);
    edit->addSeparator();
    edit->addAction(m_clearAction);
    edit->addSeparator();
    edit->addAction(m_findAction);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->setObjectName(u"viewMenu"_s);
    view->addAction(m_diagnoseTabAction);
    view->addAction(m_triageTabAction);
    view->addAction(m_groupsTabAction);
    view->addAction(m_sourcesTabAction);
    view->addAction(m_watchTabAction);
    view->addAction(m_testerTabAction);
    view->addSeparator();
    view->addAction(m_watchEnabledAction);
    view->addSeparator();
    view->addAction(m_backAction);
    view->addAction(m_resetAction);
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
    toolBar->addAction(m_openWorkspaceAction);
    toolBar->addAction(m_importAction);
    toolBar->addSeparator();
    toolBar->addAction(m_openAction);
    toolBar->addAction(m_pasteAction);
    toolBar->addAction(m_copyDiagnosisAction);
    toolBar->addAction(m_clearAction);

    QMenu* view = menuBar()->findChild<QMenu*>(u"viewMenu"_s);
    QAction* toggle = toolBar->toggleViewAction();
    toggle->setText(tr("Show &Toolbar"));
    view->insertAction(view->actions().value(7), toggle);
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

void MainWindow::rememberRecent(const QString& path, const char* settingsKey)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QSettings settings;
    QStringList files = settings.value(key(settingsKey)).toStringList();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    settings.setValue(key(settingsKey), files);
}

void MainWindow::rebuildRecentMenu(QMenu* menu, const char* settingsKey, bool workspaces)
{
    menu->clear();
    QSettings settings;
    QStringList files = settings.value(key(settingsKey)).toStringList();
    const qsizetype before = files.size();
    files.removeIf([](const QString& path) { return !QFileInfo::exists(path); });
    if (files.size() != before)
        settings.setValue(key(settingsKey), files);

    for (qsizetype i = 0; i < files.size(); ++i) {
        const QString& path = files.at(i);
        // "&1" … "&9" give keyboard access; the tenth gets "1&0".
        const QString number = i < 9 ? u"&%1"_s.arg(i + 1) : u"1&0"_s;
        QAction* action = menu->addAction(number + u"  "_s + QFileInfo(path).fileName());
        action->setStatusTip(QDir::toNativeSeparators(path));
        action->setToolTip(QDir::toNativeSeparators(path));
        if (workspaces)
            connect(action, &QAction::triggered, this, [this, path] { openWorkspace(path); });
        else
            connect(action, &QAction::triggered, this, [this, path] { openFile(path); });
    }
    if (files.isEmpty()) {
        menu->addAction(workspaces ? tr("No recent workspaces") : tr("No recent files"))->setEnabled(false);
        return;
    }
    menu->addSeparator();
    connect(menu->addAction(tr("&Clear Menu")), &QAction::triggered, this,
            [settingsKey] { QSettings().remove(key(settingsKey)); });
}

void MainWindow::showVerdict()
{
    const bool has = m_diagnoseView->hasDiagnosis();
    m_copyDiagnosisAction->setEnabled(has);
    // The verdict belongs to the Diagnose view: in Triage or Groups it would read as if it were
    // about the selected event or group.
    if (m_tabs->currentWidget() != m_diagnoseView)
        return;
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
    const QByteArray triage = settings.value(key(kTriageStateKey)).toByteArray();
    if (!triage.isEmpty())
        m_triageView->restoreState(triage);
}

void MainWindow::writeSettings() const
{
    QSettings settings;
    settings.setValue(key(kGeometryKey), saveGeometry());
    settings.setValue(key(kStateKey), saveState());
    settings.setValue(key(kSplitterKey), m_diagnoseView->saveState());
    settings.setValue(key(kTriageStateKey), m_triageView->saveState());
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_importing) {
        // Committed batches stay; the import record says "cancelled" and a re-import completes it.
        cancelImport();
    }
    writeSettings();
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const QStringList paths = droppedPaths(event->mimeData());
    if (paths.isEmpty())
        return;
    // A workspace file opens; anything else is imported when a workspace is open, and a
    // bounce file goes to the Diagnose view when none is.
    if (isWorkspaceFile(paths.constFirst()) || (m_session && !m_importing)
        || !btui::droppedBounceFile(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QStringList paths = droppedPaths(event->mimeData());
    if (paths.isEmpty())
        return;
    if (isWorkspaceFile(paths.constFirst())) {
        event->acceptProposedAction();
        openWorkspace(paths.constFirst());
        return;
    }
    // The Diagnose tab takes a single bounce even with a workspace open.
    const QString bounce = btui::droppedBounceFile(event->mimeData());
    if (m_session && !m_importing && (m_tabs->currentWidget() != m_diagnoseView || bounce.isEmpty())) {
        event->acceptProposedAction();
        importPaths(paths);
        return;
    }
    if (bounce.isEmpty())
        return;
    event->acceptProposedAction();
    openFile(bounce);
}

void MainWindow::startWatching(const QString& path)
{
    m_watch = std::make_unique<WatchService>(path, m_classifier);
    m_watch->setEnabled(m_watchEnabledAction->isChecked());
    connect(m_watch.get(), &WatchService::looked, this, &MainWindow::onWatchLooked);
    connect(m_watch.get(), &WatchService::busyChanged, this, [this](bool busy) {
        if (busy)
            statusBar()->showMessage(tr("Reading the watched sources\u2026"), kVerdictMessageMs);
    });
    m_watchView->setService(m_watch.get());
    m_watch->reload();
    m_dataVersion = -1;
    m_outsideTimer->start();
}

void MainWindow::stopWatching()
{
    m_outsideTimer->stop();
    m_watchView->setService(nullptr);
    m_watch.reset(); // waits for a look in progress to end
}

void MainWindow::onWatchLooked(const WatchSnapshot& snapshot, const std::vector<bt::Alert>& raised, qint64 imported)
{
    m_watchView->show(snapshot);
    QStringList titles, delivered;
    for (const auto& a : raised) {
        const QString title = QString::fromStdString(a.title);
        const QString why = m_notifier->notify(title, QString::fromStdString(a.detail), a.severity == "critical");
        titles.append(title);
        delivered.append(why);
        if (m_watch) {
            const std::int64_t id = a.id;
            const std::string outcome = why.isEmpty() ? std::string("ok") : why.toStdString();
            m_watch->change([id, outcome](bt::Workspace& ws) { bt::recordDelivery(ws, id, "notification", outcome); });
        }
    }
    if (!raised.empty()) {
        statusBar()->showMessage(
            tr("%n new alert(s): %1", nullptr, static_cast<int>(raised.size())).arg(titles.first()), kVerdictMessageMs);
        Q_EMIT alertsAnnounced(titles, delivered);
    }
    if (imported > 0) {
        refreshViews();
        m_dataVersion = -1; // its own change: the next poll only takes note of the version
    }
}

void MainWindow::refreshViews()
{
    if (!m_session)
        return;
    m_session->triage().invalidate();
    m_triageView->refresh();
    m_groupsView->refresh();
    m_sourcesView->refresh();
}

void MainWindow::checkForOutsideChanges()
{
    if (!m_session || m_versionPending || m_importing)
        return;
    m_versionPending = true;
    m_session->run<qint64>(
        WorkspaceSession::Lane::Count, this, [](bt::Workspace& ws) { return static_cast<qint64>(ws.dataVersion()); },
        [this](qint64 version) {
            m_versionPending = false;
            const bool changed = m_dataVersion >= 0 && version != m_dataVersion;
            m_dataVersion = version;
            if (!changed)
                return;
            refreshViews();
            if (m_watch)
                m_watch->reload();
            Q_EMIT workspaceChangedOutside();
        });
}
