// SPDX-License-Identifier: MIT
#pragma once

#include "importer.h"

#include <QDialog>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QTableWidget;

/// Maps the columns of a CSV that no importer knows to event fields, with a live preview of
/// what the importer will read, and saves the mapping as a profile (bt::CsvProfile's JSON) so
/// the next export of the same shape imports without asking.
class ColumnMappingDialog : public QDialog
{
    Q_OBJECT
public:
    /// Reads the header and the first records of `csvPath` and guesses the mapping from the headers.
    explicit ColumnMappingDialog(const QString& csvPath, QWidget* parent = nullptr);
    ~ColumnMappingDialog() override;

    /// The event fields of bt::CsvProfile, in the order the dialog lists them.
    static const QStringList& fields();

    /// The mapping as chosen now (name, delimiter, field → header).
    bt::CsvProfile profile() const;
    /// The header mapped to `field`, empty when none.
    QString mappedHeader(const QString& field) const;
    /// Maps `field` to `header` (empty: not in this file); false when the file has no such header.
    bool setMapping(const QString& field, const QString& header);
    /// The headers of the file, as written there.
    QStringList headers() const { return m_header; }
    /// The delimiter in use (',', ';' or '\t').
    char delimiter() const { return m_delimiter; }
    /// Re-reads the file with another delimiter (',', ';' or '\t') and guesses again.
    void setDelimiter(char delimiter);
    /// True when the mapping can import: a recipient and a reply or a status.
    bool isComplete() const;
    /// Why the mapping cannot import yet (empty when it can), or why the file cannot be read.
    QString problem() const;

    /// Writes profile() to profilesDir()/<name>.json; false with `error` set on failure.
    bool saveProfile(QString* error);

    /// Where profiles live, for the CLI too: $XDG_CONFIG_HOME/bouncetriage/profiles
    /// (bt::profilesDir); the first use copies those of older versions from AppDataLocation.
    static QString profilesDir();
    /// The names of the saved profiles (file names without .json), sorted.
    static QStringList savedProfiles();
    /// A saved profile by name; nullopt when missing or unreadable.
    static std::optional<bt::CsvProfile> loadProfile(const QString& name);
    /// A saved profile whose mapped headers all exist in the file's header (the most columns
    /// mapped wins), so a second import of the same kind of export needs no dialog.
    static std::optional<bt::CsvProfile> matchingProfile(const QString& csvPath);

private:
    void readFile(char delimiter);
    void fillCombos();
    void guess();
    void updatePreview();
    void updateState();

    QString m_path;
    char m_delimiter = ',';
    QString m_readError;
    QStringList m_header;
    struct Record {
        qint64 line = 0;
        QStringList fields;
        QString error;
    };
    QList<Record> m_records;
    /// Of the records the preview shows: how many the importer would reject or skip, and the
    /// first rejection with its reason, for the status line.
    int m_sampleRejected = 0;
    int m_sampleSkipped = 0;
    QString m_firstRejection;

    QLineEdit* m_name = nullptr;
    QComboBox* m_delimiterBox = nullptr;
    QList<QComboBox*> m_combos; ///< one per fields() entry, same order
    QTableWidget* m_preview = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};
