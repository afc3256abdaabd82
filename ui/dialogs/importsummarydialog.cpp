// SPDX-License-Identifier: MIT
#include "dialogs/importsummarydialog.h"

#include "utils/plaintext.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <exception>

using namespace Qt::StringLiterals;

namespace
{

// Prefixed: inside the dialog's members a bare "Rejected" would be QDialog::Rejected.
enum FileColumn {
    ColFile,
    ColFormat,
    ColRead,
    ColImported,
    ColRejected,
    ColDuplicate,
    ColSkipped,
    ColStatus,
    FileColumnCount
};
enum RejectColumn { ColLine, ColOffset, ColReason, ColRaw, RejectColumnCount };
// A reject's raw text can be a whole email: the table shows its start on one line.
constexpr int kRawElide = 160;

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

QString csvField(const QString& s)
{
    if (!s.contains(u',') && !s.contains(u'"') && !s.contains(u'\n') && !s.contains(u'\r'))
        return s;
    QString quoted = s;
    quoted.replace(u"\""_s, u"\"\""_s);
    return u'"' + quoted + u'"';
}

QTableWidgetItem* numberItem(qint64 n)
{
    auto* item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, n);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

} // namespace

ImportSummaryDialog::ImportSummaryDialog(const QString& workspacePath, const std::vector<bt::ImportResult>& results,
                                         QWidget* parent)
    : QDialog(parent)
    , m_results(results)
{
    setWindowTitle(tr("Import summary"));
    try {
        m_ws = std::make_unique<bt::Workspace>(QFile::encodeName(workspacePath).toStdString(),
                                               bt::Workspace::Mode::View);
    } catch (const std::exception& e) {
        m_wsError = tr("The rejected records cannot be read: %1").arg(qs(e.what()));
    }

    m_files = new QTableWidget(this);
    m_files->setObjectName(u"files"_s);
    m_files->setColumnCount(FileColumnCount);
    m_files->setHorizontalHeaderLabels({tr("File"), tr("Format"), tr("Read"), tr("Imported"), tr("Rejected"),
                                        tr("Duplicate"), tr("Skipped"), tr("Status")});
    m_files->horizontalHeaderItem(ColSkipped)
        ->setToolTip(tr("Recognised and left out on purpose: opens, clicks, acceptance notices"));
    m_files->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_files->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_files->setSelectionMode(QAbstractItemView::SingleSelection);
    m_files->verticalHeader()->hide();
    m_files->horizontalHeader()->setStretchLastSection(true);

    m_rejectsLabel = new QLabel(this);
    m_rejectsLabel->setTextFormat(Qt::PlainText);
    m_rejectsLabel->setObjectName(u"rejectsLabel"_s);

    m_rejectTable = new QTableWidget(this);
    m_rejectTable->setObjectName(u"rejects"_s);
    m_rejectTable->setColumnCount(RejectColumnCount);
    m_rejectTable->setHorizontalHeaderLabels({tr("Line"), tr("Offset"), tr("Reason"), tr("Raw")});
    m_rejectTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_rejectTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_rejectTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_rejectTable->setWordWrap(false);
    m_rejectTable->verticalHeader()->hide();
    m_rejectTable->horizontalHeader()->setStretchLastSection(true);

    // The raw record is untrusted input: plain text only, never rendered.
    m_raw = new QPlainTextEdit(this);
    m_raw->setObjectName(u"raw"_s);
    m_raw->setReadOnly(true);
    m_raw->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_raw->setPlaceholderText(tr("Select a rejected record to see it whole."));

    auto* rejectsPane = new QWidget(this);
    auto* rejectsLayout = new QVBoxLayout(rejectsPane);
    rejectsLayout->setContentsMargins(0, 0, 0, 0);
    rejectsLayout->addWidget(m_rejectsLabel);
    rejectsLayout->addWidget(m_rejectTable);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_files);
    splitter->addWidget(rejectsPane);
    splitter->addWidget(m_raw);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 2);
    splitter->setStretchFactor(2, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_copy = buttons->addButton(tr("&Copy rejected rows"), QDialogButtonBox::ActionRole);
    m_save = buttons->addButton(tr("&Save rejected as CSV…"), QDialogButtonBox::ActionRole);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_copy, &QPushButton::clicked, this, &ImportSummaryDialog::copyRejects);
    connect(m_save, &QPushButton::clicked, this, &ImportSummaryDialog::saveRejects);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter, 1);
    layout->addWidget(buttons);

    fillFiles();
    connect(m_files, &QTableWidget::currentCellChanged, this, [this](int row) { selectFile(row); });
    connect(m_rejectTable, &QTableWidget::currentCellChanged, this, [this](int row) { showReject(row); });

    // Start on the first file that has rejects: that is what the summary is opened for.
    int first = 0;
    for (std::size_t i = 0; i < m_results.size(); ++i)
        if (m_results[i].counts.rejected > 0) {
            first = int(i);
            break;
        }
    if (!m_results.empty())
        m_files->setCurrentCell(first, 0);
    else
        selectFile(-1);
    resize(980, 640);
}

