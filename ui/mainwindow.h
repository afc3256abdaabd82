// SPDX-License-Identifier: MIT
#pragma once

#include <QMainWindow>
#include <QStringList>

#include <atomic>
#include <memory>
#include <vector>

class DiagnoseView;
class DrillDown;
class GroupsView;
class SourcesView;
class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;
class Notifier;
class QTimer;
class TesterView;
class TriageView;
class WatchService;
class WatchView;
class WorkspaceSession;
struct WatchSnapshot;

namespace bt
{
class Classifier;
struct Alert;
struct ImportResult;
struct CsvProfile;
} // namespace bt

/// The application window: menus, toolbar, status bar and three tabs — Diagnose (one pasted
/// bounce), Triage (the workspace's events, filters, charts and details) and Groups.
///
/// Settings (geometry, splitters, recent files and workspaces) go through a default-constructed
/// QSettings, so the application's organisation and name decide where they live.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /// Opens with the bundled sample bounce loaded, so a first start shows a real diagnosis.
    explicit MainWindow(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent = nullptr);
    ~MainWindow() override;

    DiagnoseView* diagnoseView() const { return m_diagnoseView; }
    TriageView* triageView() const { return m_triageView; }
    GroupsView* groupsView() const { return m_groupsView; }
    SourcesView* sourcesView() const { return m_sourcesView; }
    WatchView* watchView() const { return m_watchView; }
    TesterView* testerView() const { return m_testerView; }
    /// The open workspace's watcher (sources, alerts, blocklist monitoring), or null.
    WatchService* watchService() const { return m_watch.get(); }
    Notifier* notifier() const { return m_notifier; }
    DrillDown* drillDown() const { return m_drill; }
    QTabWidget* tabs() const { return m_tabs; }
    WorkspaceSession* session() const { return m_session.get(); }

    /// Loads a bounce file into the Diagnose view and remembers it under Open Recent.
    bool openFile(const QString& path);
    /// Loads the bundled sample (not remembered under Open Recent).
    void openSample();

    /// Opens an existing workspace for viewing (nothing is written to it) and shows the Triage
    /// tab; on failure a message box (objectName "openError") says why, with the path, and
    /// lastOpenError() holds the same words.
    bool openWorkspace(const QString& path, bool remember = true);
    QString lastOpenError() const { return m_lastOpenError; }
    /// Creates a workspace (or opens the one at `path` for writing and migrates it), then opens it.
    bool createWorkspace(const QString& path, bool remember = true);
    void closeWorkspace();
    /// Imports files and folders into the open workspace in the background. CSV files no
    /// importer knows are mapped with the column-mapping dialog first (or a matching saved
    /// profile). Emits importFinished.
    void importPaths(const QStringList& paths);
    /// Asks the running import to stop after its current batch.
    void cancelImport();
    bool isImporting() const { return m_importing; }
    /// Reads a send-count CSV ("provider,sent", "campaign,sent" or "day,sent") and stores it in
    /// the open workspace, off the UI thread; the views then show those groups' rates of the
    /// given sends. Emits sendCountsImported.
    void importSendCounts(const QString& path);
    /// Asks `dnsServer` (HOST[:PORT]; empty: the system's resolvers) for the MX of the recipient
    /// domains without a known provider and gives their events the provider it names, off the
    /// UI thread; answers are kept in the workspace for their TTL. Emits providersLookedUp.
    void lookUpProviders(const QString& dnsServer);

    /// The files under Open Recent, newest first.
    QStringList recentFiles() const;
    QStringList recentWorkspaces() const;

    static constexpr int kMaxRecentFiles = 10;

