// SPDX-License-Identifier: MIT
// Nothing lost, time and compressed input (issue 12, items 6 and 7), on real components: a real
// SQLite workspace file, the real CLI run as separate processes and killed with SIGKILL, a real
// tmpfs filled up, real gzip data made by zlib.
#include "csvreader.h"
#include "importer.h"
#include "importers/input.h"
#include "query.h"
#include "sqlite.h"
#include "testsupport.h"
#include "workspace.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sched.h>
#include <sstream>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <zlib.h>

namespace
{

namespace fs = std::filesystem;
using testsupport::classifier;
using testsupport::scalar;
using testsupport::TempWorkspace;

/// A file in the temp folder, removed before and after.
struct TempFile {
    fs::path path;
    explicit TempFile(const std::string& name)
        : path(fs::temp_directory_path() / ("bt-" + std::to_string(::getpid()) + "-" + name))
    {
        fs::remove(path);
    }
    ~TempFile() { fs::remove(path); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    void write(const std::string& content) const { std::ofstream(path, std::ios::binary) << content; }
};

std::string gzipped(const std::string& content)
{
    const auto tmp = fs::temp_directory_path() / ("bt-gz-" + std::to_string(::getpid()));
    gzFile gz = gzopen(tmp.c_str(), "wb");
    gzwrite(gz, content.data(), static_cast<unsigned>(content.size()));
    gzclose(gz);
    std::ifstream in(tmp, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    fs::remove(tmp);
    return out.str();
}

void setModified(const fs::path& p, std::int64_t unixSeconds)
{
    const auto sys = std::chrono::system_clock::time_point(std::chrono::seconds(unixSeconds));
    fs::last_write_time(p, std::chrono::file_clock::from_sys(sys));
}

/// Every import record says exactly what it left in the workspace.
void expectRecordsMatchRows(bt::Workspace& ws)
{
    for (const auto& i : ws.imports()) {
        const auto id = std::to_string(i.id);
        EXPECT_EQ(i.counts.read, i.counts.imported + i.counts.rejected + i.counts.duplicate) << i.file;
        EXPECT_EQ(i.counts.imported, scalar(ws, "SELECT COUNT(*) FROM events WHERE import_id = " + id))
            << i.file << " (" << i.status << ")";
        EXPECT_EQ(i.counts.rejected, scalar(ws, "SELECT COUNT(*) FROM rejects WHERE import_id = " + id))
            << i.file << " (" << i.status << ")";
    }
}

std::string bounceRow(const std::string& prefix, int i)
{
    return std::to_string(1700000000 + i) + "," + prefix + std::to_string(i) + "@example" + std::to_string(i % 50)
        + ".com,550 5.1.1 user unknown,5.1.1\n";
}

const char* kPostfixRollover
    = "Dec 31 23:58:01 mx postfix/qmgr[100]: AAA111: from=<news@shop.example>, size=1000, nrcpt=2 (queue active)\n"
      "Dec 31 23:59:59 mx postfix/smtp[101]: AAA111: to=<a@example.com>, relay=mx.example.com[192.0.2.1]:25, "
      "delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 user "
      "unknown (in reply to RCPT TO command))\n"
      // A line of another process a few seconds out of order: the same year, not a new one.
      "Dec 31 23:59:58 mx postfix/smtpd[99]: connect from client.example[198.51.100.7]\n"
      "Jan  1 00:00:02 mx postfix/smtp[101]: AAA111: to=<b@example.com>, relay=mx.example.com[192.0.2.1]:25, "
      "delay=1, delays=0/0/0/1, dsn=5.1.1, status=bounced (host mx.example.com[192.0.2.1] said: 550 5.1.1 user "
      "unknown (in reply to RCPT TO command))\n"
      "Jan  1 00:10:00 mx postfix/qmgr[100]: AAA111: removed\n";

std::vector<std::string> timestamps(bt::Workspace& ws)
{
    std::vector<std::string> out;
    auto st = ws.db().prepare("SELECT timestamp FROM events ORDER BY source_line");
    while (st.step())
        out.push_back(st.text(0));
    return out;
}

} // namespace

// ---- CSV: an unterminated quote, CR-only lines -------------------------------------------------

TEST(CsvReader, AnUnterminatedQuoteDoesNotSwallowTheRecordsAfterIt)
{
    std::istringstream in("created,email,reason,status\n"
                          "1,a@example.com,\"550 broken,5.1.1\n" // never closed
                          "2,b@example.com,550 user unknown,5.1.1\n"
                          "3,c@example.com,\"550-first line\n" // a real multi-line reply
                          "550 second line\",5.1.1\n"
                          "4,d@example.com,\"550 open again\n"
                          "still the same field\n");
    bt::CsvReader r(in);
    bt::CsvRow row;
    std::string err;
    ASSERT_TRUE(r.next(row, err)); // header
    ASSERT_TRUE(r.next(row, err));
    EXPECT_EQ(row.line, 2);
    EXPECT_NE(err.find("quoted field opened on line 2 is not closed before line 3"), std::string::npos) << err;
    EXPECT_EQ(row.raw, "1,a@example.com,\"550 broken,5.1.1");
    ASSERT_TRUE(r.next(row, err));
    EXPECT_TRUE(err.empty()) << err;
    EXPECT_EQ(row.line, 3);
    ASSERT_EQ(row.fields.size(), 4u);
    EXPECT_EQ(row.fields[1], "b@example.com");
    ASSERT_TRUE(r.next(row, err));
    EXPECT_TRUE(err.empty()) << err;
    EXPECT_EQ(row.line, 4);
    ASSERT_EQ(row.fields.size(), 4u);
    EXPECT_EQ(row.fields[2], "550-first line\n550 second line");
    ASSERT_TRUE(r.next(row, err));
    EXPECT_EQ(row.line, 6);
    EXPECT_NE(err.find("not closed by the end of the file (the record takes lines 6-7)"), std::string::npos) << err;
    EXPECT_FALSE(r.next(row, err));
}

TEST(CsvReader, CrOnlyCrLfAndLfLinesAreNumberedAlike)
{
    for (const std::string eol : {"\n", "\r\n", "\r"}) {
        std::istringstream in("a,b" + eol + "1,\"x" + eol + "y\"" + eol + eol + "2,z" + eol);
        bt::CsvReader r(in);
        bt::CsvRow row;
        std::string err;
        ASSERT_TRUE(r.next(row, err));
        ASSERT_TRUE(r.next(row, err));
        EXPECT_EQ(row.line, 2);
        EXPECT_EQ(row.offset, static_cast<std::int64_t>(3 + eol.size()));
        ASSERT_EQ(row.fields.size(), 2u);
        EXPECT_EQ(row.fields[1], "x\ny");
        ASSERT_TRUE(r.next(row, err));
        EXPECT_EQ(row.line, 5) << "line ending " << (eol == "\r" ? "CR" : eol == "\n" ? "LF" : "CRLF");
        EXPECT_EQ(row.fields[1], "z");
        EXPECT_FALSE(r.next(row, err));
    }
}

TEST(ImportIntegrity, AnUnterminatedQuoteInAnExportIsRejectedWithItsLinesAndTheRestImported)
{
    TempWorkspace t;
    TempFile csv("quote.csv");
    csv.write("created,email,reason,status\n"
              "1700000000,a@example.com,\"550 broken,5.1.1\n"
              "1700000001,b@example.com,550 user unknown,5.1.1\n"
              "1700000002,c@example.com,550 user unknown,5.1.1\n");
    bt::Workspace ws(t.path.string());
    const auto r = bt::importPath(ws, csv.path.string(), classifier());
    EXPECT_EQ(r.counts.read, 3);
    EXPECT_EQ(r.counts.imported, 2);
    EXPECT_EQ(r.counts.rejected, 1);
    const auto rejects = ws.rejects(r.importId);
    ASSERT_EQ(rejects.size(), 1u);
    EXPECT_EQ(rejects[0].sourceLine, 2);
    EXPECT_EQ(rejects[0].reason.rfind("line 2: a quoted field opened on line 2", 0), 0u) << rejects[0].reason;
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events WHERE reply_text LIKE '%@example.com%'"), 0)
        << "no reply swallowed the rows after it";
    expectRecordsMatchRows(ws);
}

TEST(ImportIntegrity, CrOnlyFilesGiveEachRecordItsOwnLine)
{
    TempWorkspace t;
    TempFile csv("cr.csv");
    TempFile log("cr.log");
    csv.write("created,email,reason,status\r1700000000,a@example.com,550 user unknown,5.1.1\r"
              "1700000001,b@example.com,550 user unknown,5.1.1\r");
    std::string postfix = kPostfixRollover;
    std::replace(postfix.begin(), postfix.end(), '\n', '\r');
    log.write(postfix);
    setModified(log.path, 1735689605); // 2025-01-01T00:00:05Z
    bt::Workspace ws(t.path.string());
    EXPECT_EQ(bt::detectFormat(log.path.string()), "postfix_log");
    const auto rc = bt::importPath(ws, csv.path.string(), classifier());
    const auto rl = bt::importPath(ws, log.path.string(), classifier());
    EXPECT_EQ(rc.counts.imported, 2) << rc.error;
    EXPECT_EQ(rl.counts.imported, 2) << rl.error;
    auto lines = ws.db().prepare("SELECT source_line, source_offset, recipient FROM events ORDER BY id");
    std::vector<std::tuple<std::int64_t, std::int64_t, std::string>> got;
    while (lines.step())
        got.emplace_back(lines.int64(0), lines.int64(1), lines.text(2));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0], std::make_tuple(std::int64_t(2), std::int64_t(28), std::string("a@example.com")));
    EXPECT_EQ(std::get<0>(got[1]), 3);
    EXPECT_EQ(std::get<0>(got[2]), 2);
    EXPECT_EQ(std::get<0>(got[3]), 4);
    // The offset points at the line in the file.
    std::ifstream in(log.path, std::ios::binary);
    in.seekg(std::get<1>(got[3]));
    std::string head(15, '\0');
    in.read(head.data(), 15);
    EXPECT_EQ(head, "Jan  1 00:00:02");
}

