// SPDX-License-Identifier: MIT
// Runs the real bouncetriage-cli binary and reads what it prints.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace
{

struct Run {
    int exitCode = -1;
    std::string out;
};

Run run(const std::string& args, const std::string& input)
{
    const auto in = std::filesystem::temp_directory_path() / ("bt-cli-input-" + std::to_string(::getpid()));
    std::ofstream(in, std::ios::binary) << input;
    const std::string cmd = std::string(BT_CLI) + " " + args + " < '" + in.string() + "' 2>&1";
    Run r;
    FILE* p = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf {};
    while (p && std::fgets(buf.data(), buf.size(), p))
        r.out += buf.data();
    const int status = p ? ::pclose(p) : -1;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::filesystem::remove(in);
    return r;
}

} // namespace

TEST(Cli, DiagnoseJsonHasTheDocumentedKeys)
{
    const auto r = run("diagnose --json", "550 5.1.1 <kijitora@example.jp>... User Unknown\n");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key :
         {"basic_code", "enhanced_code", "reply_text", "reason", "family", "spam_related", "confidence", "action",
          "hard_bounce", "evidence", "blocklists", "provider", "explanation", "steps"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_EQ(j["basic_code"], 550);
    EXPECT_EQ(j["enhanced_code"], "5.1.1");
    EXPECT_EQ(j["family"], "address");
    EXPECT_EQ(j["action"], "suppress");
    EXPECT_EQ(j["hard_bounce"], true);
    EXPECT_EQ(j["confidence"], "rule");
}

TEST(Cli, BareCodeGivesNullEnhancedCodeAndUnknown)
{
    const auto r = run("diagnose --json -", "550\n");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["enhanced_code"].is_null());
    EXPECT_EQ(j["family"], "unknown");
    EXPECT_EQ(j["action"], "read_text");
    EXPECT_EQ(j["confidence"], "none") << "a bare 550 says nothing: no rule, code or model decides";
}

TEST(Cli, LinesGivesOneResultPerLineInOrder)
{
    const auto r
        = run("diagnose --lines --json",
              "550 5.1.1 user unknown\r\n554 5.7.1 blocked using zen.spamhaus.org\n550\n452 4.2.2 Mailbox full\n");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    std::istringstream ss(r.out);
    std::vector<nlohmann::json> rows;
    for (std::string line; std::getline(ss, line);)
        rows.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0]["family"], "address");
    EXPECT_EQ(rows[1]["family"], "reputation");
    EXPECT_EQ(rows[1]["blocklists"][0]["name"].get<std::string>().find("Spamhaus"), 0u);
    EXPECT_EQ(rows[2]["family"], "unknown");
    EXPECT_EQ(rows[3]["family"], "capacity");
}

namespace
{

/// UTF-8 → code points (valid input only: the CLI writes valid UTF-8).
std::u32string codePoints(const std::string& text)
{
    std::u32string cps;
    for (std::size_t i = 0; i < text.size();) {
        const unsigned char c = text[i];
        const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t v = n == 1 ? c : c & (0xFF >> (n + 1));
        for (int k = 1; k < n; ++k)
            v = (v << 6) | (text[i + k] & 0x3F);
        cps.push_back(v);
        i += n;
    }
    return cps;
}

} // namespace

TEST(Cli, EvidenceOffsetsAreCodePoints)
{
    const auto r = run("diagnose --json", "550 5.1.1 Ünknown mailbox — user unknown\n");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_FALSE(j["evidence"].empty());
    // Decode reply_text to code points and check the span covers the evidence text.
    const std::u32string cps = codePoints(j["reply_text"]);
    for (const auto& e : j["evidence"]) {
        const std::size_t s = e["start"], en = e["end"];
        ASSERT_LE(en, cps.size());
        // The span, in code points, must cover exactly the evidence text (which may hold
        // non-ASCII letters itself: compare code points, not bytes).
        const std::string want = e["text"];
        EXPECT_EQ(cps.substr(s, en - s), codePoints(want)) << want;
    }
}

TEST(Cli, ReadableCardWithoutJson)
{
    const auto r = run("diagnose",
                       "550 5.7.26 Unauthenticated email from example.com is not accepted due to "
                       "domain's DMARC policy\n");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("auth"), std::string::npos);
    EXPECT_NE(r.out.find("Next steps"), std::string::npos);
}

TEST(Cli, UnreadableInputExitsTwoWithAClearMessage)
{
    auto r = run("diagnose /nonexistent/bounce.eml", "");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.out.find("/nonexistent/bounce.eml"), std::string::npos) << r.out;
    r = run("diagnose", "");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
    r = run("diagnose /tmp", "");
    EXPECT_EQ(r.exitCode, 2);
}

