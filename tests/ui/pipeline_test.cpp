// SPDX-License-Identifier: MIT
// One email, one reading: `bouncetriage-cli diagnose --json FILE`, `bouncetriage-cli parse
// --json`, an import into a workspace read back from its events table, the core function the
// Diagnose view calls (BounceReader::diagnoseInput) and the view itself must give the same
// recipients, codes, reason and family for every file of the corpus's maildir folders.
#include "bounce.h"
#include "classifier.h"
#include "knowledge.h"
#include "sqlite.h"
#include "views/diagnoseview.h"

#include <QTemporaryDir>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace
{

namespace fs = std::filesystem;

/// What the four ways must agree on, per recipient in order.
struct Row {
    std::string recipient, basicCode, enhancedCode, reason, family;
    bool operator==(const Row&) const = default;
};

std::string describe(const std::vector<Row>& rows)
{
    if (rows.empty())
        return "(no records)";
    std::string out;
    for (const auto& r : rows)
        out += "[" + r.recipient + " " + r.basicCode + " " + r.enhancedCode + " " + r.reason + "/" + r.family + "] ";
    return out;
}

std::string readFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// Runs a command, returns its standard output (stderr goes to the test log).
std::string run(const std::string& command)
{
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p)
        return out;
    char buffer[65536];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, p)) > 0;)
        out.append(buffer, n);
    ::pclose(p);
    return out;
}

std::string quoted(const std::string& s)
{
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

Row rowOfJson(const nlohmann::json& j)
{
    auto str = [&](const char* key) {
        return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    Row r;
    r.recipient = str("recipient");
    r.basicCode = j.contains("basic_code") && j["basic_code"].is_number() ? std::to_string(j["basic_code"].get<int>())
                                                                          : std::string();
    r.enhancedCode = str("enhanced_code");
    r.reason = str("reason");
    r.family = str("family");
    return r;
}

Row rowOfRecord(const bt::BounceRecord& b)
{
    return {b.recipient, b.basicCode ? std::to_string(*b.basicCode) : std::string(), b.enhancedCode, b.diagnosis.reason,
            b.diagnosis.family};
}

/// parse --json output (or diagnose --json of one email): rows per file; error lines give none.
std::map<std::string, std::vector<Row>> rowsOfJsonLines(const std::string& out)
{
    std::map<std::string, std::vector<Row>> rows;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.empty())
            continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("file"))
            continue;
        auto& v = rows[j["file"].get<std::string>()];
        if (j.contains("recipient"))
            v.push_back(rowOfJson(j));
    }
    return rows;
}

std::shared_ptr<const bt::Classifier> classifier()
{
    static const auto c = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());
    return c;
}

} // namespace

TEST(Pipeline, DiagnoseParseImportAndViewGiveTheSameRecordsForEveryCorpusFile)
{
    // Every file of the maildir folders (bsd, dos, mac, err, not …); the mbox files of mailbox/
    // hold many messages, which `diagnose` (one email) is not for.
    const fs::path maildir = fs::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir";
    ASSERT_TRUE(fs::is_directory(maildir)) << maildir;
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(maildir))
        if (e.is_regular_file())
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    ASSERT_GT(files.size(), 600u);

    const std::string cli = BT_CLI;
    // 1. parse, once over the folder.
    const auto parsed
        = rowsOfJsonLines(run(cli + " parse --jobs 2 --json " + quoted(maildir.string()) + " 2>/dev/null"));
    // 2. import into a workspace, read back in the order the events were stored.
    QTemporaryDir tmp;
    ASSERT_TRUE(tmp.isValid());
    const std::string workspace = tmp.filePath(QStringLiteral("pipeline.btw")).toStdString();
    run(cli + " import --workspace " + quoted(workspace) + " " + quoted(maildir.string()) + " >/dev/null 2>&1");
    // The same bytes imported twice are one message (dedup): rows are keyed by content.
    std::map<std::string, std::vector<Row>> imported;
    {
        bt::sql::Database db(workspace, bt::sql::Access::ReadOnly);
        auto st = db.prepare("SELECT source_file, recipient, basic_code, enhanced_code, reason, family FROM events "
                             "ORDER BY id");
        std::map<std::string, std::vector<Row>> byFile;
        while (st.step()) {
            Row r {st.text(1), st.isNull(2) ? std::string() : std::to_string(st.int64(2)), st.text(3), st.text(4),
                   st.text(5)};
            byFile[st.text(0)].push_back(std::move(r));
        }
        for (auto& [file, rows] : byFile)
            imported[readFile(file)] = std::move(rows);
    }
    ASSERT_FALSE(imported.empty()) << "the import stored nothing";

    const bt::BounceReader reader(classifier());
    DiagnoseView view(classifier());
    std::size_t withRecords = 0, compared = 0;
    std::vector<std::string> mismatches;
    for (const auto& file : files) {
        const std::string path = file.string();
        const std::string bytes = readFile(file);
        // 3. diagnose --json FILE.
        const auto diagnosed = rowsOfJsonLines(run(cli + " diagnose --json " + quoted(path) + " 2>/dev/null"));
        const auto fromDiagnose = diagnosed.count(path) ? diagnosed.at(path) : std::vector<Row> {};
        // 4. the core function the view calls, and the view itself with the file loaded.
        std::vector<Row> fromCore, fromView;
        const auto input = reader.diagnoseInput(bytes);
        for (const auto& r : input.outcome.records)
            fromCore.push_back(rowOfRecord(r));
        view.loadFile(QString::fromStdString(path));
        view.diagnoseNow();
        for (const auto& r : view.records())
            fromView.push_back(rowOfRecord(r));

        const auto fromParse = parsed.count(path) ? parsed.at(path) : std::vector<Row> {};
        const auto fromImport = imported.count(bytes) ? imported.at(bytes) : std::vector<Row> {};
        ++compared;
        withRecords += !fromParse.empty();
        // Only a message the reader calls a bounce goes through diagnose as an email; otherwise
        // diagnose prints one reply's diagnosis without a recipient, which gives no rows here.
        if (fromDiagnose != fromParse || fromImport != fromParse || fromCore != fromParse || fromView != fromParse)
            mismatches.push_back(path + "\n    parse:    " + describe(fromParse) + "\n    diagnose: "
                                 + describe(fromDiagnose) + "\n    import:   " + describe(fromImport)
                                 + "\n    core:     " + describe(fromCore) + "\n    view:     " + describe(fromView));
    }
    std::cout << compared << " files compared, " << withRecords << " with records, " << mismatches.size()
              << " disagreeing\n";
    EXPECT_GT(withRecords, 450u);
    for (std::size_t i = 20; i < mismatches.size(); ++i)
        std::cout << "  also: " << mismatches[i].substr(0, mismatches[i].find('\n')) << "\n";
    for (std::size_t i = 0; i < mismatches.size() && i < 20; ++i)
        ADD_FAILURE() << mismatches[i];
    EXPECT_TRUE(mismatches.empty()) << mismatches.size() << " files read differently";
}