// ---- Addresses ----------------------------------------------------------------------------------

TEST(ImportIntegrity, AnAddressWithANulControlOrInvalidByteIsRejectedNamingIt)
{
    TempWorkspace t;
    TempFile json("nul.json");
    TempFile csv("bad.csv");
    TempFile log("bad.log");
    json.write(
        R"({"email":"a\u0000b@example.com","event":"bounce","timestamp":1700000000,"sg_event_id":"x1","reason":"550 5.1.1 unknown"})"
        "\n"
        R"({"email":"ok@example.com","event":"bounce","timestamp":1700000000,"sg_event_id":"x2","reason":"550 5.1.1 unknown"})"
        "\n");
    csv.write("created,email,reason,status\n1700000000,bad\xffx@example.com,550 user unknown,5.1.1\n"
              "1700000001,bell\x07@example.com,550 user unknown,5.1.1\n");
    log.write("Mar  1 10:00:00 mx postfix/smtp[1]: AB12: to=<caf\xc3@example.com>, relay=none, dsn=5.1.1, "
              "status=bounced (550 5.1.1 user unknown)\n");
    bt::Workspace ws(t.path.string());
    const auto rj = bt::importPath(ws, json.path.string(), classifier());
    const auto rc = bt::importPath(ws, csv.path.string(), classifier());
    const auto rl = bt::importPath(ws, log.path.string(), classifier());
    EXPECT_EQ(rj.counts.imported, 1);
    EXPECT_EQ(rj.counts.rejected, 1);
    EXPECT_EQ(rc.counts.rejected, 2);
    EXPECT_EQ(rl.counts.rejected, 1);
    const auto reasonOf = [&](const bt::ImportResult& r, std::size_t i) {
        const auto rejects = ws.rejects(r.importId);
        return i < rejects.size() ? rejects[i].reason : std::string("(none)");
    };
    EXPECT_EQ(reasonOf(rj, 0),
              "line 1: recipient \"a\\x00b@example.com\" (field \"email\") is not an e-mail address: "
              "it holds a NUL byte");
    EXPECT_EQ(reasonOf(rc, 0),
              "line 2: recipient \"bad\\xffx@example.com\" (field \"email\") is not an e-mail address: it is "
              "not valid UTF-8 (byte 0xff at position 4)");
    EXPECT_NE(reasonOf(rc, 1).find("it holds a control character (0x07)"), std::string::npos) << reasonOf(rc, 1);
    EXPECT_NE(reasonOf(rl, 0).find("to=<caf\\xc3@example.com> is not an e-mail address: it is not valid UTF-8"),
              std::string::npos)
        << reasonOf(rl, 0);
    // Nothing but the good address is stored, so nothing else reaches the suppression list.
    EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events"), 1);
    EXPECT_EQ(testsupport::text(ws, "SELECT recipient FROM events"), "ok@example.com");
    expectRecordsMatchRows(ws);
}

