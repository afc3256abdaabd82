// SPDX-License-Identifier: MIT
#include "dialogs/columnmappingdialog.h"

#include "csvreader.h"
#include "userconfig.h"
#include "utils/plaintext.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QTableWidget>
#include <QVBoxLayout>

#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

using namespace Qt::StringLiterals;

namespace
{

// Enough rows to see the shape of the data without reading a large export in the GUI thread.
constexpr int kSampleRecords = 50;
constexpr int kPreviewRows = 20;

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

std::string localPath(const QString& path)
{
    return QFile::encodeName(path).toStdString();
}

QString normalised(const QString& header)
{
    return header.trimmed().toLower();
}

/// A file name for a profile name, as the CLI looks it up (bt::profileFileName).
QString fileNameFor(const QString& name)
{
    return qs(bt::profileFileName(name.toStdString()));
}

QString delimiterWord(char d)
{
    return d == '\t' ? u"tab"_s : QString(QLatin1Char(d));
}

/// The header record of a CSV read with `delimiter` (0 = detect); empty when unreadable.
QStringList readHeader(const QString& path, char delimiter)
{
    std::ifstream in(localPath(path), std::ios::binary);
    if (!in)
        return {};
    bt::CsvReader reader(in, delimiter);
    bt::CsvRow row;
    std::string error;
    QStringList out;
    if (reader.next(row, error) && error.empty())
        for (const auto& f : row.fields)
            out << qs(f);
    return out;
}

} // namespace