Q_SIGNALS:
    void workspaceOpened(const QString& path);
    void importFinished(int files, qint64 imported, qint64 rejected, qint64 duplicates);
    /// `stored` counts taken; `errors` the lines (or the file) that were not, in plain text.
    void sendCountsImported(int stored, const QStringList& errors);
    /// `domains` asked about, `events` given a provider; `error` when the lookup could not start.
    void providersLookedUp(int domains, qint64 events, const QString& error);
    /// The watcher raised alerts; each was shown as a desktop notification (`delivered`: "" when
    /// a notification server took it, else why not).
    void alertsAnnounced(const QStringList& titles, const QStringList& delivered);
    /// Another connection changed the workspace (a `bouncetriage-cli watch`, the watcher) and
    /// the views were refreshed.
    void workspaceChangedOutside();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void showOpenError(const QString& path, const QString& why);
    void createActions();
    void createMenus();
    void createToolBar();
    void openDialog();
    void newWorkspaceDialog();
    void openWorkspaceDialog();
    void importDialog();
    void importSendCountsDialog();
    void exportEvents();
    void exportSuppressions();
    void exportReport();
    void rememberRecent(const QString& path, const char* key);
    void rebuildRecentMenu(QMenu* menu, const char* key, bool workspaces);
    void showVerdict();
    void startWatching(const QString& path);
    void stopWatching();
    void onWatchLooked(const WatchSnapshot& snapshot, const std::vector<bt::Alert>& raised, qint64 imported);
    /// Polls the workspace's data version: a change by another connection refreshes the views.
    void checkForOutsideChanges();
    void refreshViews();
    void showAbout();
    void readSettings();
    void writeSettings() const;
    void updateActions();
    void startImport(const QStringList& paths, const std::vector<std::shared_ptr<bt::CsvProfile>>& profiles);
    void showImportSummary(const std::vector<bt::ImportResult>& results);

    std::shared_ptr<const bt::Classifier> m_classifier;
    QTabWidget* m_tabs = nullptr;
    DiagnoseView* m_diagnoseView = nullptr;
    DrillDown* m_drill = nullptr;
    TriageView* m_triageView = nullptr;
    GroupsView* m_groupsView = nullptr;
    SourcesView* m_sourcesView = nullptr;
    WatchView* m_watchView = nullptr;
    TesterView* m_testerView = nullptr;
    std::unique_ptr<WorkspaceSession> m_session;
    std::unique_ptr<WatchService> m_watch;
    Notifier* m_notifier = nullptr;
    QTimer* m_outsideTimer = nullptr;
    qint64 m_dataVersion = -1;
    bool m_versionPending = false;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_recentWorkspaceMenu = nullptr;
    QLabel* m_workspaceLabel = nullptr;
    QString m_lastOpenError;
    QProgressBar* m_progress = nullptr;
    QPushButton* m_cancelImport = nullptr;
    bool m_importing = false;
    std::shared_ptr<std::atomic<bool>> m_cancelFlag;

    QAction* m_openAction = nullptr;
    QAction* m_newWorkspaceAction = nullptr;
    QAction* m_openWorkspaceAction = nullptr;
    QAction* m_closeWorkspaceAction = nullptr;
    QAction* m_importAction = nullptr;
    QAction* m_importSendsAction = nullptr;
    QAction* m_lookupProvidersAction = nullptr;
    QAction* m_exportEventsAction = nullptr;
    QAction* m_exportSuppressionsAction = nullptr;
    QAction* m_exportReportAction = nullptr;
    QAction* m_sampleAction = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_pasteAction = nullptr;
    QAction* m_copyDiagnosisAction = nullptr;
    QAction* m_clearAction = nullptr;
    QAction* m_findAction = nullptr;
    QAction* m_backAction = nullptr;
    QAction* m_resetAction = nullptr;
    QAction* m_diagnoseTabAction = nullptr;
    QAction* m_triageTabAction = nullptr;
    QAction* m_groupsTabAction = nullptr;
    QAction* m_sourcesTabAction = nullptr;
    QAction* m_watchTabAction = nullptr;
    QAction* m_testerTabAction = nullptr;
    QAction* m_watchEnabledAction = nullptr;
    QAction* m_aboutAction = nullptr;
    QAction* m_aboutQtAction = nullptr;
};