ImportSummaryDialog::~ImportSummaryDialog() = default;

void ImportSummaryDialog::fillFiles()
{
    const int n = int(m_results.size());
    m_files->setRowCount(n + 1);
    bt::ImportCounts total;
    std::int64_t skipped = 0;
    for (int r = 0; r < n; ++r) {
        const bt::ImportResult& res = m_results[std::size_t(r)];
        auto* file = new QTableWidgetItem(QFileInfo(qs(res.file)).fileName());
        file->setToolTip(btui::plainToolTip(qs(res.file)));
        m_files->setItem(r, ColFile, file);
        m_files->setItem(r, ColFormat, new QTableWidgetItem(qs(res.format)));
        m_files->setItem(r, ColRead, numberItem(res.counts.read));
        m_files->setItem(r, ColImported, numberItem(res.counts.imported));
        m_files->setItem(r, ColRejected, numberItem(res.counts.rejected));
        m_files->setItem(r, ColDuplicate, numberItem(res.counts.duplicate));
        m_files->setItem(r, ColSkipped, numberItem(res.skipped));
        QString status = !res.error.empty() ? qs(res.error) : res.cancelled ? tr("cancelled") : tr("done");
        // What the import assumed (a syslog year it inferred, a sending IP no record gives).
        if (!res.note.empty())
            status += u" \u2014 "_s + qs(res.note);
        auto* statusItem = new QTableWidgetItem(status);
        statusItem->setToolTip(btui::plainToolTip(status));
        m_files->setItem(r, ColStatus, statusItem);
        total.read += res.counts.read;
        total.imported += res.counts.imported;
        total.rejected += res.counts.rejected;
        total.duplicate += res.counts.duplicate;
        skipped += res.skipped;
    }
    QFont bold = m_files->font();
    bold.setBold(true);
    const QList<QTableWidgetItem*> totals = {new QTableWidgetItem(tr("Total (%n file(s))", nullptr, n)),
                                             new QTableWidgetItem,
                                             numberItem(total.read),
                                             numberItem(total.imported),
                                             numberItem(total.rejected),
                                             numberItem(total.duplicate),
                                             numberItem(skipped),
                                             new QTableWidgetItem};
    for (int c = 0; c < totals.size(); ++c) {
        totals[c]->setFont(bold);
        m_files->setItem(n, c, totals[c]);
    }
    m_files->resizeColumnsToContents();
    m_files->setColumnWidth(ColFile, std::min(m_files->columnWidth(ColFile), 280));
}

