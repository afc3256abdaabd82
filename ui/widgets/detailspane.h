// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"

#include <QWidget>

#include <memory>

class CheckPanel;
class DiagnosisCard;
class QLabel;
class QListWidget;
class QPlainTextEdit;
class QTabWidget;
class QTreeWidget;
class WorkspaceSession;

namespace bt
{
class Classifier;
}

/// The selected event in full: its reply with the evidence highlighted and the diagnosis card of
/// the Diagnose view, every stored field, the raw source record (plain text, never rendered, so
/// nothing in it is ever fetched) and the other events of the same reply template.
class DetailsPane : public QWidget
{
    Q_OBJECT
public:
    DetailsPane(std::shared_ptr<const bt::Classifier> classifier, QWidget* parent = nullptr);

    void setSession(WorkspaceSession* session);
    /// Loads and shows one event (0 clears the pane).
    void loadEvent(qint64 eventId);
    qint64 eventId() const { return m_eventId; }

    /// The reply as shown (for tests and Copy).
    QString replyText() const;
    QPlainTextEdit* replyEdit() const { return m_reply; }
    QPlainTextEdit* rawEdit() const { return m_raw; }
    /// Brings a tab to the front by its name (reply, fields, raw, checks, dmarc, template), as the
    /// window's --details option asks; false for a name it does not know.
    bool showTab(const QString& name);
    /// The names showTab() takes, in tab order.
    static QStringList tabNames();
    QTreeWidget* fieldsTree() const { return m_fields; }
    QListWidget* siblingsList() const { return m_siblings; }
    QTabWidget* tabs() const { return m_tabs; }
    DiagnosisCard* card() const { return m_card; }
    CheckPanel* checks() const { return m_checks; }

Q_SIGNALS:
    /// The event's details are on screen.
    void eventShown(qint64 eventId);
    /// The user picked another event (from the same-template list).
    void eventRequested(qint64 eventId);
    /// The user wants all events of this template in the table.
    void templateRequested(qint64 templateId);

private:
    void display(const bt::EventDetail& detail, const std::vector<bt::EventRow>& siblings, qint64 siblingCount);
    void clearAll();

    std::shared_ptr<const bt::Classifier> m_classifier;
    WorkspaceSession* m_session = nullptr;
    qint64 m_eventId = 0;
    quint64 m_generation = 0;
    qint64 m_templateId = 0;
    QLabel* m_headline = nullptr;
    QTabWidget* m_tabs = nullptr;
    QPlainTextEdit* m_reply = nullptr;
    DiagnosisCard* m_card = nullptr;
    QTreeWidget* m_fields = nullptr;
    QPlainTextEdit* m_raw = nullptr;
    /// What the receivers' DMARC aggregate reports saw of an auth or policy bounce's traffic.
    QPlainTextEdit* m_dmarc = nullptr;
    int m_dmarcTab = -1;
    QListWidget* m_siblings = nullptr;
    QLabel* m_siblingsNote = nullptr;
    CheckPanel* m_checks = nullptr;
    int m_checksTab = -1;
};
