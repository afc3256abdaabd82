// SPDX-License-Identifier: MIT
// Offscreen tests of the column-mapping dialog: an unknown CSV (BOM, semicolons, a quoted
// newline) → guessed mapping → live preview → saved profile → import with that profile.
#include "classifier.h"
#include "dialogs/columnmappingdialog.h"
#include "importer.h"
#include "knowledge.h"
#include "sqlite.h"
#include "workspace.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>

#include <gtest/gtest.h>

using namespace Qt::StringLiterals;

namespace
{

// The header names no importer knows; the second record's reply spans two lines.
const QByteArray kCsv = "\xEF\xBB\xBF"
                        "Sent Time;Address;Bounce Reason;SMTP Status;Mail Campaign;Sender IP\r\n"
                        "2024-05-01T10:00:00Z;alice@gmail.com;550 5.1.1 user unknown;5.1.1;spring;192.0.2.10\r\n"
                        "2024-05-01T10:05:00Z;bob@yahoo.com;\"554 5.7.9 Message not accepted\n"
                        "for policy reasons\";5.7.9;spring;192.0.2.11\r\n"
                        "2024-05-01T10:06:00Z;carol@example.org;552 mailbox full;552;autumn;192.0.2.10\r\n";

/// Points an environment variable elsewhere for the scope (the CLI started meanwhile inherits it).
class ScopedEnv
{
public:
    ScopedEnv(const char* name, const QString& value)
        : m_name(name)
        , m_old(qgetenv(name))
        , m_had(qEnvironmentVariableIsSet(name))
    {
        qputenv(name, QFile::encodeName(value));
    }
    ~ScopedEnv()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* m_name;
    QByteArray m_old;
    bool m_had;
};

struct CliRun {
    int exitCode = -1;
    QString out; ///< stdout and stderr
};

/// Runs the real bouncetriage-cli from `cwd` (another folder than the profiles').
CliRun runCli(const QStringList& args, const QString& cwd)
{
    QProcess cli;
    cli.setWorkingDirectory(cwd);
    cli.setProcessChannelMode(QProcess::MergedChannels);
    cli.start(QString::fromUtf8(BT_CLI), args);
    CliRun r;
    if (!cli.waitForFinished(60000))
        return r;
    r.exitCode = cli.exitStatus() == QProcess::NormalExit ? cli.exitCode() : -1;
    r.out = QString::fromUtf8(cli.readAll());
    return r;
}

std::string local(const QString& path)
{
    return QFile::encodeName(path).toStdString();
}

/// The preview cell of `field` on preview row `row`; empty when the field is not shown.
QString previewCell(QTableWidget* preview, const QString& field, int row)
{
    for (int c = 0; c < preview->columnCount(); ++c)
        if (preview->horizontalHeaderItem(c)->text() == field)
            return preview->item(row, c) ? preview->item(row, c)->text() : QString();
    return {};
}

class ColumnMappingDialogTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        ASSERT_TRUE(dir.isValid());
        csvPath = dir.filePath(u"unknown-export.csv"_s);
        QFile f(csvPath);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(kCsv);
    }
    void TearDown() override
    {
        // Profiles land in the run's own XDG_CONFIG_HOME (uitests_main); leave none behind.
        QFile::remove(ColumnMappingDialog::profilesDir() + u'/' + profileName + u".json"_s);
    }

    QTemporaryDir dir;
    QString csvPath;
    const QString profileName = u"uitest-unknown-export"_s;
};

} // namespace

