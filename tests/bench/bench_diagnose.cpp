// SPDX-License-Identifier: MIT
// Diagnoses per second over the real fixture replies, repeated to at least 100 000 lines,
// on one thread. No cache: every line is parsed and classified from scratch.
//   build/release/tests/bench/bench_diagnose --benchmark_counters_tabular=true
#include "classifier.h"
#include "knowledge.h"
#include "replyparser.h"

#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>

namespace
{

std::vector<std::string> fixtureReplies()
{
    std::vector<std::string> replies;
    std::ifstream in(std::string(BT_SHARED_DIR) + "/fixtures/replies.tsv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto a = line.find('\t');
        const auto b = line.find('\t', a + 1);
        if (a != std::string::npos && b != std::string::npos)
            replies.push_back(line.substr(a + 1, b - a - 1));
    }
    return replies;
}

std::vector<std::string> corpusLines(std::size_t atLeast)
{
    const auto base = fixtureReplies();
    std::vector<std::string> lines;
    if (base.empty())
        return lines;
    while (lines.size() < atLeast)
        lines.insert(lines.end(), base.begin(), base.end());
    return lines;
}

void BM_DiagnoseFixtureLines(benchmark::State& state)
{
    const auto lines = corpusLines(100000);
    if (lines.empty()) {
        state.SkipWithError("replies.tsv not found");
        return;
    }
    const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    std::size_t done = 0;
    for (auto _ : state) {
        for (const auto& l : lines)
            benchmark::DoNotOptimize(c.diagnoseText(l));
        done += lines.size();
    }
    state.counters["diagnoses/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
    state.counters["lines"] = static_cast<double>(lines.size());
}
BENCHMARK(BM_DiagnoseFixtureLines)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_ParseOnly(benchmark::State& state)
{
    const auto lines = corpusLines(100000);
    std::size_t done = 0;
    for (auto _ : state) {
        for (const auto& l : lines)
            benchmark::DoNotOptimize(bt::primaryReply(l));
        done += lines.size();
    }
    state.counters["replies/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ParseOnly)->Unit(benchmark::kMillisecond);

void BM_LoadKnowledgeAndCompile(benchmark::State& state)
{
    for (auto _ : state) {
        const bt::Classifier c(bt::KnowledgeBase::loadDefault());
        benchmark::DoNotOptimize(&c);
    }
}
BENCHMARK(BM_LoadKnowledgeAndCompile)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