void ImportSummaryDialog::selectFile(int row)
{
    if (m_files->currentRow() != row && row >= 0 && row < m_files->rowCount()) {
        m_files->setCurrentCell(row, 0); // comes back here through currentCellChanged
        return;
    }
    m_rejects.clear();
    m_raw->clear();
    m_rejectTable->setRowCount(0);
    const bool isFile = row >= 0 && row < int(m_results.size());
    if (!isFile) {
        m_rejectsLabel->setText(tr("Select a file to see its rejected records."));
    } else if (!m_wsError.isEmpty()) {
        m_rejectsLabel->setText(m_wsError);
    } else if (const auto& res = m_results[std::size_t(row)]; res.importId > 0 && m_ws) {
        // Rejects are a small share of a file (each one kept with its raw text), read on demand.
        const QString name = QFileInfo(qs(res.file)).fileName();
        try {
            m_rejects = m_ws->rejects(res.importId);
            m_rejectsLabel->setText(m_rejects.empty()
                                        ? tr("No rejected records in %1.").arg(name)
                                        : tr("%n rejected record(s) in %1:", nullptr, int(m_rejects.size())).arg(name));
        } catch (const std::exception& e) {
            m_rejectsLabel->setText(tr("The rejected records cannot be read: %1").arg(qs(e.what())));
        }
    } else {
        m_rejectsLabel->setText(tr("Nothing of this file was imported."));
    }
    m_rejectTable->setRowCount(int(m_rejects.size()));
    for (int r = 0; r < int(m_rejects.size()); ++r) {
        const bt::Reject& rej = m_rejects[std::size_t(r)];
        m_rejectTable->setItem(r, ColLine, numberItem(rej.sourceLine));
        m_rejectTable->setItem(r, ColOffset,
                               rej.sourceOffset >= 0 ? numberItem(rej.sourceOffset) : new QTableWidgetItem);
        auto* reason = new QTableWidgetItem(qs(rej.reason));
        reason->setToolTip(btui::plainToolTip(qs(rej.reason)));
        m_rejectTable->setItem(r, ColReason, reason);
        QString raw = qs(rej.raw).simplified();
        if (raw.size() > kRawElide)
            raw = raw.left(kRawElide) + u'…';
        m_rejectTable->setItem(r, ColRaw, new QTableWidgetItem(raw));
    }
    m_rejectTable->resizeColumnsToContents();
    m_rejectTable->setColumnWidth(ColReason, std::min(m_rejectTable->columnWidth(ColReason), 420));
    m_copy->setEnabled(!m_rejects.empty());
    m_save->setEnabled(!m_rejects.empty());
}

void ImportSummaryDialog::showReject(int row)
{
    if (row < 0 || row >= int(m_rejects.size())) {
        m_raw->clear();
        return;
    }
    m_raw->setPlainText(qs(m_rejects[std::size_t(row)].raw));
}

QString ImportSummaryDialog::rejectsCsv() const
{
    QString out = u"line,offset,reason,raw\n"_s;
    for (const bt::Reject& r : m_rejects)
        out += QString::number(r.sourceLine) + u','
            + (r.sourceOffset >= 0 ? QString::number(r.sourceOffset) : QString()) + u',' + csvField(qs(r.reason)) + u','
            + csvField(qs(r.raw)) + u'\n';
    return out;
}

bool ImportSummaryDialog::saveRejectsCsv(const QString& path, QString* error) const
{
    QSaveFile file(path);
    if (file.open(QIODevice::WriteOnly)) {
        file.write(rejectsCsv().toUtf8());
        if (file.commit())
            return true;
    }
    if (error)
        *error = tr("%1 cannot be written: %2").arg(path, file.errorString());
    return false;
}

void ImportSummaryDialog::copyRejects()
{
    QApplication::clipboard()->setText(rejectsCsv());
}

void ImportSummaryDialog::saveRejects()
{
    const QString path
        = QFileDialog::getSaveFileName(this, tr("Save rejected records"), u"rejected.csv"_s, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!saveRejectsCsv(path, &error))
        m_rejectsLabel->setText(error);
}