// ---- Time: syslog years, gzip ------------------------------------------------------------------

TEST(ImportTime, SyslogYearsRunForwardAcrossNewYearAndEndByTheModificationTime)
{
    TempWorkspace t;
    TempFile log("rollover.log");
    log.write(kPostfixRollover);
    setModified(log.path, 1735689605); // 2025-01-01T00:00:05Z: the log ends at New Year 2025
    {
        bt::Workspace ws(t.path.string());
        const auto r = bt::importPath(ws, log.path.string(), classifier());
        ASSERT_EQ(r.counts.imported, 2) << r.error;
        EXPECT_EQ(timestamps(ws), (std::vector<std::string> {"2024-12-31T23:59:59Z", "2025-01-01T00:00:02Z"}));
        EXPECT_NE(r.note.find("the first is taken as 2024, the last as 2025"), std::string::npos) << r.note;
    }
    {
        // Modified months later (copied in March): still the latest years that fit.
        TempWorkspace t2;
        setModified(log.path, 1741000000); // 2025-03-03
        bt::Workspace ws(t2.path.string());
        bt::importPath(ws, log.path.string(), classifier());
        EXPECT_EQ(timestamps(ws), (std::vector<std::string> {"2024-12-31T23:59:59Z", "2025-01-01T00:00:02Z"}));
    }
    {
        // Written in local time east of UTC: the last line (1 Jan, 00:10 local) is after the
        // modification time in UTC (31 Dec 23:30), which is no reason to go back a year.
        TempWorkspace t3;
        setModified(log.path, 1735687800); // 2024-12-31T23:30:00Z
        bt::Workspace ws(t3.path.string());
        bt::importPath(ws, log.path.string(), classifier());
        EXPECT_EQ(timestamps(ws), (std::vector<std::string> {"2024-12-31T23:59:59Z", "2025-01-01T00:00:02Z"}));
    }
    {
        // --year: the first line's year, the rest follow it.
        TempWorkspace t4;
        bt::Workspace ws(t4.path.string());
        bt::ImportOptions options;
        options.year = 2019;
        const auto r = bt::importPath(ws, log.path.string(), classifier(), nullptr, nullptr, options);
        EXPECT_EQ(timestamps(ws), (std::vector<std::string> {"2019-12-31T23:59:59Z", "2020-01-01T00:00:02Z"}));
        EXPECT_EQ(r.note.find("carry no year"), std::string::npos) << "a year given is no guess: " << r.note;
    }
}