TEST(Cli, WholeBounceEmailFromTheCorpus)
{
    const auto path = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai/maildir/bsd/lhost-postfix-03.eml";
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    const auto r = run("diagnose --json '" + path.string() + "'", "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_FALSE(j["basic_code"].is_null());
    EXPECT_NE(j["family"], "unknown");
}

TEST(Cli, ParseAFolderInOrderOnAllCores)
{
    // Messages are read on several threads; the output must still follow the input order.
    const auto dir = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai/maildir/bsd";
    const auto r = run("parse --json '" + dir.string() + "'", "");
    ASSERT_EQ(r.exitCode, 0);
    std::istringstream ss(r.out);
    std::string previous;
    std::size_t lines = 0, withRecipient = 0, errors = 0;
    for (std::string line; std::getline(ss, line);) {
        const auto j = nlohmann::json::parse(line);
        const std::string file = j["file"];
        EXPECT_LE(previous, file) << "out of order after " << previous;
        previous = file;
        ++lines;
        if (j.contains("error"))
            ++errors;
        else if (!j["recipient"].is_null())
            ++withRecipient;
    }
    EXPECT_GT(withRecipient, 450u);
    EXPECT_LT(errors, 20u);
    EXPECT_GE(lines, 480u);
}

namespace
{

/// A file's bytes, size and modification time: what reading a workspace must leave alone.
std::string fileState(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str() + "|" + std::to_string(std::filesystem::file_size(p)) + "|"
        + std::to_string(std::filesystem::last_write_time(p).time_since_epoch().count());
}

} // namespace

TEST(Cli, WorkspacesOpenReadOnlyAndEveryFailureNamesThePath)
{
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("bt-cli-ws-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path ws = dir / "triage.btw";
    auto r = run("import --workspace '" + ws.string() + "' '" + BT_TEST_DATA + "/sendgrid-bounces.csv'", "");
    ASSERT_EQ(r.exitCode, 0) << r.out;

    // Write-protected (chmod a-w, honoured even as root): reports read it and change nothing.
    fs::permissions(ws, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                    fs::perm_options::remove);
    const auto before = fileState(ws);
    for (const char* cmd : {"report --json --by provider", "incidents --by provider", "suppressions"}) {
        r = run(std::string(cmd) + " --workspace '" + ws.string() + "'", "");
        EXPECT_EQ(r.exitCode, 0) << cmd << ": " << r.out;
    }
    EXPECT_EQ(fileState(ws), before);
    EXPECT_FALSE(fs::exists(ws.string() + "-wal"));
    EXPECT_FALSE(fs::exists(ws.string() + "-shm"));
    // Importing into it is bad input, said with the path.
    r = run("import --workspace '" + ws.string() + "' '" + BT_TEST_DATA + "/sendgrid-bounces.csv'", "");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find(ws.string() + ": the workspace file is read-only"), std::string::npos) << r.out;
    EXPECT_EQ(fileState(ws), before);
    fs::permissions(ws, fs::perms::owner_write, fs::perm_options::add);

    // Files that are no workspace: exit 2 and a message naming the file and why.
    std::ofstream(dir / "text.btw") << "not a database\n";
    fs::create_directories(dir / "folder.btw");
    for (const auto& [name, why] :
         std::vector<std::pair<std::string, std::string>> {{"missing.btw", "no such file"},
                                                           {"folder.btw", "is a folder"},
                                                           {"text.btw", "is not a Bounce Triage workspace"}}) {
        const auto path = (dir / name).string();
        r = run("report --workspace '" + path + "'", "");
        EXPECT_EQ(r.exitCode, 2) << name << ": " << r.out;
        EXPECT_NE(r.out.find(path + ": " + why), std::string::npos) << r.out;
    }
    EXPECT_FALSE(fs::exists(dir / "missing.btw")) << "a report must not create a workspace";
    fs::remove_all(dir);
}

TEST(Cli, VersionNeedsNoSubcommand)
{
    // help2man reads both to write the man page at build time.
    const auto v = run("--version", "");
    EXPECT_EQ(v.exitCode, 0) << v.out;
    EXPECT_EQ(v.out, std::string("bouncetriage-cli ") + BT_VERSION + "\n");
    const auto h = run("--help", "");
    EXPECT_EQ(h.exitCode, 0) << h.out;
    EXPECT_NE(h.out.find("--version"), std::string::npos) << h.out;
}