TEST_F(ColumnMappingDialogTest, GuessesPreviewsSavesAndImports)
{
    ASSERT_EQ(bt::detectFormat(local(csvPath)), "csv"); // really a file no importer knows

    ColumnMappingDialog dialog(csvPath);
    dialog.show();
    EXPECT_EQ(dialog.delimiter(), ';');
    EXPECT_EQ(dialog.headers(),
              QStringList({u"Sent Time"_s, u"Address"_s, u"Bounce Reason"_s, u"SMTP Status"_s, u"Mail Campaign"_s,
                           u"Sender IP"_s}))
        << "the BOM must not stick to the first header";

    // Guesses from the header names.
    EXPECT_EQ(dialog.mappedHeader(u"recipient"_s), u"Address"_s);
    EXPECT_EQ(dialog.mappedHeader(u"reply"_s), u"Bounce Reason"_s);
    EXPECT_EQ(dialog.mappedHeader(u"timestamp"_s), u"Sent Time"_s);
    EXPECT_EQ(dialog.mappedHeader(u"status"_s), u"SMTP Status"_s);
    EXPECT_EQ(dialog.mappedHeader(u"campaign"_s), u"Mail Campaign"_s);
    EXPECT_EQ(dialog.mappedHeader(u"sending_ip"_s), u"Sender IP"_s);
    EXPECT_TRUE(dialog.mappedHeader(u"envelope_sender"_s).isEmpty()) << "Sender IP is taken by sending_ip";
    EXPECT_TRUE(dialog.mappedHeader(u"message_id"_s).isEmpty());
    EXPECT_TRUE(dialog.isComplete()) << dialog.problem().toStdString();

    // The preview shows what the importer reads, the quoted newline kept in one record.
    auto* preview = dialog.findChild<QTableWidget*>(u"preview"_s);
    ASSERT_NE(preview, nullptr);
    ASSERT_EQ(preview->rowCount(), 3);
    EXPECT_EQ(previewCell(preview, u"recipient"_s, 1), u"bob@yahoo.com"_s);
    EXPECT_TRUE(previewCell(preview, u"reply"_s, 1).startsWith(u"554 5.7.9 Message not accepted"_s));
    EXPECT_TRUE(previewCell(preview, u"reply"_s, 1).endsWith(u"for policy reasons"_s));
    EXPECT_EQ(previewCell(preview, u"reply"_s, 0), u"550 5.1.1 user unknown"_s);

    // Changing a combo updates the preview at once.
    auto* replyBox = dialog.findChild<QComboBox*>(u"field_reply"_s);
    ASSERT_NE(replyBox, nullptr);
    EXPECT_EQ(replyBox->itemText(0), u"(not in this file)"_s);
    replyBox->setCurrentIndex(replyBox->findData(u"SMTP Status"_s));
    EXPECT_EQ(previewCell(preview, u"reply"_s, 0), u"5.1.1"_s);
    replyBox->setCurrentIndex(replyBox->findData(u"Bounce Reason"_s));
    EXPECT_EQ(previewCell(preview, u"reply"_s, 0), u"550 5.1.1 user unknown"_s);

    // OK only with a recipient and a reply or status, and the label says why.
    auto* ok = dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    auto* problem = dialog.findChild<QLabel*>(u"problem"_s);
    EXPECT_TRUE(ok->isEnabled());
    ASSERT_TRUE(dialog.setMapping(u"recipient"_s, QString()));
    EXPECT_FALSE(ok->isEnabled());
    EXPECT_TRUE(problem->text().contains(u"recipient"_s)) << problem->text().toStdString();
    EXPECT_TRUE(previewCell(preview, u"recipient"_s, 0).isEmpty());
    ASSERT_TRUE(dialog.setMapping(u"recipient"_s, u"Address"_s));
    ASSERT_TRUE(dialog.setMapping(u"reply"_s, QString()));
    ASSERT_TRUE(dialog.setMapping(u"status"_s, QString()));
    EXPECT_FALSE(ok->isEnabled());
    EXPECT_TRUE(problem->text().contains(u"reply"_s)) << problem->text().toStdString();
    ASSERT_TRUE(dialog.setMapping(u"reply"_s, u"Bounce Reason"_s));
    ASSERT_TRUE(dialog.setMapping(u"status"_s, u"SMTP Status"_s));
    EXPECT_TRUE(ok->isEnabled());
    EXPECT_FALSE(dialog.setMapping(u"reply"_s, u"No Such Column"_s));

    // Another delimiter re-reads the file; going back restores the guesses.
    dialog.setDelimiter(',');
    EXPECT_EQ(dialog.headers().size(), 1);
    EXPECT_FALSE(dialog.isComplete());
    dialog.setDelimiter(';');
    EXPECT_EQ(dialog.mappedHeader(u"recipient"_s), u"Address"_s);

    // Save, then read it back with the core's own loader.
    dialog.findChild<QLineEdit*>(u"profileName"_s)->setText(profileName);
    QString error;
    ASSERT_TRUE(dialog.saveProfile(&error)) << error.toStdString();
    const QString saved = ColumnMappingDialog::profilesDir() + u'/' + profileName + u".json"_s;
    ASSERT_TRUE(QFile::exists(saved));
    const bt::CsvProfile loaded = bt::CsvProfile::load(local(saved));
    EXPECT_EQ(loaded.name, profileName.toStdString());
    EXPECT_EQ(loaded.delimiter, ';');
    EXPECT_EQ(loaded.columns.at("recipient"), "Address");
    EXPECT_EQ(loaded.columns.at("reply"), "Bounce Reason");
    EXPECT_EQ(loaded.columns.at("sending_ip"), "Sender IP");
    EXPECT_EQ(loaded.columns.count("message_id"), 0u);

    EXPECT_TRUE(ColumnMappingDialog::savedProfiles().contains(profileName));
    const auto viaName = ColumnMappingDialog::loadProfile(profileName);
    ASSERT_TRUE(viaName.has_value());
    EXPECT_EQ(viaName->columns, loaded.columns);
    // A second import of the same kind of export finds the profile by its headers.
    const auto matched = ColumnMappingDialog::matchingProfile(csvPath);
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(matched->name, profileName.toStdString());
    {
        const QString other = dir.filePath(u"other.csv"_s);
        QFile f(other);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("Address;Something Else\nx@example.com;y\n");
        f.close();
        const auto none = ColumnMappingDialog::matchingProfile(other);
        EXPECT_TRUE(!none || none->name != profileName.toStdString());
    }

    // The importer reads the file with that profile into a workspace.
    const QString wsPath = dir.filePath(u"mapped.btw"_s);
    bt::Workspace ws(local(wsPath));
    const bt::Classifier classifier(bt::KnowledgeBase::loadDefault());
    const bt::ImportResult r = bt::importPath(ws, local(csvPath), classifier, nullptr, &loaded);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.format, "csv:" + profileName.toStdString());
    EXPECT_EQ(r.counts.read, 3);
    EXPECT_EQ(r.counts.imported, 3);
    EXPECT_EQ(r.counts.rejected, 0);
    auto st = ws.db().prepare("SELECT reply_text, campaign, sending_ip, reason FROM events WHERE recipient = "
                              "'bob@yahoo.com'");
    ASSERT_TRUE(st.step());
    EXPECT_NE(st.text(0).find("for policy reasons"), std::string::npos);
    EXPECT_EQ(st.text(1), "spring");
    EXPECT_EQ(st.text(2), "192.0.2.11");
}

