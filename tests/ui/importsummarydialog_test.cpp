// SPDX-License-Identifier: MIT
// Offscreen tests of the import summary: real files with broken rows imported into a temporary
// workspace; the dialog shows the counts per file and each file's rejects with their reasons.
#include "classifier.h"
#include "dialogs/importsummarydialog.h"
#include "importer.h"
#include "knowledge.h"
#include "workspace.h"

#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTableWidget>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

const std::string kData = BT_TEST_DATA;

QString cellText(QTableWidget* t, int row, int column)
{
    return t->item(row, column) ? t->item(row, column)->text() : QString();
}

} // namespace

TEST(ImportSummaryDialogTest, CountsPerFileAndRejectsWithReasons)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString wsPath = dir.filePath(u"summary.btw"_s);
    std::vector<bt::ImportResult> results;
    {
        bt::Workspace ws(QFile::encodeName(wsPath).toStdString());
        const bt::Classifier classifier(bt::KnowledgeBase::loadDefault());
        results.push_back(bt::importPath(ws, kData + "/sendgrid-bounces.csv", classifier));
        results.push_back(bt::importPath(ws, kData + "/m365-trace-detail.csv", classifier));
        results.push_back(bt::importPath(ws, kData + "/no-such-file.csv", classifier));
    }
    ASSERT_EQ(results[0].counts.rejected, 3);
    ASSERT_EQ(results[1].counts.rejected, 2);
    ASSERT_FALSE(results[2].error.empty());

    ImportSummaryDialog dialog(wsPath, results);
    dialog.show();
    auto* files = dialog.findChild<QTableWidget*>(u"files"_s);
    auto* rejects = dialog.findChild<QTableWidget*>(u"rejects"_s);
    auto* raw = dialog.findChild<QPlainTextEdit*>(u"raw"_s);
    ASSERT_TRUE(files && rejects && raw);

    // One row per file and a total row.
    ASSERT_EQ(files->rowCount(), 4);
    EXPECT_EQ(cellText(files, 0, 0), u"sendgrid-bounces.csv"_s);
    EXPECT_EQ(cellText(files, 0, 1), u"sendgrid_csv"_s);
    EXPECT_EQ(cellText(files, 0, 2), u"10"_s); // read
    EXPECT_EQ(cellText(files, 0, 3), u"6"_s); // imported
    EXPECT_EQ(cellText(files, 0, 4), u"3"_s); // rejected
    EXPECT_EQ(cellText(files, 0, 5), u"1"_s); // duplicate
    // Done, with what the import could not know said beside it (the export gives no sending IP).
    EXPECT_TRUE(cellText(files, 0, 7).startsWith(u"done"_s)) << cellText(files, 0, 7).toStdString();
    ASSERT_FALSE(results[0].note.empty());
    EXPECT_TRUE(cellText(files, 0, 7).contains(QString::fromStdString(results[0].note)))
        << cellText(files, 0, 7).toStdString();
    EXPECT_EQ(cellText(files, 1, 1), u"m365_csv"_s);
    EXPECT_EQ(cellText(files, 1, 6), QString::number(results[1].skipped));
    EXPECT_TRUE(cellText(files, 2, 7).contains(u"no such file"_s)) << cellText(files, 2, 7).toStdString();
    const auto total = [&](int column, auto member) {
        qint64 sum = 0;
        for (const auto& r : results)
            sum += member(r);
        EXPECT_EQ(cellText(files, 3, column), QString::number(sum)) << column;
    };
    total(2, [](const bt::ImportResult& r) { return r.counts.read; });
    total(3, [](const bt::ImportResult& r) { return r.counts.imported; });
    total(4, [](const bt::ImportResult& r) { return r.counts.rejected; });
    total(5, [](const bt::ImportResult& r) { return r.counts.duplicate; });
    total(6, [](const bt::ImportResult& r) { return r.skipped; });

    // The first file with rejects is shown at once.
    EXPECT_EQ(files->currentRow(), 0);
    ASSERT_EQ(rejects->rowCount(), 3);
    EXPECT_EQ(cellText(rejects, 0, 0), u"8"_s);
    EXPECT_TRUE(cellText(rejects, 0, 2).contains(u"not an e-mail address"_s)) << cellText(rejects, 0, 2).toStdString();
    EXPECT_TRUE(cellText(rejects, 1, 2).contains(u"cannot be read"_s)) << cellText(rejects, 1, 2).toStdString();
    EXPECT_TRUE(cellText(rejects, 2, 2).contains(u"fields where the header has"_s));

    // Selecting a reject shows its whole raw text, as plain text.
    rejects->setCurrentCell(0, 0);
    EXPECT_EQ(raw->toPlainText().toStdString(), dialog.currentRejects()[0].raw);
    EXPECT_TRUE(raw->toPlainText().contains(u"not-an-address"_s));

    // Another file: its own rejects; the total row and a failed file: none.
    files->setCurrentCell(1, 0);
    ASSERT_EQ(rejects->rowCount(), 2);
    EXPECT_TRUE(cellText(rejects, 0, 2).contains(u"timestamp \"sometime\""_s)) << cellText(rejects, 0, 2).toStdString();
    EXPECT_TRUE(raw->toPlainText().isEmpty());
    dialog.selectFile(2);
    EXPECT_EQ(rejects->rowCount(), 0);
    dialog.selectFile(3);
    EXPECT_EQ(rejects->rowCount(), 0);

    // Copy / save as CSV: a header and one record per reject (raw texts may span lines).
    dialog.selectFile(0);
    const QString csv = dialog.rejectsCsv();
    EXPECT_TRUE(csv.startsWith(u"line,offset,reason,raw\n"_s));
    EXPECT_TRUE(csv.contains(u"not-an-address"_s));
    const QString out = dir.filePath(u"rejected.csv"_s);
    QString error;
    ASSERT_TRUE(dialog.saveRejectsCsv(out, &error)) << error.toStdString();
    QFile saved(out);
    ASSERT_TRUE(saved.open(QIODevice::ReadOnly));
    EXPECT_EQ(QString::fromUtf8(saved.readAll()), csv);
}
