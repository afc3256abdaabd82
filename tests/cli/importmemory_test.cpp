// SPDX-License-Identifier: MIT
// What importing one huge field costs, measured (issue 17): the real CLI imports a file whose
// only record carries a 50 MB reply, in a child process whose peak resident size the kernel
// reports (wait4's ru_maxrss). A field is a stranger's bytes: it may cost a small multiple of
// itself, never 14 times.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace
{

namespace fs = std::filesystem;

struct Peak {
    int exitCode = -1;
    long maxRssKb = 0;
};

/// Runs the CLI with `args` (output thrown away) and returns its exit code and peak RSS.
Peak runMeasured(const std::vector<std::string>& args)
{
    std::vector<char*> argv;
    std::string cli = BT_CLI;
    argv.push_back(cli.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    Peak p;
    int status = 0;
    rusage usage {};
    if (pid > 0 && ::wait4(pid, &status, 0, &usage) == pid) {
        p.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        p.maxRssKb = usage.ru_maxrss;
    }
    return p;
}

/// A file of `format` (a SendGrid CSV or webhook JSON Lines): one ordinary bounce, then one whose
/// reply is `fieldBytes` bytes of words (as a pasted transcript would be, not one run of a single
/// byte). The ordinary record comes first so that the format is recognised from the head.
void writeHugeRecord(const fs::path& path, const std::string& format, std::size_t fieldBytes)
{
    std::string reply = "550 5.1.1 <user@example.com>: Recipient address rejected:";
    const std::string words = " the mailbox is unavailable and user unknown";
    while (reply.size() + words.size() <= fieldBytes)
        reply += words;
    reply.resize(fieldBytes, '.');
    std::ofstream out(path, std::ios::binary);
    if (format == "csv") {
        out << "created,email,reason,status\n1709290000,first@example.com,\"550 5.1.1 user unknown\",bounce\n";
        out << "1709290001,user@example.com,\"" << reply << "\",bounce\n";
    } else {
        out << R"({"event":"bounce","email":"first@example.com","timestamp":1709290000,)"
            << R"("reason":"550 5.1.1 user unknown","status":"5.1.1","type":"bounce"})" << '\n';
        out << R"({"event":"bounce","email":"user@example.com","timestamp":1709290001,"reason":")" << reply
            << R"(","status":"5.1.1","type":"bounce"})" << '\n';
    }
}

class ImportMemory : public ::testing::TestWithParam<std::string>
{
};

TEST_P(ImportMemory, AFiftyMegabyteFieldCostsAtMostThreeTimesItsSize)
{
    const fs::path dir = fs::temp_directory_path() / ("bt-memory-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    constexpr std::size_t kField = 50u << 20;
    const std::string ext = GetParam() == "csv" ? ".csv" : ".jsonl";
    const fs::path small = dir / ("small" + ext), huge = dir / ("huge" + ext);
    writeHugeRecord(small, GetParam(), 100);
    writeHugeRecord(huge, GetParam(), kField);

    const auto base = runMeasured({"import", "--workspace", (dir / "small.btw").string(), small.string()});
    ASSERT_EQ(base.exitCode, 0);
    const auto peak = runMeasured({"import", "--workspace", (dir / "huge.btw").string(), huge.string()});
    ASSERT_EQ(peak.exitCode, 0);
    const double fieldMb = double(kField) / (1 << 20);
    const double peakMb = double(peak.maxRssKb) / 1024, baseMb = double(base.maxRssKb) / 1024;
    std::cout << GetParam() << ": peak RSS " << peakMb << " MB for a " << fieldMb << " MB field (" << peakMb / fieldMb
              << "x); a 100-byte field: " << baseMb << " MB\n";
    // The whole process, the knowledge tables and SQLite's cache included.
    EXPECT_LE(peakMb, 3 * fieldMb);
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Formats, ImportMemory, ::testing::Values("csv", "json"),
                         [](const auto& info) { return info.param; });

} // namespace