TEST_F(ColumnMappingDialogTest, GuessesFromDsnStyleHeaders)
{
    // "recipient" contains "ip" and "Diagnostic-Code" contains "code": neither may mislead.
    const QString path = dir.filePath(u"dsn-style.csv"_s);
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("Recipient,Reply-To,Diagnostic-Code,SMTP Code,Event,Timestamp,Message-ID,IP\n"
            "a@example.com,b@example.com,550 5.1.1 unknown,550,bounce,2024-05-01T10:00:00Z,<m@x>,192.0.2.1\n");
    f.close();
    ColumnMappingDialog dialog(path);
    EXPECT_EQ(dialog.delimiter(), ',');
    EXPECT_EQ(dialog.mappedHeader(u"recipient"_s), u"Recipient"_s);
    EXPECT_EQ(dialog.mappedHeader(u"reply"_s), u"Diagnostic-Code"_s);
    EXPECT_EQ(dialog.mappedHeader(u"basic_code"_s), u"SMTP Code"_s);
    EXPECT_EQ(dialog.mappedHeader(u"event_type"_s), u"Event"_s);
    EXPECT_EQ(dialog.mappedHeader(u"timestamp"_s), u"Timestamp"_s);
    EXPECT_EQ(dialog.mappedHeader(u"message_id"_s), u"Message-ID"_s);
    EXPECT_EQ(dialog.mappedHeader(u"sending_ip"_s), u"IP"_s);
    EXPECT_TRUE(dialog.mappedHeader(u"status"_s).isEmpty());
    EXPECT_TRUE(dialog.isComplete());
}

TEST_F(ColumnMappingDialogTest, UnreadableFileSaysSo)
{
    ColumnMappingDialog dialog(dir.filePath(u"missing.csv"_s));
    EXPECT_FALSE(dialog.isComplete());
    EXPECT_TRUE(dialog.problem().contains(u"cannot be read"_s)) << dialog.problem().toStdString();
    EXPECT_FALSE(dialog.findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok)->isEnabled());
}