TEST(ImportTime, AGzipRotatedLogAndExportAreReadLikeThePlainFiles)
{
    TempWorkspace plainWs, gzWs;
    TempFile plain("mail.log.2");
    TempFile gz("mail.log.2.gz");
    TempFile csv("bounces.csv.gz");
    TempFile cut("cut.csv.gz");
    plain.write(kPostfixRollover);
    gz.write(gzipped(kPostfixRollover));
    setModified(plain.path, 1735689605);
    setModified(gz.path, 1735689605);
    std::string rows = "created,email,reason,status\n";
    for (int i = 0; i < 3000; ++i)
        rows += bounceRow("u", i);
    csv.write(gzipped(rows));
    const std::string packed = gzipped(rows);
    cut.write(packed.substr(0, packed.size() / 2));

    EXPECT_EQ(bt::detectFormat(gz.path.string()), "postfix_log") << "sniffing sees the decompressed lines";
    // How big it is inside decides bulk loading, as for the plain file.
    EXPECT_EQ(bt::detail::contentSize(gz.path.string()), fs::file_size(plain.path));
    EXPECT_EQ(bt::detail::contentSize(csv.path.string()), rows.size());
    EXPECT_EQ(bt::detectFormat(csv.path.string()), "sendgrid_csv");
    bt::Workspace a(plainWs.path.string());
    bt::Workspace b(gzWs.path.string());
    const auto ra = bt::importPath(a, plain.path.string(), classifier());
    const auto rb = bt::importPath(b, gz.path.string(), classifier());
    ASSERT_TRUE(rb.error.empty()) << rb.error;
    EXPECT_EQ(rb.format, "postfix_log");
    EXPECT_EQ(rb.counts.imported, ra.counts.imported);
    EXPECT_EQ(timestamps(b), timestamps(a));
    EXPECT_EQ(testsupport::text(b, "SELECT group_concat(source_line || ':' || source_offset) FROM events"),
              testsupport::text(a, "SELECT group_concat(source_line || ':' || source_offset) FROM events"))
        << "lines and offsets are those of the decompressed text";

    const auto rc = bt::importPath(b, csv.path.string(), classifier());
    EXPECT_TRUE(rc.error.empty()) << rc.error;
    EXPECT_EQ(rc.counts.imported, 3000);

    // Cut off half-way: the rows before the damage are read, the import fails saying why, and its
    // record says what it committed.
    TempWorkspace cutWs;
    bt::Workspace c(cutWs.path.string());
    const auto rcut = bt::importPath(c, cut.path.string(), classifier());
    EXPECT_NE(rcut.error.find("the file is cut off"), std::string::npos) << rcut.error;
    EXPECT_NE(rcut.error.find(cut.path.string()), std::string::npos) << rcut.error;
    EXPECT_GT(rcut.counts.imported, 0);
    EXPECT_LT(rcut.counts.imported, 3000);
    const auto imports = c.imports();
    ASSERT_EQ(imports.size(), 1u);
    EXPECT_EQ(imports[0].status, "failed");
    expectRecordsMatchRows(c);
}

// ---- One import at a time ----------------------------------------------------------------------

namespace
{

class CancelWhileWaiting : public bt::ImportObserver
{
public:
    bool cancelled() override { return !m_holder.empty(); }
    void waiting(const std::string& holder) override { m_holder = holder; }
    std::string m_holder;
};

} // namespace

TEST(ImportLock, ASecondImportWaitsForTheFirstAndNeverDeletesIt)
{
    TempWorkspace t;
    TempFile csv("lock.csv");
    csv.write("created,email,reason,status\n" + bounceRow("u", 1));
    bt::Workspace first(t.path.string());
    const auto id = first.beginImport(csv.path.string(), 10, "same-sha", "sendgrid_csv");
    // Another connection (another window, another CLI): it may not start an import beside it …
    bt::Workspace second(t.path.string());
    try {
        second.beginImport(csv.path.string(), 10, "same-sha", "sendgrid_csv");
        ADD_FAILURE() << "a second import began beside a running one";
    } catch (const bt::sql::Error& e) {
        EXPECT_NE(std::string(e.what()).find("another import into this workspace is running (process "
                                             + std::to_string(::getpid())),
                  std::string::npos)
            << e.what();
    }
    // … and importPath waits for it, here until its observer cancels.
    CancelWhileWaiting observer;
    const auto r = bt::importPath(second, csv.path.string(), classifier(), &observer);
    EXPECT_TRUE(r.cancelled);
    EXPECT_NE(r.error.find("cancelled while waiting for another import"), std::string::npos) << r.error;
    EXPECT_NE(observer.m_holder.find("importing " + csv.path.string()), std::string::npos) << observer.m_holder;
    EXPECT_EQ(scalar(second, "SELECT COUNT(*) FROM imports WHERE id = " + std::to_string(id)), 1)
        << "the running import is still there";
    // Finishing the import releases the lock: the second goes ahead without waiting.
    first.finishImport(id, {}, "done");
    CancelWhileWaiting noWait;
    const auto again = bt::importPath(second, csv.path.string(), classifier(), &noWait);
    EXPECT_EQ(again.counts.imported, 1) << again.error;
    EXPECT_TRUE(noWait.m_holder.empty()) << noWait.m_holder;
    EXPECT_FALSE(fs::exists(t.path.string() + "-import")) << "the lock file goes with the lock";
}

