// SPDX-License-Identifier: MIT
#pragma once

#include "importer.h"
#include "workspace.h"

#include <QDialog>
#include <QString>

#include <memory>
#include <vector>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

/// What an import did, file by file (read, imported, rejected, duplicate, skipped, status),
/// with the rejected records of the selected file, why each was rejected and its raw text.
class ImportSummaryDialog : public QDialog
{
    Q_OBJECT
public:
    /// Reads the rejects from `workspacePath` through its own connection (one per thread).
    ImportSummaryDialog(const QString& workspacePath, const std::vector<bt::ImportResult>& results,
                        QWidget* parent = nullptr);
    ~ImportSummaryDialog() override;

    /// Shows the rejects of the file on row `row` of the file table (the total row shows none).
    void selectFile(int row);
    /// The rejects of the selected file, as loaded from the workspace.
    const std::vector<bt::Reject>& currentRejects() const { return m_rejects; }
    /// The rejects of the selected file as CSV (line, offset, reason, raw), header first.
    QString rejectsCsv() const;
    /// Writes rejectsCsv() to `path`; false with `error` set on failure.
    bool saveRejectsCsv(const QString& path, QString* error) const;

private:
    void fillFiles();
    void showReject(int row);
    void copyRejects();
    void saveRejects();

    std::vector<bt::ImportResult> m_results;
    std::unique_ptr<bt::Workspace> m_ws;
    QString m_wsError;
    std::vector<bt::Reject> m_rejects;

    QTableWidget* m_files = nullptr;
    QTableWidget* m_rejectTable = nullptr;
    QLabel* m_rejectsLabel = nullptr;
    QPlainTextEdit* m_raw = nullptr;
    QPushButton* m_copy = nullptr;
    QPushButton* m_save = nullptr;
};
