// SPDX-License-Identifier: MIT
// Watching (issue 15): what following a busy Postfix log costs. A log of 200 000 delivery lines
// (one in three a bounce, the wording of tests/data/postfix-mail.log; four big providers and 300
// company domains no table knows) is read by a watched
// `log:` source in looks of 1 000, 10 000 and 100 000 new lines — each look a readSource() with
// its import, context lines and state — and a look that finds nothing new (what every idle
// interval costs). Also a maildir look with 10 000 messages already read and none new.
#include "classifier.h"
#include "knowledge.h"
#include "watch.h"
#include "workspace.h"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace
{

namespace fs = std::filesystem;

const bt::Classifier& classifier()
{
    static const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    return c;
}

/// Postfix lines for messages [from, from + n): a qmgr line and a delivery line each.
std::string postfixLines(int from, int n)
{
    std::string text;
    text.reserve(static_cast<std::size_t>(n) * 420);
    for (int k = from; k < from + n; ++k) {
        char queue[16], stamp[32];
        std::snprintf(queue, sizeof queue, "%010X", 0x100000 + k);
        std::snprintf(stamp, sizeof stamp, "Apr 11 %02d:%02d:%02d", 8 + (k / 3600) % 12, (k / 60) % 60, k % 60);
        // Most mail to the big providers, the rest spread over 300 company domains no table knows.
        static const char* big[] = {"gmail.com", "outlook.com", "yahoo.com", "gmx.de"};
        const std::string domain = k % 5 == 4 ? "corp" + std::to_string(k % 300) + ".example" : big[k % 4];
        const std::string to = "user" + std::to_string(k) + "@" + domain;
        text += std::string(stamp) + " mx1 postfix/qmgr[1200]: " + queue
            + ": from=<news@shop.example.com>, size=5120, nrcpt=1 (queue active)\n";
        if (k % 3 == 0)
            text += std::string(stamp) + " mx1 postfix/smtp[31378]: " + queue + ": to=<" + to + ">, relay=mx." + domain
                + "[192.0.2.1]:25, delay=0.19, delays=0.15/0.01/0.01/0.03, dsn=5.1.1, "
                  "status=bounced (host mx."
                + domain + "[192.0.2.1] said: 550 5.1.1 <" + to
                + ">: Recipient address rejected: User unknown (in reply to RCPT TO command))\n";
        else
            text += std::string(stamp) + " mx1 postfix/smtp[31378]: " + queue + ": to=<" + to + ">, relay=mx." + domain
                + "[192.0.2.27]:25, delay=0.54, delays=0.01/0/0.41/0.12, "
                  "dsn=2.0.0, status=sent (250 2.0.0 OK 1440513425 ph9si16159802lbb.120 - gsmtp)\n";
    }
    return text;
}

struct Scratch {
    fs::path dir;
    Scratch()
    {
        dir = fs::temp_directory_path() / ("bt-bench-watch-" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~Scratch() { fs::remove_all(dir); }
};

/// A log of 200 000 messages followed in looks of `state.range(0)` new messages each.
void BM_FollowLog(benchmark::State& state)
{
    const int step = static_cast<int>(state.range(0));
    constexpr int kMessages = 200000;
    std::int64_t lines = 0;
    for (auto _ : state) {
        state.PauseTiming();
        Scratch s;
        const fs::path log = s.dir / "mail.log";
        std::ofstream(log) << postfixLines(0, 1);
        bt::Workspace ws((s.dir / "w.btw").string());
        const auto id = bt::addSource(ws, "log:" + log.string());
        bt::readSource(ws, classifier(), *bt::findSource(ws, std::to_string(id)));
        state.ResumeTiming();
        for (int at = 1; at < kMessages; at += step) {
            state.PauseTiming();
            std::ofstream(log, std::ios::app) << postfixLines(at, std::min(step, kMessages - at));
            const auto source = *bt::findSource(ws, std::to_string(id));
            state.ResumeTiming();
            lines += bt::readSource(ws, classifier(), source).items;
        }
        state.PauseTiming();
        if (bt::findSource(ws, std::to_string(id))->events != kMessages)
            state.SkipWithError("not every delivery line became one event");
        state.ResumeTiming();
    }
    state.counters["lines/s"] = benchmark::Counter(static_cast<double>(lines), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FollowLog)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->Iterations(1);

/// A look at a followed 200 000-message log with nothing new: the cost of every idle interval.
void BM_IdleLookLog(benchmark::State& state)
{
    Scratch s;
    const fs::path log = s.dir / "mail.log";
    std::ofstream(log) << postfixLines(0, 200000);
    bt::Workspace ws((s.dir / "w.btw").string());
    const auto id = bt::addSource(ws, "log:" + log.string());
    bt::readSource(ws, classifier(), *bt::findSource(ws, std::to_string(id)));
    for (auto _ : state) {
        const auto source = *bt::findSource(ws, std::to_string(id));
        if (bt::readSource(ws, classifier(), source).items != 0)
            state.SkipWithError("an idle look read something");
    }
}
BENCHMARK(BM_IdleLookLog)->Unit(benchmark::kMicrosecond);

/// A look at a maildir of 10 000 messages already read, none new.
void BM_IdleLookMaildir(benchmark::State& state)
{
    Scratch s;
    const fs::path md = s.dir / "md";
    for (const char* sub : {"new", "cur", "tmp"})
        fs::create_directories(md / sub);
    const fs::path sample = fs::path(BT_SHARED_DIR) / "corpus" / "sisimai" / "maildir" / "bsd" / "lhost-postfix-01.eml";
    for (int i = 0; i < 10000; ++i)
        fs::copy_file(sample, md / "cur" / (std::to_string(1700000000 + i) + ".M" + std::to_string(i) + "P1.host:2,S"));
    bt::Workspace ws((s.dir / "w.btw").string());
    const auto id = bt::addSource(ws, "maildir:" + md.string());
    bt::readSource(ws, classifier(), *bt::findSource(ws, std::to_string(id)));
    for (auto _ : state) {
        const auto source = *bt::findSource(ws, std::to_string(id));
        if (bt::readSource(ws, classifier(), source).items != 0)
            state.SkipWithError("an idle look read something");
    }
}
BENCHMARK(BM_IdleLookMaildir)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
