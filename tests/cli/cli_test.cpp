// SPDX-License-Identifier: MIT
// Runs the real bouncetriage-cli binary and reads what it prints.
#include "../core/testsupport.h"
#include "../fixturereplies.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <poll.h>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace
{

using Run = testsupport::CommandRun;

/// The CLI with `args`, reading `input` on its standard input.
Run run(const std::string& args, const std::string& input)
{
    const auto in = std::filesystem::temp_directory_path() / ("bt-cli-input-" + std::to_string(::getpid()));
    std::ofstream(in, std::ios::binary) << input;
    Run r = testsupport::shell(std::string(BT_CLI) + " " + args + " < '" + in.string() + "'");
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
    EXPECT_EQ(r.exitCode, 1) << "no input is nothing done, not bad input";
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

TEST(Cli, ParseWithChosenFormatModulesOnly)
{
    // A Yahoo bounce read as if no module knew Yahoo: the generic reader answers, with the same
    // recipient; a module name that does not exist is refused and named.
    const auto path = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai/maildir/bsd/lhost-yahoo-05.eml";
    const auto all = run("parse --json '" + path.string() + "'", "");
    const auto only = run("parse --json --formats arf,auto_reply,rfc3464,generic '" + path.string() + "'", "");
    ASSERT_EQ(all.exitCode, 0) << all.out;
    ASSERT_EQ(only.exitCode, 0) << only.out;
    // The first JSON line (stderr's summary is mixed in by run()).
    auto first = [](const std::string& out) { return nlohmann::json::parse(out.substr(0, out.find('\n'))); };
    const auto a = first(all.out.substr(all.out.find('{')));
    const auto o = first(only.out.substr(only.out.find('{')));
    EXPECT_EQ(a["format"], "yahoo");
    EXPECT_EQ(o["format"], "generic");
    EXPECT_EQ(o["recipient"], a["recipient"]);
    const auto bad = run("parse --formats generic,yahooo '" + path.string() + "'", "");
    EXPECT_NE(bad.exitCode, 0);
    EXPECT_NE(bad.out.find("yahooo"), std::string::npos) << bad.out;
}

namespace
{

/// The CLI as a co-process: its standard input and output are pipes held by the test.
struct CoProcess {
    pid_t pid = -1;
    int in = -1; ///< we write its input here
    int out = -1; ///< and read its output here

    explicit CoProcess(const std::vector<std::string>& args)
    {
        int toChild[2], fromChild[2];
        if (::pipe(toChild) != 0 || ::pipe(fromChild) != 0)
            return;
        pid = ::fork();
        if (pid == 0) {
            ::dup2(toChild[0], 0);
            ::dup2(fromChild[1], 1);
            ::close(toChild[1]);
            ::close(fromChild[0]);
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(BT_CLI));
            for (const auto& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(BT_CLI, argv.data());
            ::_exit(127);
        }
        ::close(toChild[0]);
        ::close(fromChild[1]);
        in = toChild[1];
        out = fromChild[0];
    }
    /// One line of output, waiting at most `seconds`; nullopt on timeout or end of output.
    std::optional<std::string> readLine(int seconds)
    {
        std::string line;
        for (;;) {
            if (const auto nl = m_buffer.find('\n'); nl != std::string::npos) {
                line = m_buffer.substr(0, nl);
                m_buffer.erase(0, nl + 1);
                return line;
            }
            pollfd p {out, POLLIN, 0};
            if (::poll(&p, 1, seconds * 1000) <= 0)
                return std::nullopt;
            char buf[65536];
            const auto n = ::read(out, buf, sizeof buf);
            if (n <= 0)
                return std::nullopt;
            m_buffer.append(buf, static_cast<std::size_t>(n));
        }
    }
    /// Peak resident memory so far (VmHWM, kB) of the running co-process.
    long peakKb() const
    {
        std::ifstream status("/proc/" + std::to_string(pid) + "/status");
        for (std::string l; std::getline(status, l);)
            if (l.rfind("VmHWM:", 0) == 0)
                return std::stol(l.substr(6));
        return -1;
    }
    int wait()
    {
        if (in >= 0)
            ::close(in);
        in = -1;
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (out >= 0)
            ::close(out);
        out = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ~CoProcess()
    {
        if (pid > 0 && (in >= 0 || out >= 0))
            wait();
    }

private:
    std::string m_buffer;
};

bool writeAll(int fd, const std::string& s)
{
    std::size_t done = 0;
    while (done < s.size()) {
        const auto n = ::write(fd, s.data() + done, s.size() - done);
        if (n <= 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace

// A script (or Spark's RDD.pipe, a ClickHouse executable function) writes a reply and waits for
// its answer before it writes the next: each answer must come while the input stays open.
TEST(Cli, DiagnoseLinesAnswersEachLineWhileTheInputStaysOpen)
{
    CoProcess cli({"diagnose", "--json", "--lines", "--brief"});
    ASSERT_GT(cli.pid, 0);
    const std::string first
        = "550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown in virtual mailbox table\n";
    ASSERT_TRUE(writeAll(cli.in, first));
    const auto a = cli.readLine(20);
    ASSERT_TRUE(a) << "no answer to the first line while the input is open";
    EXPECT_EQ(nlohmann::json::parse(*a)["reason"], "userunknown");
    for (const std::string reply : {"552 5.2.2 Mailbox full", "421 4.7.0 Try again later, closing connection"}) {
        ASSERT_TRUE(writeAll(cli.in, reply + "\n"));
        const auto answer = cli.readLine(20);
        ASSERT_TRUE(answer) << "no answer to " << reply;
        const auto j = nlohmann::json::parse(*answer);
        EXPECT_EQ(j["reply_text"], reply);
        EXPECT_FALSE(j.contains("explanation")); // --brief
    }
    EXPECT_EQ(cli.wait(), 0);
}

// parse reads an mbox from standard input as it comes: a message's results leave once the next
// "From " line shows it is complete, while the input stays open; at the end, the same records as
// parsing the file.
TEST(Cli, ParseReadsAnMboxFromStandardInputAsItComes)
{
    const auto path = std::filesystem::path(BT_SHARED_DIR) / "corpus/sisimai/mailbox/mbox-0";
    std::ifstream f(path, std::ios::binary);
    const std::string mbox((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // The messages of the mbox (CRLF lines), split at "From " lines after a blank line.
    std::vector<std::string> messages;
    for (std::size_t start = 0; start < mbox.size();) {
        auto next = mbox.find("\r\n\r\nFrom ", start);
        const auto end = next == std::string::npos ? mbox.size() : next + 4;
        messages.push_back(mbox.substr(start, end - start));
        start = end;
    }
    ASSERT_GE(messages.size(), 3u);
    CoProcess cli({"parse", "--json", "--jobs", "1", "-"});
    ASSERT_GT(cli.pid, 0);
    ASSERT_TRUE(writeAll(cli.in, messages[0] + messages[1]));
    // The second "From " line closed the first message: its result comes before any more input.
    const auto first = cli.readLine(20);
    ASSERT_TRUE(first) << "no result for the first message while the input is open";
    const auto j = nlohmann::json::parse(*first);
    EXPECT_EQ(j["file"], "-");
    EXPECT_EQ(j["message_index"], 0);
    std::string rest;
    for (std::size_t i = 2; i < messages.size(); ++i)
        rest += messages[i];
    ASSERT_TRUE(writeAll(cli.in, rest));
    ::close(cli.in);
    cli.in = -1;
    std::string streamed = *first + "\n";
    while (auto line = cli.readLine(20))
        streamed += *line + "\n";
    EXPECT_EQ(cli.wait(), 0);
    // The same records as the file gives, named "-".
    const auto fromFile = run("parse --json '" + path.string() + "'", "");
    std::string expected;
    std::istringstream lines(fromFile.out);
    for (std::string l; std::getline(lines, l);) {
        if (l.empty() || l[0] != '{')
            continue;
        auto r = nlohmann::ordered_json::parse(l);
        r["file"] = "-";
        expected += r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    EXPECT_EQ(streamed, expected);
}

// A million lines through the pipe: one answer per line, in order, and memory that does not grow
// with the input (the memo of repeated replies is bounded).
TEST(Cli, DiagnoseLinesStreamsAMillionLinesInOrderWithFlatMemory)
{
    const auto replies = fixtureReplies(BT_SHARED_DIR);
    ASSERT_GT(replies.size(), 100u);
    constexpr std::size_t kLines = 1000000;
    // Every 50th line is one of its own (a new address), so order is checked along the way and
    // the memo sees 20 000 distinct replies beside the repeated ones.
    auto lineAt = [&](std::size_t i) {
        return i % 50 == 0 ? "550 5.1.1 <user" + std::to_string(i) + "@example.com>: Recipient address rejected"
                           : replies[i % replies.size()];
    };
    CoProcess cli({"diagnose", "--json", "--lines", "--brief"});
    ASSERT_GT(cli.pid, 0);
    std::thread writer([&] {
        std::string block;
        for (std::size_t i = 0; i < kLines; ++i) {
            block += lineAt(i);
            block += '\n';
            if (block.size() > 65536 && writeAll(cli.in, block))
                block.clear();
        }
        writeAll(cli.in, block);
        ::close(cli.in);
        cli.in = -1;
    });
    std::size_t count = 0, misplaced = 0;
    long peakAtTenth = -1, peakNearEnd = -1;
    while (auto line = cli.readLine(60)) {
        if (count % 50 == 0 && line->find("<user" + std::to_string(count) + "@example.com>") == std::string::npos)
            ++misplaced;
        ++count;
        if (count == kLines / 10)
            peakAtTenth = cli.peakKb();
        if (count == kLines - 1000)
            peakNearEnd = cli.peakKb();
    }
    writer.join();
    EXPECT_EQ(cli.wait(), 0);
    EXPECT_EQ(count, kLines);
    EXPECT_EQ(misplaced, 0u);
    ASSERT_GT(peakAtTenth, 0);
    std::cout << "peak memory after 100 000 lines " << peakAtTenth << " kB, after 999 000 " << peakNearEnd << " kB\n";
    // Flat: the last 90 % of the input add at most the memo's bound (16 384 answers of ~1 KB).
    EXPECT_LT(peakNearEnd - peakAtTenth, 40 * 1024) << peakAtTenth << " kB → " << peakNearEnd << " kB";
    EXPECT_LT(peakNearEnd, 200 * 1024);
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

TEST(Cli, AByteFlippedWorkspaceIsReportedAsDamaged)
{
    // A workspace damaged on disk is bad input, said with the path, not an empty report.
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("bt-cli-flipped-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path ws = dir / "triage.btw";
    auto r = run("import --workspace '" + ws.string() + "' '" + BT_TEST_DATA + "/sendgrid-bounces.csv'", "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    testsupport::flipRootPageType(ws.string(), "events");
    for (const char* cmd : {"report --by provider", "suppressions"}) {
        r = run(std::string(cmd) + " --workspace '" + ws.string() + "'", "");
        EXPECT_EQ(r.exitCode, 2) << cmd << ": " << r.out;
        EXPECT_NE(r.out.find(ws.string() + ": is damaged"), std::string::npos) << cmd << ": " << r.out;
    }
    r = run("import --workspace '" + ws.string() + "' '" + BT_TEST_DATA + "/sendgrid-bounces.csv'", "");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find(ws.string() + ": is damaged"), std::string::npos) << r.out;
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

namespace
{

/// Lines of JSON Lines output.
std::vector<nlohmann::json> jsonLines(const std::string& out)
{
    std::vector<nlohmann::json> rows;
    std::istringstream ss(out);
    for (std::string line; std::getline(ss, line);)
        rows.push_back(nlohmann::json::parse(line));
    return rows;
}

/// A workspace of the SendGrid bounce export (Gmail, Yahoo, Microsoft, Comcast…), made once.
class CliWorkspace : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        namespace fs = std::filesystem;
        s_dir = fs::temp_directory_path() / ("bt-cli-filter-" + std::to_string(::getpid()));
        fs::remove_all(s_dir);
        fs::create_directories(s_dir);
        s_ws = (s_dir / "triage.btw").string();
        const auto r = run("import --workspace '" + s_ws + "' '" + BT_TEST_DATA + "/sendgrid-bounces.csv'", "");
        ASSERT_EQ(r.exitCode, 0) << r.out;
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(s_dir); }

    static ::Run on(const std::string& command, const std::string& options = "")
    {
        return run(command + " --workspace '" + s_ws + "' " + options, "");
    }

    static inline std::filesystem::path s_dir;
    static inline std::string s_ws;
};

} // namespace

TEST_F(CliWorkspace, FiltersNarrowReportIncidentsAndSuppressions)
{
    auto r = on("report --json --by provider");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    std::int64_t all = 0, gmail = 0;
    for (const auto& j : jsonLines(r.out)) {
        all += j["bounces"].get<std::int64_t>();
        if (j["key"] == "Gmail")
            gmail = j["bounces"];
    }
    ASSERT_GT(gmail, 0);
    ASSERT_GT(all, gmail);

    // The GUI's keys, repeatable; a provider by its first word, any case.
    r = on("report --json --by provider", "--filter provider=GMAIL");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    auto rows = jsonLines(r.out);
    ASSERT_EQ(rows.size(), 1u) << r.out;
    EXPECT_EQ(rows[0]["key"], "Gmail");
    r = on("report --json --by provider", "--filter provider=microsoft --filter provider=gmail");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    rows = jsonLines(r.out);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    for (const auto& j : rows)
        EXPECT_TRUE(j["key"] == "Gmail" || j["key"] == "Microsoft 365 / Outlook.com") << j;

    // By reason: the Gmail bounces again, now split by what they say.
    r = on("report --json --by reason", "--filter provider=gmail");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    std::int64_t byReason = 0;
    for (const auto& j : jsonLines(r.out))
        byReason += j["bounces"].get<std::int64_t>();
    EXPECT_EQ(byReason, gmail);
    r = on("report --by reason");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(r.out.rfind("reason", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("userunknown"), std::string::npos) << r.out;

    // Bounce fields narrow the counted bounces; the text report shows every count the JSON has.
    r = on("report --by provider", "--filter family=address");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    for (const char* column : {"deferred", "complaints", "delivered", "lifted"})
        EXPECT_NE(r.out.find(column), std::string::npos) << column << "\n" << r.out;

    // Suppressions: only Gmail's addresses under provider=gmail.
    r = on("suppressions");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("dave@example.org"), std::string::npos) << r.out;
    r = on("suppressions", "--filter provider=gmail");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("alice@gmail.com"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("dave@example.org"), std::string::npos) << r.out;

    // Incidents take the same filters (and none here, the file spans minutes).
    r = on("incidents --by ip", "--filter family=reputation --filter from=2023-11-14");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("no incidents"), std::string::npos) << r.out;
}

TEST_F(CliWorkspace, DatesAreIso8601OrAnError)
{
    auto count = [](const ::Run& r) {
        std::int64_t n = 0;
        for (const auto& j : jsonLines(r.out))
            n += j["bounces"].get<std::int64_t>();
        return n;
    };
    const auto all = on("report --json");
    ASSERT_EQ(all.exitCode, 0) << all.out;
    // 1700000000 is 2023-11-14T22:13:20Z; the bounces come a minute apart.
    for (const char* from :
         {"2023-11-14", "2023-11-14T22", "2023-11-14T22:00", "2023-11-14T22:00:00Z", "2023-11-14T23:00:00+01:00"}) {
        const auto r = on("report --json", std::string("--filter from=") + from);
        ASSERT_EQ(r.exitCode, 0) << from << ": " << r.out;
        EXPECT_EQ(count(r), count(all)) << from;
    }
    auto r = on("report --json", "--filter from=2023-11-14T22:14:00Z");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_LT(count(r), count(all));
    EXPECT_GT(count(r), 0);
    r = on("report --json", "--filter to=2023-11-14T22:00:00Z");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(count(r), 0);

    // Anything else is bad input naming the key and the value, never silently ignored.
    for (const char* bad :
         {"from=11/03/2025", "to=2025-13-01", "from=2025-02-30", "from=yesterday", "from=2025-11-03 10:00"}) {
        r = on("report", std::string("--filter '") + bad + "'");
        EXPECT_EQ(r.exitCode, 2) << bad << ": " << r.out;
        EXPECT_NE(r.out.find(bad), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("ISO 8601"), std::string::npos) << r.out;
    }
    // Other bad filters too, on every command.
    for (const char* cmd : {"report", "incidents", "suppressions"})
        for (const char* bad : {"colour=red", "code=55O", "status=9.9", "spam=maybe", "type=bounced", "provider"}) {
            r = on(cmd, std::string("--filter ") + bad);
            EXPECT_EQ(r.exitCode, 2) << cmd << " " << bad << ": " << r.out;
            EXPECT_NE(r.out.find(bad), std::string::npos) << r.out;
        }
}

TEST_F(CliWorkspace, UnknownProviderHintsAtCloseMatches)
{
    auto r = on("report", "--filter provider=outlook");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find("provider=outlook"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("did you mean: Microsoft 365 / Outlook.com?"), std::string::npos) << r.out;
    // No name contains it: every provider of the workspace is listed.
    r = on("suppressions", "--filter provider=nosuchmail");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find("Gmail"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Yahoo"), std::string::npos) << r.out;
    // The full display name, any case, works as the key does.
    r = on("report --json", "--filter 'provider=microsoft 365 / outlook.com'");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    ASSERT_EQ(jsonLines(r.out).size(), 1u) << r.out;
}

TEST_F(CliWorkspace, ExitCodes)
{
    // 0: done.
    EXPECT_EQ(on("report").exitCode, 0);
    EXPECT_EQ(run("diagnose", "550 5.1.1 user unknown\n").exitCode, 0);
    // 1: nothing done (no input; an input with nothing to import).
    auto r = run("diagnose", "");
    EXPECT_EQ(r.exitCode, 1) << r.out;
    r = run("diagnose --lines", "");
    EXPECT_EQ(r.exitCode, 1) << r.out;
    const auto empty = s_dir / "empty.csv";
    std::ofstream(empty).flush();
    r = run("import --workspace '" + (s_dir / "other.btw").string() + "' '" + empty.string() + "'", "");
    EXPECT_EQ(r.exitCode, 1) << r.out;
    EXPECT_NE(r.out.find("is empty"), std::string::npos) << r.out;
    // 2: bad input (a missing file, a bad filter, a file that is no workspace).
    EXPECT_EQ(run("diagnose /nonexistent/x.eml", "").exitCode, 2);
    EXPECT_EQ(on("report", "--filter from=11/03/2025").exitCode, 2);
    EXPECT_EQ(run("report --workspace '" + empty.string() + "'", "").exitCode, 2);
    r = run("import --workspace '" + (s_dir / "other.btw").string() + "' /nonexistent/file.csv", "");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    // 64: the command line itself (CLI11 says 105 and up).
    for (const char* usage : {"", "frobnicate", "report", "report --workspace", "report --by colour --workspace x",
                              "diagnose --no-such-option"}) {
        r = run(usage, "");
        EXPECT_EQ(r.exitCode, 64) << "'" << usage << "': " << r.out;
    }
    // Documented in --help.
    r = run("--help", "");
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("Exit codes: 0 done; 1 nothing done"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("64 usage error"), std::string::npos) << r.out;
}

TEST_F(CliWorkspace, BinaryInputIsSaidToBeBinary)
{
    // 200 KB of bytes that are no text: NULs and everything else.
    std::string bytes;
    for (int i = 0; i < 200 * 1024; ++i)
        bytes.push_back(static_cast<char>((i * 7919) % 256));
    const auto file = s_dir / "binary.dat";
    std::ofstream(file, std::ios::binary) << bytes;
    for (const char* cmd : {"diagnose", "diagnose --json", "diagnose --lines"}) {
        const auto r = run(std::string(cmd) + " '" + file.string() + "'", "");
        EXPECT_EQ(r.exitCode, 2) << cmd;
        EXPECT_NE(r.out.find("binary.dat: not a text file"), std::string::npos) << cmd << ": " << r.out.substr(0, 300);
        EXPECT_LT(r.out.size(), 500u) << cmd;
    }
    auto r = run("diagnose", bytes);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.out.find("standard input: not a text file"), std::string::npos) << r.out.substr(0, 300);
    r = run("import --workspace '" + (s_dir / "bin.btw").string() + "' '" + file.string() + "'", "");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find("binary.dat: not a text file"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("CSV"), std::string::npos) << r.out;
    // Control bytes without a NUL are no text either; Latin-1 or ISO-2022-JP (ESC) text is.
    r = run("diagnose", std::string(2000, '\x01') + "550 5.1.1 user unknown\n");
    EXPECT_EQ(r.exitCode, 2) << r.out.substr(0, 300);
    r = run("diagnose --json", "550 5.1.1 Utilisateur inconnu \xe9\xe9\xe9 \x1b$B0-@h\x1b(B\n");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    // A stray NUL, as some real bounces carry (Sisimai's lhost-x2-04), is no binary file.
    r = run("diagnose --json", std::string("550 5.1.1 user unknown") + '\0' + std::string(200, 'x') + "\n");
    EXPECT_EQ(r.exitCode, 0) << r.out;
}

TEST_F(CliWorkspace, ControlCharactersFromDataAreEscaped)
{
    // A reply that would retitle the terminal (OSC 0) and clear the screen (CSI 2J).
    const std::string reply = "550 5.1.1 user \x1b]0;pwned\x07 unknown \x1b[2J \xc2\x9b"
                              "31m\n";
    auto r = run("diagnose", reply);
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\xc2\x9b"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\\x1b]0;pwned\\x07"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\\u009b"), std::string::npos) << r.out;
    // JSON keeps the text as it is (escaped the JSON way).
    r = run("diagnose --json", reply);
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(nlohmann::json::parse(r.out)["reply_text"].get<std::string>().find("\x1b]0;pwned\x07"), 15u);
    // Names in a report: a campaign or provider could hold anything; the same through --lines.
    r = run("diagnose --lines", reply);
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

TEST_F(CliWorkspace, RejectedRecordsNameTheirFileAndLine)
{
    namespace fs = std::filesystem;
    // The export has a row whose recipient is no address and one whose time cannot be read.
    auto r = run("import --json --workspace '" + (s_dir / "rejects.btw").string() + "' '" + BT_TEST_DATA
                     + "/sendgrid-bounces.csv'",
                 "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_GT(j["rejected"].get<int>(), 0) << j;
    ASSERT_EQ(j["rejects"].size(), j["rejected"].get<std::size_t>()) << j;
    for (const auto& rej : j["rejects"]) {
        EXPECT_EQ(rej["file"], std::string(BT_TEST_DATA) + "/sendgrid-bounces.csv") << rej;
        EXPECT_TRUE(rej["line"].is_number()) << rej;
        EXPECT_FALSE(rej["reason"].get<std::string>().empty()) << rej;
    }
    // From a folder (of bounce emails), each rejection names the file it came from.
    const fs::path folder = s_dir / "maildir";
    fs::create_directories(folder);
    fs::copy_file(fs::path(BT_SHARED_DIR) / "corpus/sisimai/maildir/bsd/lhost-postfix-03.eml", folder / "1.eml",
                  fs::copy_options::overwrite_existing);
    std::ofstream(folder / "notes.txt") << "just some notes\n";
    r = run("import --workspace '" + (s_dir / "folder.btw").string() + "' '" + folder.string() + "'", "");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("rejected: " + (folder / "notes.txt").string() + ": "), std::string::npos) << r.out;
    r = run("import --json --workspace '" + (s_dir / "folder2.btw").string() + "' '" + folder.string() + "'", "");
    j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["rejects"].size(), 1u) << j;
    EXPECT_EQ(j["rejects"][0]["file"], (folder / "notes.txt").string()) << j;
}

TEST(Cli, IncidentsAreSpansWithTheirEndPeakAndLifting)
{
    // The bundled sample's Microsoft block: one incident, 10:00 to 15:00, deliveries again after.
    const std::string ws = std::string("--workspace '") + BT_SAMPLE_WORKSPACE + "'";
    auto r = run("incidents --json --by provider " + ws, "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    std::istringstream lines(r.out);
    std::string line;
    std::vector<nlohmann::json> spans;
    while (std::getline(lines, line))
        if (!line.empty())
            spans.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(spans.size(), 1u) << r.out;
    const auto& s = spans.front();
    EXPECT_EQ(s["key"], "Microsoft 365 / Outlook.com");
    EXPECT_EQ(s["bucket"], "2026-03-09T10");
    EXPECT_EQ(s["end"], "2026-03-09T15");
    EXPECT_EQ(s["buckets"], 6);
    EXPECT_GE(s["peak_bounces"].get<int>() * 6, s["bounces"].get<int>());
    EXPECT_GT(s["lifted"].get<std::string>(), s["end"].get<std::string>());
    r = run("incidents --by provider " + ws, "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("2026-03-09T10 to 2026-03-09T15"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("deliveries again from"), std::string::npos) << r.out;
}

TEST(Cli, TheGroupOfEventsWithoutTheFieldIsNamedForWhatItIs)
{
    // SES notifications give no sending IP: the report calls that group what it is, not an IP
    // named "(none)"; JSON keeps the key the drill-down uses.
    const std::string ws = std::string("--workspace '") + BT_SAMPLE_WORKSPACE + "'";
    auto r = run("report --by ip " + ws, "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("(sending IP unknown)"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("(none)"), std::string::npos) << r.out;
    r = run("report --json --by ip " + ws, "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("\"key\":\"(none)\""), std::string::npos) << r.out;
}

TEST_F(CliWorkspace, YearOfASyslogFileIsSaidAndCanBeGiven)
{
    namespace fs = std::filesystem;
    // A Postfix log across New Year, gzip'd as logrotate leaves it (made by the gzip program).
    const fs::path log = s_dir / "mail.log.2";
    std::ofstream(log) << "Dec 31 23:59:59 mx postfix/smtp[1]: AB1: to=<a@example.com>, relay=none, dsn=5.1.1, "
                          "status=bounced (550 5.1.1 user unknown)\n"
                          "Jan  1 00:00:02 mx postfix/smtp[1]: AB2: to=<b@example.com>, relay=none, dsn=5.1.1, "
                          "status=bounced (550 5.1.1 user unknown)\n";
    ASSERT_EQ(std::system(("gzip -f '" + log.string() + "'").c_str()), 0);
    const std::string gz = log.string() + ".gz";
    auto r = run("import --json --year 2023 --workspace '" + (s_dir / "year.btw").string() + "' '" + gz + "'", "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["format"], "postfix_log") << j;
    EXPECT_EQ(j["imported"], 2) << j;
    EXPECT_EQ(j.value("note", "").find("carry no year"), std::string::npos) << "a year given is no guess: " << j;
    r = run("report --json --by day --workspace '" + (s_dir / "year.btw").string() + "'", "");
    EXPECT_NE(r.out.find("2023-12-31"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2024-01-01"), std::string::npos) << r.out;
    // Without --year the guess is said, in the text output too.
    r = run("import --workspace '" + (s_dir / "year2.btw").string() + "' '" + gz + "'", "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("note: syslog lines carry no year"), std::string::npos) << r.out;
    r = run("import --year 99 --workspace '" + (s_dir / "year3.btw").string() + "' '" + gz + "'", "");
    EXPECT_EQ(r.exitCode, 64) << r.out;
}

TEST(Cli, ReportNamesEachRowsBasisAndSendsImportsCountsTheReportUses)
{
    // A bounce-only SendGrid export beside a Postfix log and SES notifications.
    const auto dir = std::filesystem::temp_directory_path() / ("bt-cli-sends-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string ws = (dir / "mixed.btw").string();
    const std::string data = BT_TEST_DATA;
    auto r = run("import --workspace '" + ws + "' '" + data + "/sendgrid-bounces.csv' '" + data + "/postfix-mail.log' '"
                     + data + "/ses-notifications.jsonl'",
                 "");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto on = [&](const std::string& cmd) { return run(cmd + " --workspace '" + ws + "'", ""); };

    r = on("report --by provider");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    // Gmail: 1 bounce of 3 sent over the Postfix and SES rows, 2 SendGrid bounces left out.
    const auto gmail = r.out.find("\nGmail");
    ASSERT_NE(gmail, std::string::npos) << r.out;
    const std::string gmailLine = r.out.substr(gmail + 1, r.out.find('\n', gmail + 1) - gmail - 1);
    EXPECT_NE(gmailLine.find("33.3%  3 sent"), std::string::npos) << gmailLine;
    EXPECT_NE(gmailLine.find(" 2  "), std::string::npos) << "unrated: " << gmailLine;
    // Yahoo is only in the SendGrid export: a share of the bounces, no level.
    const auto yahoo = r.out.find("\nYahoo");
    ASSERT_NE(yahoo, std::string::npos) << r.out;
    const std::string yahooLine = r.out.substr(yahoo + 1, r.out.find('\n', yahoo + 1) - yahoo - 1);
    EXPECT_NE(yahooLine.find("%  bounces"), std::string::npos) << yahooLine;
    EXPECT_EQ(yahooLine.find("act"), std::string::npos) << yahooLine;
    EXPECT_NE(r.out.find("of bounces: no source in this workspace records"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("unrated: bounces from sources that record no sends"), std::string::npos) << r.out;

    r = on("report --by family");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_NE(r.out.find("a family belongs to bounces only"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(" act "), std::string::npos) << r.out;

    // Send counts: a bad line is named and is exit 2, the good ones are stored and used.
    const auto csv = dir / "sends.csv";
    std::ofstream(csv) << "provider,sent\nyahoo,200\nGmail,lots\n";
    r = run("sends --workspace '" + ws + "' '" + csv.string() + "'", "");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_NE(r.out.find("line 3: \"lots\" is not a whole number"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("stored 1 provider send counts"), std::string::npos) << r.out;
    r = on("sends");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(r.out, "provider,yahoo,200\n");
    r = on("report --json --by provider");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    bool seen = false;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        const auto j = nlohmann::json::parse(line);
        if (j["key"] == "Yahoo") {
            seen = true;
            EXPECT_EQ(j["rate_basis"], "given");
            EXPECT_EQ(j["sent"], 200);
            EXPECT_DOUBLE_EQ(j["rate"].get<double>(), 1.0 / 200.0);
            EXPECT_EQ(j["level"], "low");
        } else if (j["key"] == "Gmail") {
            EXPECT_EQ(j["rate_basis"], "sent");
            EXPECT_EQ(j["sent"], 3);
            EXPECT_EQ(j["rate_bounces"], 1);
            EXPECT_EQ(j["outside_basis"], 2);
        }
    }
    EXPECT_TRUE(seen) << r.out;
    r = on("sends --clear");
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_EQ(on("sends").exitCode, 1);
    std::filesystem::remove_all(dir);
}