// Settings in one place (issue 13, item 8): what the window saves, the CLI finds by name.
TEST_F(ColumnMappingDialogTest, ProfileSavedByTheWindowIsUsedByTheCli)
{
    const ScopedEnv config("XDG_CONFIG_HOME", dir.filePath(u"config"_s));
    ColumnMappingDialog dialog(csvPath);
    ASSERT_TRUE(dialog.isComplete()) << dialog.problem().toStdString();
    dialog.findChild<QLineEdit*>(u"profileName"_s)->setText(u"crm export"_s);
    QString error;
    ASSERT_TRUE(dialog.saveProfile(&error)) << error.toStdString();
    const QString saved = dir.filePath(u"config/bouncetriage/profiles/crm export.json"_s);
    ASSERT_TRUE(QFile::exists(saved)) << "saved under $XDG_CONFIG_HOME/bouncetriage/profiles";
    EXPECT_EQ(ColumnMappingDialog::profilesDir(), dir.filePath(u"config/bouncetriage/profiles"_s));

    const QString elsewhere = dir.filePath(u"elsewhere"_s);
    ASSERT_TRUE(QDir().mkpath(elsewhere));
    const CliRun listed = runCli({u"profiles"_s}, elsewhere);
    EXPECT_EQ(listed.exitCode, 0) << listed.out.toStdString();
    EXPECT_EQ(listed.out, u"crm export\t"_s + saved + u'\n');

    const QString ws = dir.filePath(u"by-name.btw"_s);
    const CliRun imported
        = runCli({u"import"_s, u"--workspace"_s, ws, u"--profile"_s, u"crm export"_s, csvPath}, elsewhere);
    EXPECT_EQ(imported.exitCode, 0) << imported.out.toStdString();
    EXPECT_TRUE(imported.out.contains(u"(csv:crm export): read 3, imported 3, rejected 0"_s))
        << imported.out.toStdString();

    // A name that is neither a file nor a saved profile says where it looked and what there is,
    // and leaves no workspace behind.
    const QString ws2 = dir.filePath(u"never.btw"_s);
    const CliRun unknown = runCli({u"import"_s, u"--workspace"_s, ws2, u"--profile"_s, u"crm"_s, csvPath}, elsewhere);
    EXPECT_EQ(unknown.exitCode, 2) << unknown.out.toStdString();
    EXPECT_TRUE(unknown.out.contains(u"neither a file nor a saved profile"_s)) << unknown.out.toStdString();
    EXPECT_TRUE(unknown.out.contains(u"(saved: crm export)"_s)) << unknown.out.toStdString();
    EXPECT_FALSE(QFile::exists(ws2));
    // A path is a path, never a name.
    const CliRun missingFile
        = runCli({u"import"_s, u"--workspace"_s, ws2, u"--profile"_s, u"./crm export.json"_s, csvPath}, elsewhere);
    EXPECT_EQ(missingFile.exitCode, 2) << missingFile.out.toStdString();
    EXPECT_TRUE(missingFile.out.contains(u"no such profile file"_s)) << missingFile.out.toStdString();
}

TEST_F(ColumnMappingDialogTest, ProfilesOfOlderVersionsMoveToTheConfigFolder)
{
    const ScopedEnv config("XDG_CONFIG_HOME", dir.filePath(u"config"_s));
    const ScopedEnv data("XDG_DATA_HOME", dir.filePath(u"data"_s));
    // Where the window kept them before: Qt's AppDataLocation for "BounceTriage/Bounce Triage".
    const QString legacy = dir.filePath(u"data/BounceTriage/Bounce Triage/profiles"_s);
    ASSERT_TRUE(QDir().mkpath(legacy));
    {
        QFile f(legacy + u"/old export.json"_s);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write(R"({"name": "old export", "delimiter": ";", "columns": {"recipient": "Address",
                   "reply": "Bounce Reason", "timestamp": "Sent Time"}})");
    }
    EXPECT_EQ(ColumnMappingDialog::savedProfiles(), QStringList {u"old export"_s});
    EXPECT_TRUE(QFile::exists(dir.filePath(u"config/bouncetriage/profiles/old export.json"_s)));
    EXPECT_TRUE(QFile::exists(legacy + u"/old export.json"_s)) << "the old folder is kept";
    const auto matched = ColumnMappingDialog::matchingProfile(csvPath);
    ASSERT_TRUE(matched.has_value());
    EXPECT_EQ(matched->name, "old export");

    const CliRun listed = runCli({u"profiles"_s, u"--json"_s}, dir.path());
    EXPECT_EQ(listed.exitCode, 0) << listed.out.toStdString();
    EXPECT_TRUE(listed.out.contains(u"\"name\":\"old export\""_s)) << listed.out.toStdString();
    EXPECT_TRUE(listed.out.contains(u"\"recipient\":\"Address\""_s)) << listed.out.toStdString();
}

