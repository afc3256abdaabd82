// SPDX-License-Identifier: MIT
#pragma once

#include <QMainWindow>

#include <memory>

class DiagnoseView;
class QAction;
class QMenu;
class QTabWidget;

namespace bt
{
class Classifier;
}

/// The application window: menus, toolbar, status bar and the tabs of the views. The first
/// tab is the Diagnose view; the events and charts views of later versions join as tabs.
///
/// Settings (geometry, splitter, recent files) go through a default-constructed QSettings,
/// so the application's organisation and name decide where they live.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /// Opens with the bundled sample bounce loaded, so a first start shows a real diagnosis.
    explicit MainWindow(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent = nullptr);
    ~MainWindow() override;

    DiagnoseView* diagnoseView() const { return m_diagnoseView; }
    QTabWidget* tabs() const { return m_tabs; }

    /// Loads a bounce file into the Diagnose view and remembers it under Open Recent.
    bool openFile(const QString& path);
    /// Loads the bundled sample (not remembered under Open Recent).
    void openSample();

    /// The files under Open Recent, newest first.
    QStringList recentFiles() const;

    static constexpr int kMaxRecentFiles = 10;

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createActions();
    void createMenus();
    void createToolBar();
    void openDialog();
    void rememberRecent(const QString& path);
    void rebuildRecentMenu();
    void showVerdict();
    void showAbout();
    void readSettings();
    void writeSettings() const;

    std::shared_ptr<const bt::Classifier> m_classifier;
    QTabWidget* m_tabs = nullptr;
    DiagnoseView* m_diagnoseView = nullptr;
    QMenu* m_recentMenu = nullptr;

    QAction* m_openAction = nullptr;
    QAction* m_sampleAction = nullptr;
    QAction* m_quitAction = nullptr;
    QAction* m_pasteAction = nullptr;
    QAction* m_copyDiagnosisAction = nullptr;
    QAction* m_clearAction = nullptr;
    QAction* m_diagnoseTabAction = nullptr;
    QAction* m_aboutAction = nullptr;
    QAction* m_aboutQtAction = nullptr;
};
