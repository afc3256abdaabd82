// SPDX-License-Identifier: MIT
// Bounce emails per second over the real corpus (maildir/bsd), split into MIME parsing
// (parseEmail: the byte scan, GMime where it declines; and GMime alone) and the whole reader
// (formats, reply parsing, classification), one thread.
#include "bounce.h"
#include "classifier.h"
#include "email.h"
#include "knowledge.h"
#include "mailsource.h"
#include "private/mimescan.h"

#include <benchmark/benchmark.h>

namespace
{

const std::vector<std::string>& corpus()
{
    static const std::vector<std::string> messages = [] {
        std::vector<std::string> out;
        bt::forEachMessage(
            std::string(BT_SHARED_DIR) + "/corpus/sisimai/maildir/bsd",
            [&](bt::SourceMessage&& m) {
                out.push_back(std::move(m.bytes));
                return true;
            },
            [](const std::string&, const std::string&) {});
        return out;
    }();
    return messages;
}

void BM_ParseEmailOnly(benchmark::State& state)
{
    const auto& msgs = corpus();
    std::size_t n = 0;
    for (auto _ : state)
        for (const auto& m : msgs) {
            benchmark::DoNotOptimize(bt::parseEmail(m));
            ++n;
        }
    state.counters["messages/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseEmailOnly)->Unit(benchmark::kMillisecond);

// The same messages read by GMime alone (its tree, our walker over it), as parseEmail did for
// every message before the byte scan: the scan's gain side by side.
void BM_ParseEmailGMimeOnly(benchmark::State& state)
{
    const auto& msgs = corpus();
    std::size_t n = 0;
    for (auto _ : state)
        for (const auto& m : msgs) {
            benchmark::DoNotOptimize(bt::mimescan::parseEmailWith(m, bt::mimescan::Reader::GMimeOnly));
            ++n;
        }
    state.counters["messages/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseEmailGMimeOnly)->Unit(benchmark::kMillisecond);

void BM_ReadBounce(benchmark::State& state)
{
    const auto& msgs = corpus();
    const bt::BounceReader reader(std::make_shared<bt::Classifier>(bt::KnowledgeBase::loadDefault()));
    std::size_t n = 0;
    for (auto _ : state)
        for (const auto& m : msgs) {
            benchmark::DoNotOptimize(reader.read(m));
            ++n;
        }
    state.counters["messages/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadBounce)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