// The preview rejects what the importer rejects, with the importer's own words: the dialog and
// the import ask the same function (bt::checkProfileRecord), so a test of both on one file keeps
// them from drifting apart.
TEST_F(ColumnMappingDialogTest, PreviewRejectsWhatTheImportRejects)
{
    const QString path = dir.filePath(u"mixed.csv"_s);
    {
        QFile f(path);
        ASSERT_TRUE(f.open(QIODevice::WriteOnly));
        f.write("When,Who,What happened,Answer\n"
                "2024-05-01T10:00:00Z,alice@example.com,bounce,550 5.1.1 user unknown\n"
                ",bob@example.com,bounce,552 mailbox full\n"
                "2024-05-01T10:02:00Z,carol@example.com,bogus,550 no\n"
                "2024-05-01T10:03:00Z,dave@example.com,open,\n"
                "2024-05-01T10:04:00Z,not an address,bounce,550 5.1.1 unknown\n"
                "yesterday-ish,erin@example.com,bounce,550 5.1.1 unknown\n");
    }
    ColumnMappingDialog dialog(path);
    ASSERT_TRUE(dialog.setMapping(u"timestamp"_s, u"When"_s));
    ASSERT_TRUE(dialog.setMapping(u"recipient"_s, u"Who"_s));
    ASSERT_TRUE(dialog.setMapping(u"event_type"_s, u"What happened"_s));
    ASSERT_TRUE(dialog.setMapping(u"reply"_s, u"Answer"_s));
    dialog.findChild<QLineEdit*>(u"profileName"_s)->setText(profileName);
    ASSERT_TRUE(dialog.isComplete()) << dialog.problem().toStdString();

    auto* preview = dialog.findChild<QTableWidget*>(u"preview"_s);
    ASSERT_NE(preview, nullptr);
    ASSERT_EQ(preview->rowCount(), 6);
    // Row by row: the first column holds the value, or what happens to the record instead.
    QStringList firstColumn;
    for (int r = 0; r < preview->rowCount(); ++r)
        firstColumn << (preview->item(r, 0) ? preview->item(r, 0)->text() : QString());
    const QString col0 = preview->horizontalHeaderItem(0)->text();
    EXPECT_FALSE(firstColumn[0].startsWith(u"rejected"_s)) << firstColumn[0].toStdString();
    EXPECT_TRUE(firstColumn[1].startsWith(u"rejected: no timestamp (field \"When\""_s)) << firstColumn[1].toStdString();
    EXPECT_TRUE(firstColumn[2].startsWith(u"rejected: event type \"bogus\" (field \"What happened\")"_s))
        << firstColumn[2].toStdString();
    EXPECT_TRUE(firstColumn[3].startsWith(u"skipped"_s)) << firstColumn[3].toStdString();
    EXPECT_TRUE(firstColumn[4].startsWith(u"rejected: recipient \"not an address\" (field \"Who\")"_s))
        << firstColumn[4].toStdString();
    EXPECT_TRUE(firstColumn[5].startsWith(u"rejected: timestamp \"yesterday-ish\""_s)) << firstColumn[5].toStdString();
    auto* problem = dialog.findChild<QLabel*>(u"problem"_s);
    EXPECT_TRUE(problem->text().contains(u"4 of the first 6 would be rejected (line 3, rejected: no timestamp"_s))
        << problem->text().toStdString();
    EXPECT_TRUE(problem->text().contains(u"1 would be skipped"_s)) << problem->text().toStdString();

    // Without a time column nothing could be imported: the dialog says so before the import does.
    ASSERT_TRUE(dialog.setMapping(u"timestamp"_s, QString()));
    EXPECT_FALSE(dialog.isComplete());
    EXPECT_TRUE(problem->text().contains(u"time of each event"_s)) << problem->text().toStdString();
    ASSERT_TRUE(dialog.setMapping(u"timestamp"_s, u"When"_s));

    // The import of the same file with the same mapping rejects the same lines for the same reasons.
    bt::Workspace ws(local(dir.filePath(u"mixed.btw"_s)));
    const bt::Classifier classifier(bt::KnowledgeBase::loadDefault());
    const bt::CsvProfile mapping = dialog.profile();
    const bt::ImportResult r = bt::importPath(ws, local(path), classifier, nullptr, &mapping);
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.counts.read, 5);
    EXPECT_EQ(r.counts.imported, 1);
    EXPECT_EQ(r.counts.rejected, 4);
    EXPECT_EQ(r.skipped, 1);
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 4u);
    for (const auto& reject : rejects) {
        const int row = int(reject.sourceLine) - 2; // line 2 is the first record, preview row 0
        ASSERT_GE(row, 0);
        ASSERT_LT(row, firstColumn.size());
        // "line 3: no timestamp …" in the workspace, "rejected: no timestamp …" in the preview.
        const QString why = QString::fromStdString(reject.reason);
        const QString stored = why.mid(why.indexOf(u": "_s) + 2);
        EXPECT_EQ(u"rejected: "_s + stored, firstColumn[row])
            << "line " << reject.sourceLine << " (" << col0.toStdString() << ")";
    }
}