ColumnMappingDialog::ColumnMappingDialog(const QString& csvPath, QWidget* parent)
    : QDialog(parent)
    , m_path(csvPath)
{
    setWindowTitle(tr("Map the columns of %1").arg(QFileInfo(csvPath).fileName()));

    auto* intro = new QLabel(tr("No importer knows the columns of this file. Say which column holds what; "
                                "the mapping is saved as a profile, so the next export of this kind imports "
                                "without asking."),
                             this);
    intro->setWordWrap(true);

    m_name = new QLineEdit(QFileInfo(csvPath).completeBaseName(), this);
    m_name->setObjectName(u"profileName"_s);
    m_delimiterBox = new QComboBox(this);
    m_delimiterBox->setObjectName(u"delimiter"_s);
    m_delimiterBox->addItem(tr("Comma ( , )"), int(','));
    m_delimiterBox->addItem(tr("Semicolon ( ; )"), int(';'));
    m_delimiterBox->addItem(tr("Tab"), int('\t'));

    auto* top = new QFormLayout;
    top->addRow(tr("Profile &name:"), m_name);
    top->addRow(tr("&Delimiter:"), m_delimiterBox);

    auto* fieldBox = new QGroupBox(tr("Columns"), this);
    auto* fieldForm = new QFormLayout(fieldBox);
    for (const QString& field : fields()) {
        auto* combo = new QComboBox(fieldBox);
        combo->setObjectName(u"field_"_s + field);
        combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
        // Field names are shown as the profile file writes them: that is what people edit.
        fieldForm->addRow(field + u':', combo);
        m_combos << combo;
    }

    m_preview = new QTableWidget(this);
    m_preview->setObjectName(u"preview"_s);
    m_preview->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_preview->setWordWrap(false);
    m_preview->horizontalHeader()->setStretchLastSection(true);
    auto* previewBox = new QGroupBox(tr("Preview: what the importer will read"), this);
    auto* previewLayout = new QVBoxLayout(previewBox);
    previewLayout->addWidget(m_preview);

    m_problem = new QLabel(this);
    m_problem->setObjectName(u"problem"_s);
    m_problem->setWordWrap(true);
    m_problem->setTextFormat(Qt::PlainText);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Save and import"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        QString error;
        if (!saveProfile(&error)) {
            m_problem->setText(error);
            return;
        }
        accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* middle = new QHBoxLayout;
    middle->addWidget(fieldBox);
    middle->addWidget(previewBox, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(top);
    layout->addLayout(middle, 1);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    readFile(0);
    m_delimiterBox->setCurrentIndex(m_delimiterBox->findData(int(m_delimiter)));
    fillCombos();
    guess();

    for (QComboBox* combo : std::as_const(m_combos))
        connect(combo, &QComboBox::currentIndexChanged, this, [this] {
            updatePreview();
            updateState();
        });
    connect(m_delimiterBox, &QComboBox::currentIndexChanged, this,
            [this] { setDelimiter(char(m_delimiterBox->currentData().toInt())); });
    connect(m_name, &QLineEdit::textChanged, this, [this] { updateState(); });

    updatePreview();
    updateState();
    resize(1000, 640);
}

ColumnMappingDialog::~ColumnMappingDialog() = default;

const QStringList& ColumnMappingDialog::fields()
{
    static const QStringList list = [] {
        QStringList l;
        for (const std::string& f : bt::profileFields())
            l << qs(f);
        return l;
    }();
    return list;
}

void ColumnMappingDialog::readFile(char delimiter)
{
    m_header.clear();
    m_records.clear();
    m_readError.clear();
    std::ifstream in(localPath(m_path), std::ios::binary);
    if (!in) {
        m_readError = tr("%1 cannot be read.").arg(m_path);
        return;
    }
    bt::CsvReader reader(in, delimiter);
    bt::CsvRow row;
    std::string error;
    if (!reader.next(row, error) || !error.empty()) {
        m_readError = tr("%1 holds no header line.").arg(m_path);
        return;
    }
    m_delimiter = reader.delimiter() ? reader.delimiter() : ',';
    for (const auto& f : row.fields)
        m_header << qs(f);
    while (m_records.size() < kSampleRecords && reader.next(row, error)) {
        Record r;
        r.line = row.line;
        r.error = qs(error);
        for (const auto& f : row.fields)
            r.fields << qs(f);
        m_records << r;
        error.clear();
    }
}

void ColumnMappingDialog::fillCombos()
{
    for (QComboBox* combo : std::as_const(m_combos)) {
        const QSignalBlocker block(combo);
        combo->clear();
        combo->addItem(tr("(not in this file)"), QString());
        for (const QString& h : std::as_const(m_header))
            combo->addItem(h.trimmed().isEmpty() ? tr("(column without a name)") : h, h);
    }
}

void ColumnMappingDialog::guess()
{
    // The core knows which header words name which field (bt::guessProfileColumns).
    std::vector<std::string> header;
    for (const QString& h : std::as_const(m_header))
        header.push_back(h.toStdString());
    const auto guessed = bt::guessProfileColumns(header);
    const QStringList& names = fields();
    for (int i = 0; i < names.size(); ++i) {
        QComboBox* combo = m_combos[i];
        const QSignalBlocker block(combo);
        const auto it = guessed.find(names[i].toStdString());
        const int at = it == guessed.end() ? 0 : combo->findData(qs(it->second));
        combo->setCurrentIndex(at < 0 ? 0 : at);
    }
}

QString ColumnMappingDialog::mappedHeader(const QString& field) const
{
    const int i = fields().indexOf(field);
    return i < 0 ? QString() : m_combos[i]->currentData().toString();
}

bool ColumnMappingDialog::setMapping(const QString& field, const QString& header)
{
    const int i = fields().indexOf(field);
    if (i < 0)
        return false;
    const int at = header.isEmpty() ? 0 : m_combos[i]->findData(header);
    if (at < 0)
        return false;
    m_combos[i]->setCurrentIndex(at); // the connected slot refreshes the preview
    return true;
}

void ColumnMappingDialog::setDelimiter(char delimiter)
{
    if (delimiter == m_delimiter && !m_header.isEmpty())
        return;
    readFile(delimiter);
    m_delimiter = delimiter;
    {
        const QSignalBlocker block(m_delimiterBox);
        m_delimiterBox->setCurrentIndex(m_delimiterBox->findData(int(delimiter)));
    }
    fillCombos();
    guess();
    updatePreview();
    updateState();
}

void ColumnMappingDialog::updatePreview()
{
    QStringList shownFields;
    QList<int> columns;
    for (int i = 0; i < m_combos.size(); ++i) {
        const int c = m_combos[i]->currentIndex() - 1;
        if (c >= 0 && c < m_header.size()) {
            shownFields << fields()[i];
            columns << c;
        }
    }
    m_preview->clear();
    m_preview->clearSpans();
    m_preview->setColumnCount(int(shownFields.size()));
    m_preview->setHorizontalHeaderLabels(shownFields);
    const int rows = int(std::min<qsizetype>(m_records.size(), kPreviewRows));
    m_preview->setRowCount(rows);
    const bt::CsvProfile mapping = profile();
    m_sampleRejected = m_sampleSkipped = 0;
    m_firstRejection.clear();
    QStringList lineLabels;
    for (int r = 0; r < rows; ++r) {
        const Record& rec = m_records[r];
        lineLabels << tr("line %1").arg(rec.line);
        // What the importer would do with the record, by its own rules (bt::checkProfileRecord):
        // a record it cannot parse, whose field count differs from the header's, with an unknown
        // event word, no usable recipient or timestamp is shown with the reason instead of values
        // that would never be imported; an open or a click is shown as skipped.
        QString rejected = rec.error.isEmpty() ? QString() : tr("rejected: %1").arg(rec.error);
        bool skipped = false;
        if (rejected.isEmpty() && rec.fields.size() != m_header.size())
            rejected = tr("rejected: %1 fields where the header has %2").arg(rec.fields.size()).arg(m_header.size());
        if (rejected.isEmpty()) {
            std::map<std::string, std::string> byColumn;
            for (int c = 0; c < m_header.size(); ++c)
                byColumn[m_header[c].trimmed().toStdString()] = rec.fields[c].trimmed().toStdString();
            const bt::ProfileRecordCheck check = bt::checkProfileRecord(mapping, byColumn);
            if (!check.problem.empty())
                rejected = tr("rejected: %1").arg(QString::fromStdString(check.problem));
            skipped = check.skipped;
        }
        if (!rejected.isEmpty()) {
            ++m_sampleRejected;
            if (m_firstRejection.isEmpty())
                m_firstRejection = tr("line %1, %2").arg(rec.line).arg(rejected);
        }
        m_sampleSkipped += skipped ? 1 : 0;
        // Shown greyed in place of the values: why the record will not become an event.
        const QString instead = !rejected.isEmpty() ? rejected
            : skipped ? tr("skipped: not a delivery outcome (an open, a click…), not counted")
                      : QString();
        for (int k = 0; k < columns.size(); ++k) {
            auto* item = new QTableWidgetItem;
            if (!instead.isEmpty()) {
                item->setText(k == 0 ? instead : QString());
                item->setToolTip(k == 0 ? btui::plainToolTip(instead) : QString());
                item->setForeground(palette().color(QPalette::PlaceholderText));
            } else {
                // The importer trims every value; a quoted newline stays (shown as ⏎ here).
                QString value = rec.fields[columns[k]].trimmed();
                item->setToolTip(btui::plainToolTip(value));
                item->setText(value.replace(u'\n', u'⏎'));
            }
            m_preview->setItem(r, k, item);
        }
        // The reason is read whole across the row, not cut at the first column's width.
        if (!instead.isEmpty() && columns.size() > 1)
            m_preview->setSpan(r, 0, 1, int(columns.size()));
    }
    m_preview->setVerticalHeaderLabels(lineLabels);
    m_preview->resizeColumnsToContents();
    for (int k = 0; k < m_preview->columnCount(); ++k)
        m_preview->setColumnWidth(k, std::min(m_preview->columnWidth(k), 320));
}

bool ColumnMappingDialog::isComplete() const
{
    return problem().isEmpty();
}

QString ColumnMappingDialog::problem() const
{
    if (!m_readError.isEmpty())
        return m_readError;
    if (mappedHeader(u"recipient"_s).isEmpty())
        return tr("Choose the column that holds the recipient address: every event needs one.");
    if (mappedHeader(u"reply"_s).isEmpty() && mappedHeader(u"status"_s).isEmpty())
        return tr("Choose the column with the server's reply or the status code: without either there "
                  "is nothing to diagnose.");
    if (mappedHeader(u"timestamp"_s).isEmpty())
        return tr("Choose the column with the time of each event: the importer rejects a record without "
                  "one, since the time tells a repeated bounce from a duplicate row.");
    if (fileNameFor(m_name->text()).isEmpty())
        return tr("Give the profile a name.");
    return {};
}

void ColumnMappingDialog::updateState()
{
    const QString why = problem();
    QString ready = tr("Ready: %n sample record(s) read.", nullptr, int(m_records.size()));
    if (m_sampleRejected > 0)
        ready += u' '
            + tr("%n of the first %1 would be rejected (%2).", nullptr, m_sampleRejected)
                  .arg(std::min<qsizetype>(m_records.size(), kPreviewRows))
                  .arg(m_firstRejection);
    if (m_sampleSkipped > 0)
        ready += u' ' + tr("%n would be skipped (not a delivery outcome).", nullptr, m_sampleSkipped);
    m_problem->setText(why.isEmpty() ? ready : why);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

bt::CsvProfile ColumnMappingDialog::profile() const
{
    bt::CsvProfile p;
    p.name = m_name->text().trimmed().toStdString();
    p.delimiter = m_delimiter;
    for (const QString& field : fields())
        if (const QString h = mappedHeader(field); !h.isEmpty())
            p.columns[field.toStdString()] = h.trimmed().toStdString();
    return p;
}

bool ColumnMappingDialog::saveProfile(QString* error)
{
    auto fail = [error](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (const QString why = problem(); !why.isEmpty())
        return fail(why);
    const bt::CsvProfile p = profile();
    QJsonObject columns;
    for (const auto& [field, header] : p.columns)
        columns.insert(qs(field), qs(header));
    const QJsonObject root {
        {u"name"_s, qs(p.name)}, {u"delimiter"_s, delimiterWord(p.delimiter)}, {u"columns"_s, columns}};

    const QString dir = profilesDir();
    if (!QDir().mkpath(dir))
        return fail(tr("The folder %1 cannot be created.").arg(dir));
    const QString path = dir + u'/' + fileNameFor(qs(p.name)) + u".json"_s;
    // QSaveFile: a crash while writing leaves the old profile, never half a file.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(tr("%1 cannot be written: %2").arg(path, file.errorString()));
    file.write(QJsonDocument(root).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return fail(tr("%1 cannot be written: %2").arg(path, file.errorString()));
    return true;
}

QString ColumnMappingDialog::profilesDir()
{
    // The first use moves the profiles of older versions (AppDataLocation) here.
    bt::migrateLegacyProfiles();
    return QFile::decodeName(bt::profilesDir().string().c_str());
}

QStringList ColumnMappingDialog::savedProfiles()
{
    QStringList names;
    for (const std::string& name : bt::savedProfileNames())
        names << QFile::decodeName(name.c_str());
    return names;
}

std::optional<bt::CsvProfile> ColumnMappingDialog::loadProfile(const QString& name)
{
    const std::filesystem::path path = bt::savedProfilePath(name.toStdString());
    if (path.empty())
        return std::nullopt;
    try {
        return bt::CsvProfile::load(path.string());
    } catch (const std::exception&) {
        // A hand-edited profile that no longer loads is simply not offered.
        return std::nullopt;
    }
}

std::optional<bt::CsvProfile> ColumnMappingDialog::matchingProfile(const QString& csvPath)
{
    std::map<char, QStringList> headers; // per delimiter, read once
    std::optional<bt::CsvProfile> best;
    const QStringList names = savedProfiles();
    for (const QString& name : names) {
        std::optional<bt::CsvProfile> p = loadProfile(name);
        if (!p || p->columns.empty())
            continue;
        auto it = headers.find(p->delimiter);
        if (it == headers.end()) {
            QStringList h;
            for (const QString& column : readHeader(csvPath, p->delimiter))
                h << normalised(column);
            it = headers.emplace(p->delimiter, h).first;
        }
        bool all = true;
        for (const auto& [field, header] : p->columns)
            all = all && it->second.contains(normalised(qs(header)));
        if (all && (!best || p->columns.size() > best->columns.size()))
            best = std::move(p);
    }
    return best;
}
