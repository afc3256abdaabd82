// SPDX-License-Identifier: MIT
#pragma once

#include "tester.h"

#include <QWidget>

#include <memory>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace bt
{
class KnowledgeBase;
}

/// The message tester in the window (bt::testMessage): paste or drop a message received in a
/// mailbox one controls (.eml, its headers, or a webmail's "Show original"), run the test off the
/// UI thread, and read the checklist — connecting IP, SPF, every DKIM signature, ARC, DMARC and
/// alignment, PTR, blocklists, List-Unsubscribe, Message-ID, Date, TLS — with the evidence of
/// each. The result can be copied or saved as the JSON `bouncetriage-cli test-message --json` gives.
class TesterView : public QWidget
{
    Q_OBJECT
public:
    explicit TesterView(std::shared_ptr<const bt::KnowledgeBase> knowledge, QWidget* parent = nullptr);

    /// Loads a message file into the input (drop, Open); false with a message when unreadable.
    bool loadFile(const QString& path);
    void setMessage(const QString& text);
    /// Runs the test on the input (off the UI thread); testFinished() when done.
    void runTest();
    /// No DNS: only what the message itself shows (also for tests).
    void setOffline(bool offline);
    void setDnsServer(const QString& server);

    QTableWidget* checklist() const { return m_checks; }
    const bt::TesterReport& report() const { return m_report; }
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    void testFinished();
    void statusMessage(const QString& message);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void showReport(const bt::TesterReport& report, const QString& error);
    void saveReport();
    void openFile();

    std::shared_ptr<const bt::KnowledgeBase> m_knowledge;
    QPlainTextEdit* m_input = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_open = nullptr;
    QPushButton* m_copy = nullptr;
    QPushButton* m_save = nullptr;
    QCheckBox* m_offline = nullptr;
    QLineEdit* m_server = nullptr;
    QLabel* m_summary = nullptr;
    QTableWidget* m_checks = nullptr;
    bt::TesterReport m_report;
    bool m_hasReport = false;
    bool m_running = false;
};