namespace
{

/// The real CLI importing `file`, as its own process; stdout and stderr go to files.
struct CliImport {
    pid_t pid = -1;
    fs::path err;
    CliImport(const fs::path& workspace, const fs::path& file, const std::string& tag)
        : err(fs::temp_directory_path() / ("bt-cli-" + std::to_string(::getpid()) + "-" + tag + ".err"))
    {
        pid = ::fork();
        if (pid == 0) {
            const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(fd, 2);
            const int out = ::open("/dev/null", O_WRONLY);
            ::dup2(out, 1);
            ::execl(BT_CLI, BT_CLI, "import", "--workspace", workspace.c_str(), file.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
    }
    ~CliImport()
    {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        fs::remove(err);
    }
    CliImport(const CliImport&) = delete;
    CliImport& operator=(const CliImport&) = delete;
    std::string stderrText() const
    {
        std::ifstream in(err);
        std::ostringstream s;
        s << in.rdbuf();
        return s.str();
    }
    /// SIGKILL; true when it was still running.
    bool kill()
    {
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFSIGNALED(status);
    }
    int wait()
    {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
};

/// Polls until `done` (a generous bound so a stuck process fails the test instead of hanging it).
bool eventually(const std::function<bool()>& done)
{
    for (int i = 0; i < 6000; ++i) {
        if (done())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

/// rows_read committed so far by the import of `file` (-1 when it has no record yet).
std::int64_t committedRows(const fs::path& workspace, const fs::path& file)
{
    try {
        bt::sql::Database db(workspace.string(), bt::sql::Access::ReadOnly);
        auto st = db.prepare("SELECT rows_read FROM imports WHERE file = ? ORDER BY id DESC LIMIT 1");
        st.bind(1, file.string());
        return st.step() ? st.int64(0) : -1;
    } catch (const std::exception&) {
        return -1;
    }
}

} // namespace

TEST(ConcurrentImports, KilledAtSeveralPointsLeaveExactTotalsAndTruthfulRecords)
{
    // Two files of 70 000 rows: small enough per row to stay out of bulk mode, so batches of
    // 10 000 rows are committed one by one and there is time to kill between them.
    constexpr int kRows = 70000;
    TempFile fileA("a.csv");
    TempFile fileB("b.csv");
    {
        std::string a = "created,email,reason,status\n", b = a;
        for (int i = 0; i < kRows; ++i) {
            a += bounceRow("a", i);
            b += bounceRow("b", i);
        }
        fileA.write(a);
        fileB.write(b);
    }
    struct Scenario {
        const char* name;
        bool sameFile;
        bool killFirst; ///< else the second
        std::int64_t killAfterRows; ///< committed rows of the killed one; 0 = while it waits
    };
    const Scenario scenarios[] = {
        {"same file, the first killed after its first batch, the second waiting", true, true, 10000},
        {"different files, the first killed after three batches, the second waiting", false, true, 30000},
        {"same file, the second killed while it waits", true, false, 0},
        {"different files, the second killed after its first batch", false, false, 10000},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.name);
        TempWorkspace t;
        const fs::path second = s.sameFile ? fileA.path : fileB.path;
        CliImport p1(t.path, fileA.path, "first");
        ASSERT_TRUE(eventually([&] { return committedRows(t.path, fileA.path) >= 0; }));
        CliImport p2(t.path, second, "second");
        // The second waits for the first (and says so) instead of deleting its rows.
        ASSERT_TRUE(eventually([&] { return p2.stderrText().find("waiting for another import") != std::string::npos; }))
            << p2.stderrText();
        if (s.killFirst) {
            ASSERT_TRUE(eventually([&] { return committedRows(t.path, fileA.path) >= s.killAfterRows; }));
            ASSERT_TRUE(p1.kill()) << "the first import ended before it could be killed";
            EXPECT_EQ(p2.wait(), 0) << p2.stderrText();
        } else if (s.killAfterRows == 0) {
            ASSERT_TRUE(p2.kill());
            EXPECT_EQ(p1.wait(), 0) << p1.stderrText();
        } else {
            EXPECT_EQ(p1.wait(), 0) << p1.stderrText();
            ASSERT_TRUE(eventually([&] { return committedRows(t.path, second) >= s.killAfterRows; }));
            ASSERT_TRUE(p2.kill()) << "the second import ended before it could be killed";
        }
        {
            // Right after the kill: every record, the killed one's too, matches its rows.
            bt::Workspace ws(t.path.string());
            expectRecordsMatchRows(ws);
        }
        // Running the killed import again completes it: exact totals.
        CliImport rerun(t.path, s.killFirst ? fileA.path : second, "rerun");
        EXPECT_EQ(rerun.wait(), 0) << rerun.stderrText();
        bt::Workspace ws(t.path.string());
        expectRecordsMatchRows(ws);
        const std::int64_t unique = s.sameFile ? kRows : 2 * kRows;
        EXPECT_EQ(ws.eventCount(), unique);
        std::int64_t imported = 0;
        for (const auto& i : ws.imports()) {
            EXPECT_EQ(i.status, "done") << i.file;
            EXPECT_EQ(i.counts.read, kRows) << i.file;
            imported += i.counts.imported;
        }
        EXPECT_EQ(imported, unique) << "each event counted as imported once";
        EXPECT_EQ(ws.imports().size(), 2u) << "the killed import's record was replaced by its rerun";
    }
}

// ---- A bulk load killed before its rows are in the search index ---------------------------------

namespace
{

/// Both integrity checks: SQLite's of the file, FTS5's of the search index against the events
/// (an external-content index told to delete an entry it never held fails this one).
void expectIntact(bt::Workspace& ws)
{
    auto st = ws.db().prepare("PRAGMA integrity_check");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "ok");
    try {
        ws.db().exec("INSERT INTO events_fts(events_fts, rank) VALUES ('integrity-check', 1)");
    } catch (const std::exception& e) {
        ADD_FAILURE() << "the search index does not match the events: " << e.what();
    }
}

/// The search as the window and the CLI run it, matching ids and count alike.
std::int64_t found(bt::Workspace& ws, const std::string& text)
{
    bt::EventFilter f;
    f.text = text;
    const auto ids = bt::matchingIds(ws, text);
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), bt::countEvents(ws, f)) << text;
    return static_cast<std::int64_t>(ids.size());
}

} // namespace

TEST(BulkLoadKilled, ItsUnindexedRowsAreFoundAndWritersAfterItKeepTheSearchIndexIntact)
{
    // Big enough for bulk mode into an empty workspace, whose rows reach the search index only
    // when the load ends; killed after its first 100 000-row batch, those rows are committed
    // and not indexed, and the workspace records it.
    constexpr int kRows = 160000;
    TempFile csv("bulk-killed.csv");
    {
        std::string rows = "created,email,reason,status\n";
        for (int i = 0; i < kRows; ++i)
            rows += std::to_string(1700000000 + i) + ",user" + std::to_string(i) + "@example" + std::to_string(i % 50)
                + ".com,\"550 5.1.1 <user" + std::to_string(i) + "x@example.com>: Boîte INCONNUE, mailbox "
                + "unavailable\",5.1.1\n";
        csv.write(rows);
    }
    enum class Then { ImportAgainFromAnOpenWindow, ChangeRowsThenOpen };
    for (const Then then : {Then::ImportAgainFromAnOpenWindow, Then::ChangeRowsThenOpen}) {
        SCOPED_TRACE(then == Then::ImportAgainFromAnOpenWindow ? "import again" : "rows changed");
        TempWorkspace t;
        // Open to write before the load, as a window is: it never sees the gap being made.
        bt::Workspace early(t.path.string());
        {
            CliImport load(t.path, csv.path, "bulk");
            ASSERT_TRUE(eventually([&] { return committedRows(t.path, csv.path) >= 100000; }));
            ASSERT_TRUE(load.kill()) << "the load ended before it could be killed";
        }
        std::int64_t committed = 0;
        {
            bt::sql::Database raw(t.path.string(), bt::sql::Access::ReadOnly);
            auto st = raw.prepare("SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM events_fts_docsize), "
                                  "(SELECT value FROM settings WHERE key = 'search_index_upto')");
            ASSERT_TRUE(st.step());
            committed = st.int64(0);
            ASSERT_GE(committed, 100000);
            ASSERT_LT(committed, kRows) << "killed after its last batch: no gap to test";
            EXPECT_EQ(st.int64(1), 0) << "the load's rows wait for its end to be indexed";
            EXPECT_EQ(st.text(2), "0") << "the gap is recorded: every row above id 0";
        }
        {
            // A viewer cannot fill the gap: its search reads the gap's replies, in the index's
            // case folding (the trigram tokenizer folds Î too).
            bt::Workspace viewer(t.path.string(), bt::Workspace::Mode::View);
            EXPECT_EQ(found(viewer, "unavailable"), committed);
            EXPECT_EQ(found(viewer, "boîte inconnue"), committed);
            EXPECT_EQ(found(viewer, "BOÎTE"), committed);
            EXPECT_EQ(found(viewer, "user4242x"), 1);
            EXPECT_EQ(found(viewer, "user4242x 5.1"), 1) << "a short word beside the index's";
            EXPECT_EQ(found(viewer, "nowhere"), 0);
        }
        if (then == Then::ImportAgainFromAnOpenWindow) {
            // The connection opened before the kill imports the file again: the killed import's
            // rows, all of them in the gap, are deleted first (the case that corrupted the index
            // when its delete trigger told FTS5 to drop entries it never held).
            const auto r = bt::importPath(early, csv.path.string(), classifier());
            EXPECT_EQ(r.counts.imported, kRows) << r.error;
            expectIntact(early);
            EXPECT_EQ(scalar(early, "SELECT COUNT(*) FROM settings WHERE key = 'search_index_upto'"), 0);
            EXPECT_EQ(found(early, "BOÎTE"), kRows);
            EXPECT_EQ(found(early, "user4242x"), 1);
        } else {
            // Another writer deletes some of the gap's rows and changes the reply of others …
            early.db().exec("DELETE FROM events WHERE id % 3 = 0");
            early.db().exec("UPDATE events SET reply_text = '421 4.7.0 try later' WHERE id % 3 = 1 AND id < 1000");
            const auto left = scalar(early, "SELECT COUNT(*) FROM events");
            const auto changed = scalar(early, "SELECT COUNT(*) FROM events WHERE reply_text LIKE '421%'");
            ASSERT_GT(changed, 0);
            EXPECT_EQ(found(early, "try later"), changed);
            EXPECT_EQ(found(early, "unavailable"), left - changed);
            // … and the next open to write fills the gap with the rows as they are now.
            bt::Workspace ws(t.path.string());
            EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM settings WHERE key = 'search_index_upto'"), 0);
            EXPECT_EQ(scalar(ws, "SELECT COUNT(*) FROM events_fts_docsize"), left);
            expectIntact(ws);
            EXPECT_EQ(found(ws, "try later"), changed);
            EXPECT_EQ(found(ws, "unavailable"), left - changed);
            EXPECT_EQ(found(ws, "boîte"), left - changed);
            // Running the killed import again completes it, the search with it.
            const auto r = bt::importPath(ws, csv.path.string(), classifier());
            EXPECT_EQ(r.counts.imported, kRows) << r.error;
            expectIntact(ws);
            EXPECT_EQ(found(ws, "unavailable"), kRows);
            EXPECT_EQ(found(ws, "user4242x"), 1);
        }
    }
}

// ---- A full disk --------------------------------------------------------------------------------

namespace
{

/// Runs `body` in a child process with a fresh tmpfs of `size` mounted on `dir` (a private mount
/// namespace: as root directly, else in a user namespace mapped to root). The child's report
/// comes back as text; "SKIP: why" when no tmpfs could be mounted.
std::string inTmpfs(const fs::path& dir, const std::string& size, const std::function<std::string()>& body)
{
    const fs::path report = dir.string() + ".report";
    fs::create_directories(dir);
    const pid_t child = ::fork();
    if (child == 0) {
        auto say = [&](const std::string& text, int code) {
            std::ofstream(report) << text;
            ::_exit(code);
        };
        const uid_t uid = ::geteuid();
        const gid_t gid = ::getegid();
        if (uid != 0) {
            if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
                say(std::string("SKIP: not root, and no user namespace: ") + std::strerror(errno), 0);
            std::ofstream("/proc/self/setgroups") << "deny";
            std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
            std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
        } else if (::unshare(CLONE_NEWNS) != 0) {
            say(std::string("SKIP: no mount namespace: ") + std::strerror(errno), 0);
        }
        if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            say(std::string("SKIP: cannot make mounts private: ") + std::strerror(errno), 0);
        const std::string options = "size=" + size;
        if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0)
            say(std::string("SKIP: cannot mount a tmpfs: ") + std::strerror(errno), 0);
        say(body(), 0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    std::ifstream in(report);
    std::ostringstream s;
    s << in.rdbuf();
    fs::remove(report);
    fs::remove_all(dir);
    return WIFEXITED(status) ? s.str() : "the child died: " + s.str();
}

std::string runCli(const std::vector<std::string>& args, int& exitCode)
{
    const fs::path out = fs::temp_directory_path() / ("bt-cli-out-" + std::to_string(::getpid()));
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> argv {const_cast<char*>(BT_CLI)};
        for (const auto& a : args)
            argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(BT_CLI, argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    std::ostringstream s;
    s << in.rdbuf();
    fs::remove(out);
    return s.str();
}

} // namespace

TEST(DiskFull, AnImportOnAFullDiskSaysSoAndItsRecordHoldsExactlyWhatWasCommitted)
{
    // 30 000 rows make a ~30 MB workspace: a 20 MB tmpfs fills up after the first batch.
    TempFile csv("full.csv");
    std::string rows = "created,email,reason,status\n";
    for (int i = 0; i < 30000; ++i)
        rows += bounceRow("u", i);
    csv.write(rows);
    const fs::path dir = fs::temp_directory_path() / ("bt-tmpfs-" + std::to_string(::getpid()));
    const std::string report = inTmpfs(dir, "20m", [&] {
        const std::string ws = (dir / "full.btw").string();
        std::ostringstream out;
        int code = 0;
        const std::string said = runCli({"import", "--workspace", ws, csv.path.string()}, code);
        out << "exit " << code << "\n" << said << "\n";
        try {
            bt::sql::Database db(ws, bt::sql::Access::ReadOnly);
            auto st
                = db.prepare("SELECT status, rows_read, imported, rejected, duplicate, (SELECT COUNT(*) FROM "
                             "events), (SELECT COUNT(*) FROM rejects), (SELECT COUNT(*) FROM imports) FROM imports");
            if (st.step())
                out << "record " << st.text(0) << " " << st.int64(1) << " " << st.int64(2) << " " << st.int64(3) << " "
                    << st.int64(4) << " events " << st.int64(5) << " rejects " << st.int64(6) << " imports "
                    << st.int64(7) << "\n";
            auto ok = db.prepare("PRAGMA integrity_check");
            out << "integrity " << (ok.step() ? ok.text(0) : "?") << "\n";
        } catch (const std::exception& e) {
            out << "cannot read the workspace: " << e.what() << "\n";
        }
        // Room again: the same import completes and replaces the failed one.
        const std::string remount = "size=200m";
        if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT, remount.c_str()) == 0) {
            const std::string again = runCli({"import", "--workspace", ws, csv.path.string()}, code);
            out << "again exit " << code << "\n";
            bt::sql::Database db(ws, bt::sql::Access::ReadOnly);
            auto st = db.prepare("SELECT group_concat(status || ' ' || imported), (SELECT COUNT(*) FROM events) FROM "
                                 "imports");
            if (st.step())
                out << "after " << st.text(0) << " events " << st.int64(1) << "\n";
        }
        return out.str();
    });
    if (report.rfind("SKIP: ", 0) == 0)
        GTEST_SKIP() << report.substr(6);
    EXPECT_NE(report.find("exit 2\n"), std::string::npos) << report;
    EXPECT_NE(report.find(csv.path.string() + ": disk full: "), std::string::npos) << report;
    EXPECT_EQ(report.find("no transaction is active"), std::string::npos) << report;
    // The record holds what the events and rejects hold: a number of whole batches, nothing more.
    std::istringstream in(report.substr(report.find("\nrecord ") + 1));
    std::string word, status;
    std::int64_t read = -1, imported = -1, rejected = -1, duplicate = -1, events = -2, rejects = -2, imports = 0;
    in >> word >> status >> read >> imported >> rejected >> duplicate >> word >> events >> word >> rejects >> word
        >> imports;
    EXPECT_TRUE(status == "failed" || status == "running") << report;
    EXPECT_EQ(imported, events) << report;
    EXPECT_EQ(rejected, rejects) << report;
    EXPECT_EQ(read, imported + rejected + duplicate) << report;
    EXPECT_EQ(read % 10000, 0) << "whole batches only: " << report;
    EXPECT_LT(read, 30000) << report;
    EXPECT_EQ(imports, 1) << report;
    EXPECT_NE(report.find("read " + std::to_string(read) + ", imported " + std::to_string(imported)), std::string::npos)
        << "the message says what was committed: " << report;
    EXPECT_NE(report.find("integrity ok"), std::string::npos) << report;
    EXPECT_NE(report.find("again exit 0"), std::string::npos) << report;
    EXPECT_NE(report.find("after done 30000 events 30000"), std::string::npos) << report;
}

// ---- Sending IP (item 8) ------------------------------------------------------------------------

TEST(ImportSendingIp, PostfixTakesItsBindAddressFromItsConfigurationAndSaysWhenNothingGivesOne)
{
    const fs::path dir = fs::temp_directory_path() / ("bt-postfix-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::ofstream(dir / "main.cf") << "# main.cf\nmyhostname = mx.example\nsmtp_bind_address =\n  192.0.2.10\n";
    std::ofstream(dir / "master.cf") << "smtp      inet  n       -       y       -       -       smtpd\n"
                                        "smtp      unix  -       -       y       -       -       smtp\n"
                                        "relay     unix  -       -       y       -       -       smtp\n"
                                        "        -o syslog_name=postfix/$service_name\n"
                                        "        -o smtp_bind_address=192.0.2.20\n";
    TempFile log("bind.log");
    std::string lines = kPostfixRollover;
    const auto second = lines.find("Jan  1 00:00:02 mx postfix/smtp[101]");
    lines.replace(lines.find("postfix/smtp", second), 12, "postfix/relay/smtp");
    log.write(lines);
    TempWorkspace t;
    bt::Workspace ws(t.path.string());
    bt::ImportOptions options;
    options.postfixConfig = dir.string();
    const auto r = bt::importPath(ws, log.path.string(), classifier(), nullptr, nullptr, options);
    ASSERT_EQ(r.counts.imported, 2) << r.error;
    EXPECT_EQ(testsupport::text(ws, "SELECT group_concat(recipient || ' ' || sending_ip, ', ') FROM events"),
              "a@example.com 192.0.2.10, b@example.com 192.0.2.20");
    EXPECT_NE(r.note.find("postfix/relay/smtp 192.0.2.20, postfix/smtp 192.0.2.10"), std::string::npos) << r.note;

    // A second SMTP client logging as postfix/smtp from another address: its lines cannot be
    // told apart, so none of them gets an address.
    std::ofstream(dir / "master.cf", std::ios::app) << "out6 unix - - y - - smtp -o smtp_bind_address=2001:db8::6\n";
    TempWorkspace t2;
    bt::Workspace ws2(t2.path.string());
    const auto r2 = bt::importPath(ws2, log.path.string(), classifier(), nullptr, nullptr, options);
    EXPECT_EQ(testsupport::text(ws2,
                                "SELECT group_concat(recipient || ' ' || COALESCE(sending_ip, '-'), ', ') "
                                "FROM events"),
              "a@example.com -, b@example.com 192.0.2.20");
    EXPECT_NE(r2.note.find("postfix/smtp left out"), std::string::npos) << r2.note;

    // Without the configuration, and for SES, the note says the sending IP is unknown and why.
    TempWorkspace t3;
    bt::Workspace ws3(t3.path.string());
    const auto r3 = bt::importPath(ws3, log.path.string(), classifier());
    EXPECT_NE(r3.note.find("Postfix does not log the address it sends from: sending IP unknown"), std::string::npos)
        << r3.note;
    const auto ses = bt::importPath(ws3, std::string(BT_TEST_DATA) + "/ses-notifications.jsonl", classifier());
    EXPECT_NE(ses.note.find("mail.sourceIp is the address that called the SES API"), std::string::npos) << ses.note;
    EXPECT_EQ(scalar(ws3, "SELECT COUNT(*) FROM events WHERE sending_ip IS NOT NULL"), 0);
    // SendGrid's event webhook gives `ip`: no note.
    const auto sg = bt::importPath(ws3, std::string(BT_TEST_DATA) + "/sendgrid-events.json", classifier());
    EXPECT_EQ(sg.note.find("sending IP unknown"), std::string::npos) << sg.note;
    EXPECT_GT(scalar(ws3, "SELECT COUNT(*) FROM events WHERE source = 'sendgrid' AND sending_ip IS NOT NULL"), 0);
    fs::remove_all(dir);
}
